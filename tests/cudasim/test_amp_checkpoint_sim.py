"""On device="cuda" under the simulator: layers made with device="cuda" (the same weights as
on "cpu", reset_parameters() in place), the tensor flags of "cuda" tensors, gpucnn.device(0),
autocast("cuda"), GradScaler on "cuda" beside the same run on "cpu" (an injected inf, a
growth), the optimizers' implementation switches, and checkpoint with dropout on "cuda"."""
import numpy as np
import pytest

import gpucnn as gc
from gpucnn.utils.checkpoint import checkpoint, checkpoint_sequential


def test_layers_made_on_cuda_hold_the_cpu_layers_weights():
    for make in (lambda **kw: gc.nn.Conv2d(3, 4, 3, **kw), lambda **kw: gc.nn.Linear(5, 2, **kw),
                 lambda **kw: gc.nn.BatchNorm2d(4, **kw)):
        gc.manual_seed(17)
        on_cpu = make()
        gc.manual_seed(17)
        on_cuda = make(device="cuda", dtype=gc.float32)
        for (name, a), (_, b) in zip(on_cpu.state_dict().items(), on_cuda.state_dict().items()):
            assert b.device == "cuda", name
            np.testing.assert_array_equal(a.numpy(), b.cpu().numpy(), err_msg=name)
    layer = gc.nn.Linear(5, 2, device="cuda")
    weight = layer.weight
    gc.manual_seed(3)
    layer.reset_parameters()
    gc.manual_seed(3)
    reference = gc.nn.Linear(5, 2)
    assert layer.weight is weight and layer.weight.device == "cuda"
    np.testing.assert_array_equal(layer.weight.cpu().numpy(), reference.weight.numpy())


def test_cuda_tensor_flags_and_int_devices():
    x = gc.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), device="cuda")
    assert x.is_cuda and not x.is_cpu and not x.is_xpu and x.is_shared() and not x.is_pinned()
    assert x.is_set_to(x.view(3, 4)) and not x.is_set_to(x[1:]) and not x.is_set_to(x.t())
    assert not x.is_set_to(x.cpu())
    assert gc.device(0) == gc.device("cuda:0") and gc.device(0).type == "cuda"
    with gc.inference_mode():
        y = x * 2
    assert y.is_inference() and not x.is_inference()


def test_autocast_on_cuda_keeps_float32():
    from gpucnn.amp import autocast_mode
    autocast_mode._warned_float32 = True   # the notice itself is tested on the CPU
    x = gc.tensor(np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32),
                  device="cuda")
    layer = gc.nn.Linear(4, 2, device="cuda")
    with gc.autocast("cuda"):
        assert gc.is_autocast_enabled() and gc.get_autocast_dtype("cuda") == gc.float16
        out = layer(x)
    assert out.dtype == gc.float32 and not gc.is_autocast_enabled("cuda")
    np.testing.assert_array_equal(out.cpu().numpy(), layer(x).cpu().numpy())


def scaled_run(device):
    """Eight GradScaler iterations (growth_interval 3, an inf at 2) on device: the params,
    scales and growth trackers after each."""
    gc.manual_seed(11)
    layer = gc.nn.Linear(4, 3, device=device)
    opt = gc.optim.SGD(layer.parameters(), lr=0.05, momentum=0.9, foreach=True)
    scaler = gc.amp.GradScaler(device, init_scale=1024.0, growth_interval=3)
    rng = np.random.default_rng(12)
    history = []
    for step in range(8):
        opt.zero_grad()
        x = gc.tensor(rng.normal(size=(5, 4)).astype(np.float32), device=device)
        scaler.scale((layer(x) ** 2).mean()).backward()
        if step == 2:
            g = layer.bias.grad.cpu().numpy()
            g[1] = np.inf
            layer.bias.grad = gc.tensor(g, device=device)
        scaler.step(opt)
        scaler.update()
        assert scaler._scale.device == device
        history.append((layer.weight.cpu().numpy().copy(), scaler.get_scale(),
                        scaler.state_dict()["_growth_tracker"]))
    return history


def test_grad_scaler_on_cuda_steps_as_on_cpu():
    on_cuda, on_cpu = scaled_run("cuda"), scaled_run("cpu")
    for (w_cuda, s_cuda, t_cuda), (w_cpu, s_cpu, t_cpu) in zip(on_cuda, on_cpu):
        np.testing.assert_allclose(w_cuda, w_cpu, rtol=2e-6, atol=1e-7)
        assert (s_cuda, t_cuda) == (s_cpu, t_cpu)
    scales = [s for _, s, _ in on_cpu]
    assert 512.0 in scales and 1024.0 in scales   # backed off after the inf, grew back


@pytest.mark.parametrize("name, options", [("Adam", dict(fused=True, capturable=True)),
                                           ("AdamW", dict(foreach=True)),
                                           ("RMSprop", dict(capturable=True)),
                                           ("Adagrad", dict(fused=True))])
def test_implementation_switches_on_cuda_give_the_plain_update(name, options):
    results = []
    for kwargs in (options, {}):
        gc.manual_seed(13)
        layer = gc.nn.Linear(3, 2, device="cuda")
        opt = getattr(gc.optim, name)(layer.parameters(), lr=1e-2, **kwargs)
        for step in range(3):
            opt.zero_grad()
            (layer(gc.ones(4, 3, device="cuda")) ** 2).sum().backward()
            opt.step()
        results.append(layer.weight.cpu().numpy())
    np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_with_dropout_on_cuda_gives_the_plain_gradients(use_reentrant):
    gc.manual_seed(21)
    model = gc.nn.Sequential(gc.nn.Conv2d(2, 3, 3, padding=1), gc.nn.BatchNorm2d(3),
                             gc.nn.ReLU(), gc.nn.Dropout(0.4), gc.nn.Flatten(),
                             gc.nn.Linear(3 * 4 * 4, 2)).to("cuda")
    data = np.random.default_rng(22).normal(size=(2, 2, 4, 4)).astype(np.float32)
    results = []
    for wrapped in (False, True):
        model.zero_grad()
        x = gc.tensor(data, device="cuda", requires_grad=True)
        gc.manual_seed(23)
        out = checkpoint(model, x, use_reentrant=use_reentrant) if wrapped else model(x)
        (out * out).sum().backward()
        results.append([x.grad.cpu().numpy()] + [p.grad.cpu().numpy()
                                                 for p in model.parameters()])
    for plain, checked in zip(*results):
        np.testing.assert_array_equal(plain, checked)


def test_checkpoint_sequential_on_cuda():
    gc.manual_seed(24)
    model = gc.nn.Sequential(gc.nn.Linear(3, 5), gc.nn.ReLU(), gc.nn.Dropout(0.3),
                             gc.nn.Linear(5, 2)).to("cuda")
    data = np.random.default_rng(25).normal(size=(4, 3)).astype(np.float32)
    results = []
    for wrapped in (False, True):
        model.zero_grad()
        gc.manual_seed(26)
        x = gc.tensor(data, device="cuda")
        out = checkpoint_sequential(model, 2, x, use_reentrant=False) if wrapped else model(x)
        out.sum().backward()
        results.append([p.grad.cpu().numpy() for p in model.parameters()])
    for plain, checked in zip(*results):
        np.testing.assert_array_equal(plain, checked)
