"""Bad input raises a clear ValueError/TypeError naming the op (or layer) and the shapes,
before any kernel runs."""
import numpy as np
import pytest

import gpucnn as gc
import gpucnn.nn.functional as F


def t(*shape, requires_grad=False):
    return gc.tensor(np.random.default_rng(0).uniform(-1, 1, shape), requires_grad=requires_grad)


def test_channel_mismatch(no_kernels):
    with pytest.raises(ValueError, match=r"conv2d: weight \(5, 3, 3, 3\) expects 3 input channels.*input \(2, 4, 8, 8\) has 4"):
        F.conv2d(t(2, 4, 8, 8), t(5, 3, 3, 3))


def test_wrong_rank(no_kernels):
    with pytest.raises(ValueError, match=r"conv2d: input must be 4-D.*\(4, 8, 8\)"):
        F.conv2d(t(4, 8, 8), t(5, 4, 3, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: input must be 4-D"):
        F.max_pool2d(t(4, 8), 2)
    with pytest.raises(ValueError, match=r"linear: input must be 2-D"):
        F.linear(t(2, 3, 4), t(5, 4))
    with pytest.raises(ValueError, match=r"linear: input \(2, 3\) has 3 features.*\(5, 4\)"):
        F.linear(t(2, 3), t(5, 4))


def test_kernel_larger_than_padded_input(no_kernels):
    with pytest.raises(ValueError, match=r"larger than the padded input 6x6"):
        F.conv2d(t(1, 1, 4, 4), t(1, 1, 7, 7), padding=1)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel .* larger"):
        F.max_pool2d(t(1, 1, 3, 3), 4)


def test_same_padding_with_stride(no_kernels):
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(t(1, 1, 8, 8), t(1, 1, 3, 3), stride=2, padding="same")


def test_labels_out_of_range(no_kernels):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\).*\[7\]"):
        F.cross_entropy(t(3, 4), gc.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match=r"labels must lie"):
        F.cross_entropy(t(3, 4), gc.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="3 labels"):
        F.cross_entropy(t(2, 4), gc.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="integer class labels"):
        F.cross_entropy(t(3, 4), gc.tensor([0.0, 1.0, 1.0]))


def test_integer_tensors_into_float_ops(no_kernels):
    ints = gc.tensor([[1, 2], [3, 4]])
    assert ints.dtype == gc.int64
    with pytest.raises(TypeError, match=r"linear: input must be a float tensor, got gpucnn.int64"):
        F.linear(ints, t(3, 2))
    with pytest.raises(TypeError, match="matmul: expected float32 tensors, got int64"):
        ints @ ints
    with pytest.raises(TypeError, match="conv2d: input must be a float tensor"):
        F.conv2d(gc.tensor(np.ones((1, 1, 4, 4), np.int32)), t(1, 1, 3, 3))
    with pytest.raises(TypeError, match="only float tensors can require gradients"):
        gc.tensor([1, 2], requires_grad=True)


def test_shapes_that_do_not_broadcast(no_kernels):
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        t(2, 3) + t(4)
    with pytest.raises(RuntimeError, match=r"mul: shapes \(5, 1, 3\) and \(2, 2\)"):
        t(5, 1, 3) * t(2, 2)   # PyTorch raises RuntimeError: the error is both


def test_backward_on_non_scalar_needs_grad():
    x = t(2, 3, requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"only for scalar outputs \(shape \(2, 3\)\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\)"):
        y.backward(np.ones(3, np.float32))


def test_backward_twice_is_refused():
    x = t(3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed"):
        loss.backward()


def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(gc.cuda, "is_available", lambda: False)  # as on a machine with no GPU
    with pytest.raises(RuntimeError, match="no CUDA GPU is available"):
        gc.tensor([1.0], device="cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        gc.tensor([1.0], device="tpu")


def test_layer_named_in_sequential_errors():
    model = gc.nn.Sequential(gc.nn.Conv2d(1, 4, 3), gc.nn.ReLU(), gc.nn.Conv2d(3, 2, 3))
    with pytest.raises(ValueError, match=r"layer '2' Conv2d\(3, 2.*4 channels|layer '2' Conv2d\(3, 2.*expects 3"):
        model(t(1, 1, 8, 8))


def test_load_state_dict_names_bad_keys():
    model = gc.nn.Sequential(gc.nn.Linear(4, 3), gc.nn.ReLU(), gc.nn.Linear(3, 2))
    state = model.state_dict()
    before = {k: v.numpy() for k, v in state.items()}
    state.pop("2.bias")
    state["9.weight"] = np.zeros(1, np.float32)
    state["0.weight"] = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing keys ['2.bias']" in message
    assert "unexpected keys ['9.weight']" in message
    assert "0.weight: got (5, 4), expected (3, 4)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # nothing was half-loaded


def test_optimizer_hyperparameters_are_checked():
    params = [gc.nn.Parameter(np.ones(3, np.float32))]
    with pytest.raises(ValueError, match="learning rate -0.1"):
        gc.optim.SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        gc.optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        gc.optim.Adam(params, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        gc.optim.Adam([])
