import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn.nn.summary import model_flops
from tests.engine.op_cases import lenet_pair


def test_default_init_follows_pytorch_bounds():
    gc.manual_seed(0)
    conv = gc.nn.Conv2d(6, 16, 5)
    linear = gc.nn.Linear(400, 120)
    for layer, fan_in in ((conv, 6 * 25), (linear, 400)):
        bound = 1 / np.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            values = p.numpy()
            assert values.min() >= -bound and values.max() <= bound
            # Uniform's std is bound / sqrt(3); its sample estimate's relative standard error
            # is sqrt((kurtosis - 1) / 4n) = sqrt(0.2 / n): allow four of them.
            assert values.std() == pytest.approx(bound / np.sqrt(3),
                                                 rel=4 * np.sqrt(0.2 / values.size))


def test_manual_seed_makes_init_reproducible():
    gc.manual_seed(7)
    a = gc.nn.Linear(5, 4).weight.numpy()
    gc.manual_seed(7)
    b = gc.nn.Linear(5, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)


def test_parameters_modes_and_repr():
    model, _ = lenet_pair()
    names = [name for name, _ in model.named_parameters()]
    assert names[:2] == ["0.weight", "0.bias"] and len(names) == 10
    assert sum(p.numel() for p in model.parameters()) == 61706
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    assert "(0): Conv2d(1, 6, kernel_size=(5, 5)" in repr(model)


def test_bias_false_has_no_bias_key():
    model = gc.nn.Sequential(gc.nn.Conv2d(2, 3, 3, bias=False), gc.nn.Flatten(), gc.nn.Linear(3, 2, bias=False))
    assert list(model.state_dict()) == ["0.weight", "2.weight"]


def test_no_grad_records_no_graph():
    x = gc.tensor(np.ones((2, 2)), requires_grad=True)
    with gc.no_grad():
        y = x * 3.0
    assert not y.requires_grad and y.is_leaf


def test_gradients_accumulate_across_backward_calls():
    x = gc.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 + 2 * x.numpy(), rtol=1e-6)


def test_numpy_is_a_copy_and_detach_leaves_the_graph():
    source = np.array([1.0, 2.0], np.float32)
    x = gc.tensor(source)
    x.numpy()[0] = 99.0
    assert x.numpy()[0] == 1.0
    y = (gc.tensor(source, requires_grad=True) * 2.0).detach()
    assert not y.requires_grad


def test_tensor_dtypes():
    assert gc.tensor(np.zeros(2, np.float64)).dtype == gc.float32
    assert gc.tensor([1, 2]).dtype == gc.int64
    assert gc.tensor(3.5).shape == ()
    with pytest.raises(TypeError, match="cannot make a tensor"):
        gc.tensor(np.array(["a"]))


def test_summary_table(capsys):
    model, _ = lenet_pair()
    info = model.summary((1, 28, 28))
    out = capsys.readouterr().out
    assert "61,706" in out and "Conv2d" in out and "(16, 5, 5)" in out
    # FLOPs count 2 per multiply-add of conv and linear layers, nothing else (gpucnn.nn.summary):
    # conv1 has 6*28*28 outputs of 25 taps each; the bench counts the same.
    assert info["rows"][0][3] == 2 * 6 * 28 * 28 * 25
    assert info["rows"][1][3] == 0          # ReLU
    assert info["flops_per_image"] == model_flops(model, (1, 28, 28))[0] == 833_040
    assert info["total_params"] == 61706


def test_interop_with_numpy_and_torch_on_cpu():
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    g = gc.from_dlpack(t)
    assert g.shape == (2, 3) and g.device == "cpu"
    t[0, 0] = 42.0
    assert g.numpy()[0, 0] == 42.0  # zero-copy
    back = torch.from_dlpack(g)
    assert back.shape == (2, 3) and float(back[0, 0]) == 42.0
    with pytest.raises(TypeError, match="float32, int64, int32 or bool"):
        gc.from_dlpack(torch.zeros(3, dtype=torch.float64))


def test_a_view_taken_before_load_state_dict_sees_the_loaded_weights():
    model = gc.nn.Linear(4, 3)
    view = torch.from_dlpack(model.weight)   # shares the parameter's memory
    weights = np.random.default_rng(0).uniform(-1, 1, (3, 4)).astype(np.float32)
    model.load_state_dict({"weight": weights, "bias": np.zeros(3, np.float32)})
    np.testing.assert_array_equal(view.numpy(), weights)


def test_from_dlpack_survives_an_interface_property_that_raises():
    class RaisingInterface:
        """Like a CUDA torch tensor that requires grad: the property raises, not AttributeError."""
        @property
        def __cuda_array_interface__(self):
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad")

        def __dlpack__(self, *args, **kwargs):
            return np.arange(3, dtype=np.float32).__dlpack__(*args, **kwargs)

        def __dlpack_device__(self):
            return (1, 0)

    t = gc.from_dlpack(RaisingInterface())
    assert t.numpy().tolist() == [0.0, 1.0, 2.0]


def test_from_dlpack_refuses_non_contiguous_data():
    with pytest.raises(ValueError, match="C-contiguous"):
        gc.from_dlpack(torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, ::2])
