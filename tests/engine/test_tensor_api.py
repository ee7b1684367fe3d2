"""The Tensor API against PyTorch on "cpu": every case of tensor_cases.py (the same code run on
gpucnn and on torch), gradients checked by gc.gradcheck too, and the API surface a script
touches: dtypes and devices as objects, conversions, the autograd surface, in-place rules and
the errors for what gpucnn does not support."""
import math

import numpy as np
import pytest
import torch

import gpucnn as gc
from tests.engine.tensor_cases import GRAD_CASES, VALUE_CASES
from tests.helpers import check_op

TORCH_DTYPES = {torch.float64: gc.float32, torch.float32: gc.float32, torch.int64: gc.int64,
                torch.int32: gc.int32, torch.bool: gc.bool}


def run_grad_case(case, device, seed=1):
    _, fn, make = case
    inputs = make(np.random.default_rng(seed))
    return check_op(lambda *xs: fn(gc, *xs), lambda *xs: fn(torch, *xs), inputs, device=device)


def run_value_case(case, device, seed=1):
    _, fn, make = case
    arrays = make(np.random.default_rng(seed))
    ours = fn(gc, *[gc.tensor(a, device=device) for a in arrays])
    theirs = fn(torch, *[torch.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a)
                         for a in arrays])
    assert ours.device == device
    assert ours.dtype is TORCH_DTYPES[theirs.dtype], (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    expected = theirs.numpy()
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(ours.numpy(), expected)


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c[0])
def test_differentiable_op_matches_torch(case):
    run_grad_case(case, "cpu")


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c[0])
def test_op_values_match_torch(case):
    run_value_case(case, "cpu")


@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c[0] not in
                                  ("sum_of_empty_dim", "cat_with_empty")], ids=lambda c: c[0])
def test_gradcheck(case):
    _, fn, make = case
    arrays = make(np.random.default_rng(2))
    inputs = [gc.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert gc.gradcheck(lambda *xs: fn(gc, *xs), inputs, eps=1e-2, atol=2e-2, rtol=2e-2)


# ================================================================ dtypes and devices

def test_dtypes_are_objects():
    x = gc.tensor([1.0, 2.0])
    assert x.dtype == gc.float32 and x.dtype is gc.float
    assert gc.tensor([1, 2]).dtype == gc.int64 == gc.long
    assert gc.tensor([True]).dtype == gc.bool
    assert gc.tensor([1, 2], dtype=gc.int32).dtype == gc.int32 == gc.int
    assert x.long().dtype == gc.int64 and x.int().dtype == gc.int32 and x.bool().dtype == gc.bool
    assert x.to(gc.int64).float().dtype == gc.float32 and x.type(gc.int32).dtype == gc.int32
    assert x.type() == "gpucnn.FloatTensor" and x.is_floating_point()
    assert repr(gc.float32) == "gpucnn.float32" and x.element_size() == 4


@pytest.mark.parametrize("name", ["float64", "float16", "bfloat16", "uint8", "int8", "complex64"])
def test_unsupported_dtypes_are_refused_by_name(name):
    dtype = getattr(gc, name)
    with pytest.raises(TypeError, match=f"{name} is not supported.*float32, int64, int32 or bool"):
        gc.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match=name):
        gc.tensor([1.0]).to(dtype)
    with pytest.raises(TypeError, match="float64"):
        gc.tensor([1.0]).double()


def test_devices_are_objects():
    x = gc.tensor([1.0])
    assert x.device == "cpu" and x.device.type == "cpu" and x.device == gc.device("cpu")
    cuda0 = gc.device("cuda:0")
    assert cuda0.type == "cuda" and cuda0.index == 0 and repr(cuda0) == \
        "device(type='cuda', index=0)"
    assert gc.device("cuda", 1).index == 1
    with pytest.raises(ValueError, match="unknown device"):
        gc.device("tpu")
    assert x.to(x) is x and x.cpu() is x and x.to("cpu") is x
    assert gc.accelerator.is_available() == gc.cuda.is_available()
    assert gc.accelerator.current_accelerator() is None or \
        gc.accelerator.current_accelerator().type == "cuda"
    assert gc.cuda.device_count() >= 0
    if not gc.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            x.cuda()


def test_type_promotion_follows_pytorch():
    i, f = gc.tensor([1, 2]), gc.tensor([0.5, 1.5])
    assert (i + f).dtype == gc.float32 and (i + 2.5).dtype == gc.float32
    assert (i + 2).dtype == gc.int64 and (i / 2).dtype == gc.float32 and (i / i).dtype == gc.float32
    assert (i.int() + 1).dtype == gc.int32 and (i.int() + i).dtype == gc.int64
    assert (gc.tensor(True) + i).dtype == gc.int64
    assert (i + gc.tensor(1.5)).dtype == gc.float32      # a 0-dim float raises the category
    assert (f + gc.tensor(3)).dtype == gc.float32        # a 0-dim int does not
    assert (i.int() + gc.tensor(3)).dtype == gc.int32    # nor within the integers
    assert ((i > 0) + (i > 1)).dtype == gc.bool


# ================================================================ Python conversions

def test_python_conversions():
    loss = gc.tensor(2.5)
    assert float(loss) == 2.5 and int(gc.tensor(7)) == 7 and bool(gc.tensor([1]))
    assert loss.item() == 2.5 and f"{loss:.2f}" == "2.50"
    assert [10, 20, 30][gc.tensor(1)] == 20 and range(10)[gc.tensor(3)] == 3
    assert gc.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    x = gc.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(ValueError, match="2 elements cannot be converted to Scalar"):
        float(x)
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][gc.tensor(0.0)]
    assert np.array_equal(np.asarray(x), [1.0, 2.0]) and x.numpy().dtype == np.float32


def test_sizes_and_iteration():
    x = gc.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.shape[0] == 2
    assert isinstance(x.size(), gc.Size) and repr(x.size()) == "gpucnn.Size([2, 3, 4])"
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert [row.shape for row in x] == [(3, 4), (3, 4)]
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)
    with pytest.raises(TypeError, match="0-d"):
        len(gc.tensor(1.0))


def test_tensors_stay_hashable_while_eq_is_elementwise():
    a, b = gc.tensor([1.0, 2.0]), gc.tensor([1.0, 3.0])
    assert (a == b).tolist() == [True, False]
    seen = {a: "a", b: "b"}
    assert seen[a] == "a" and len({a, b, a}) == 2


# ================================================================ creation

def test_tensor_copies_and_from_numpy_shares():
    source = np.arange(4, dtype=np.float32)
    copied, shared, as_t = gc.tensor(source), gc.from_numpy(source), gc.as_tensor(source)
    source[0] = 9
    assert copied[0].item() == 0 and shared[0].item() == 9 and as_t[0].item() == 9
    assert gc.as_tensor(copied) is copied
    assert gc.tensor([gc.tensor(1.0), gc.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_random_factories_are_seeded_and_shaped():
    gc.manual_seed(0)
    a, b, c = gc.rand(2, 3), gc.randn(4), gc.randint(0, 5, (3, 3))
    gc.manual_seed(0)
    assert gc.rand(2, 3).equal(a) and gc.randn(4).equal(b) and gc.randint(0, 5, (3, 3)).equal(c)
    assert a.dtype == gc.float32 and c.dtype == gc.int64 and (a >= 0).all() and (a < 1).all()
    assert ((c >= 0) & (c < 5)).all() and gc.randint(10, (2,)).shape == (2,)
    assert gc.rand(3, requires_grad=True).requires_grad
    x = gc.empty(1000).uniform_(-2, 3)
    assert float(x.min()) >= -2 and float(x.max()) < 3
    assert abs(float(gc.empty(20000).normal_(1.0, 2.0).mean()) - 1.0) < 0.1
    perm = gc.randperm(10)
    assert sorted(perm.tolist()) == list(range(10))


def test_arange_linspace_match_torch():
    for args in [(5,), (1, 4), (0, 1, 0.1), (10, 0, -3), (-2.5, 2.5, 0.5)]:
        assert np.allclose(gc.arange(*args).numpy(), torch.arange(*args).numpy())
        assert gc.arange(*args).dtype is TORCH_DTYPES[torch.arange(*args).dtype]
    for start, end, steps in [(0, 1, 5), (-3, 7, 11), (2, 2, 1), (0, 1, 0)]:
        assert np.allclose(gc.linspace(start, end, steps).numpy(),
                           torch.linspace(start, end, steps).numpy(), atol=1e-6)


# ================================================================ autograd surface

def test_autograd_surface():
    w = gc.tensor([1.0, -2.0, 3.0], requires_grad=True)
    assert w.is_leaf and w.grad_fn is None
    y = (w * 2).relu()
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    y.retain_grad()
    loss = y.sum()
    loss.backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0] and y.grad.tolist() == [1.0, 1.0, 1.0]
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    z = w * 3
    z.detach_()
    assert z.grad_fn is None and not z.requires_grad
    data = w.data
    assert isinstance(data, gc.Tensor) and not data.requires_grad
    data[0] = 5.0
    assert w[0].item() == 5.0     # .data shares storage


def test_grad_modes():
    w = gc.tensor([1.0], requires_grad=True)
    with gc.no_grad():
        assert not (w * 2).requires_grad
        with gc.enable_grad():
            assert (w * 2).requires_grad
    with gc.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad
    gc.set_grad_enabled(False)
    assert not gc.is_grad_enabled()
    gc.set_grad_enabled(True)
    with gc.inference_mode():
        assert not (w * 2).requires_grad

    @gc.no_grad()
    def f(x):
        return x * 2

    @gc.no_grad
    def g(x):
        return x * 2

    assert not f(w).requires_grad and not g(w).requires_grad and gc.is_grad_enabled()


def test_inplace_rules_match_pytorch():
    w = gc.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 3.0
    with gc.no_grad():
        w.add_(1.0)             # an optimizer's update
    assert w.tolist() == [2.0, 3.0]
    x = gc.tensor([1.0, 2.0, 3.0])
    y = w.sum() * x             # saves x for w's gradient
    x.mul_(10)                  # outside autograd: allowed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    out = w * 2
    out += 1                    # x += y inside autograd: in place, recorded (inplace.py)
    out.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
    e = gc.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1)


def test_views_share_memory_and_version():
    base = gc.zeros(3, 4)
    view = base.t()[1:]
    view.fill_(2.0)
    assert base.sum().item() == 2.0 * 3 * 3
    row = base[0]
    row += 1
    assert base[0].tolist() == [1.0, 3.0, 3.0, 3.0]
    assert base.t().stride() == (1, 4) and not base.t().is_contiguous()
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*reshape"):
        base.t().view(12)
    assert base.t().reshape(12).shape == (12,)


# ================================================================ errors that name the way

def test_errors_name_the_problem():
    x = gc.zeros(2, 3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        x[gc.tensor([0, 7])]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 6"):
        x.reshape(4, 4)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        x @ x
    with pytest.raises(NotImplementedError, match="create_graph"):
        gc.tensor([1.0], requires_grad=True).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="register_forward_hook"):
        x.register_hook(lambda g: g)
    with pytest.raises(IndexError, match="mask"):
        x[gc.tensor([True, False, True])]
    with pytest.raises(RuntimeError, match="mean.*Long|mean.*int64"):
        gc.tensor([1, 2]).mean()
    with pytest.raises(IndexError, match="non-zero size"):
        gc.zeros(0, 3).max(0)
    assert math.isnan(gc.zeros(0).mean().item())


# ================================================================ what real scripts do

def test_idioms_of_well_known_pytorch_scripts():
    """Tensor lines of the official MNIST example, the CIFAR-10 classifier tutorial, a CIFAR
    ResNet's training loop, d2l's LeNet and the neural-networks tutorial, run as written."""
    torch_like = gc
    rng = np.random.default_rng(0)
    outputs = torch_like.tensor(rng.uniform(-1, 1, (8, 10)))
    labels = torch_like.tensor(rng.integers(0, 10, 8))
    # CIFAR-10 tutorial
    _, predicted = torch_like.max(outputs.data, 1)
    total = labels.size(0)
    correct = (predicted == labels).sum().item()
    classes = [str(i) for i in range(10)]
    correct_pred = {c: 0 for c in classes}
    for label, prediction in zip(labels, predicted):
        if label == prediction:
            correct_pred[classes[label]] += 1
    assert sum(correct_pred.values()) == correct and total == 8
    # MNIST example
    pred = outputs.argmax(dim=1, keepdim=True)
    assert pred.eq(labels.view_as(pred)).sum().item() == correct
    # ResNet training loop
    _, predicted2 = outputs.max(1)
    accuracy = 100. * predicted2.eq(labels).sum().item() / labels.size(0)
    assert accuracy == 100.0 * correct / 8
    # d2l
    y_hat_matches = outputs.argmax(axis=1).type(labels.dtype) == labels
    assert float(y_hat_matches.type(labels.dtype).sum()) == correct
    x = torch_like.randn(size=(1, 1, 28, 28), dtype=torch_like.float32)
    assert x.shape == (1, 1, 28, 28)
    # neural-networks tutorial
    w = torch_like.tensor(rng.uniform(-1, 1, (10, 4)), requires_grad=True)
    out = torch_like.randn(1, 4) @ w.t()
    loss = ((out - torch_like.randn(10).view(1, -1)) ** 2).mean()
    assert "Backward" in repr(loss.grad_fn) and loss.grad_fn.next_functions[0][0] is not None
    loss.backward()
    with torch_like.no_grad():
        w.data.sub_(w.grad.data * 0.01)
    assert w.grad.shape == (10, 4)
    flat = outputs.view(outputs.size(0), -1)
    assert flat.shape == (8, 10) and len(outputs) == 8 and outputs[3].shape == (10,)
