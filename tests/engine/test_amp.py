"""gpucnn.amp against torch.amp: autocast's state, nesting, decorators, checks and warnings
(gpucnn computes in float32 inside it), the deprecated torch.cuda.amp / torch.cpu.amp forms,
and GradScaler step by step beside torch's on "cpu" (scaling, unscaling, skipped steps with
an injected inf or NaN, backoff and growth, state dicts, enabled=False)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.helpers import assert_close


@pytest.fixture(autouse=True)
def quiet_float32_notice():
    """The once-per-process float32 notice is tested in a fresh process (below)."""
    from gpucnn.amp import autocast_mode
    before = autocast_mode._warned_float32
    autocast_mode._warned_float32 = True
    yield
    autocast_mode._warned_float32 = before


def state(module, device):
    return (module.is_autocast_enabled(device), module.get_autocast_dtype(device).__repr__()
            .split(".")[-1], module.is_autocast_cache_enabled())


# ---------------------------------------------------------------- autocast

def test_autocast_state_nests_and_restores_as_torchs():
    assert state(gc, "cpu") == state(torch, "cpu") == (False, "bfloat16", True)
    with gc.autocast("cpu"), torch.autocast("cpu"):
        assert state(gc, "cpu") == state(torch, "cpu") == (True, "bfloat16", True)
        with gc.autocast("cpu", dtype=gc.float16, cache_enabled=False), \
                torch.autocast("cpu", dtype=torch.float16, cache_enabled=False):
            assert state(gc, "cpu") == state(torch, "cpu") == (True, "float16", False)
            with gc.autocast("cpu", enabled=False), torch.autocast("cpu", enabled=False):
                assert state(gc, "cpu") == state(torch, "cpu") == (False, "float16", False)
        assert state(gc, "cpu") == state(torch, "cpu")
    assert state(gc, "cpu") == state(torch, "cpu") == (False, "bfloat16", True)
    assert gc.is_autocast_enabled() is torch.is_autocast_enabled() is False   # "cuda"


def test_autocast_restores_its_state_when_the_block_raises():
    with pytest.raises(ValueError):
        with gc.autocast("cpu", dtype=gc.float16):
            raise ValueError("inside")
    assert state(gc, "cpu") == (False, "bfloat16", True)


def test_autocast_as_a_decorator():
    @gc.autocast("cpu")
    def ours():
        return state(gc, "cpu")

    @torch.autocast("cpu")
    def theirs():
        return state(torch, "cpu")
    assert ours() == theirs() == (True, "bfloat16", True)
    assert not gc.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable"):
        gc.autocast("cpu")(3)


def test_ops_inside_autocast_compute_in_float32():
    gc.manual_seed(0)
    model = gc.nn.Sequential(gc.nn.Conv2d(3, 4, 3), gc.nn.ReLU(), gc.nn.Flatten(),
                             gc.nn.Linear(4 * 5 * 5, 3))
    x = gc.tensor(np.random.default_rng(1).normal(size=(2, 3, 7, 7)))
    plain = model(x)
    with gc.autocast("cpu", dtype=gc.bfloat16):
        cast = model(x)
        loss = F.cross_entropy(cast, gc.tensor([0, 2]))
    assert cast.dtype == gc.float32 and loss.dtype == gc.float32
    np.testing.assert_array_equal(cast.numpy(), plain.numpy())
    loss.backward()
    assert model[0].weight.grad.dtype == gc.float32


def test_autocast_disables_itself_where_torch_does():
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                                         "supported. Disabling autocast"):
        with torch.autocast("cpu", dtype=torch.float32):
            assert not torch.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                                         "supported. Disabling autocast"):
        with gc.autocast("cpu", dtype=gc.float32):
            assert not gc.is_autocast_enabled("cpu")
    if not gc.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available.*Disabling autocast"):
            with gc.autocast("cuda"):
                assert not gc.is_autocast_enabled("cuda")


@pytest.mark.parametrize("device_type, error, match", [
    (0, ValueError, "Expected `device_type` of type `str`"),
    ("xpu", RuntimeError, "unsupported autocast device_type 'xpu'"),
    ("cuda:0", RuntimeError, "unsupported autocast device_type")])
def test_autocast_refuses_devices_gpucnn_lacks(device_type, error, match):
    with pytest.raises(error, match=match):
        gc.autocast(device_type)
    assert gc.amp.is_autocast_available("cpu") and gc.amp.is_autocast_available("cuda")
    assert not gc.amp.is_autocast_available("xpu")


def test_autocast_state_functions_as_torchs():
    for module, dtype in ((gc, gc.float16), (torch, torch.float16)):
        module.set_autocast_enabled("cpu", True)
        module.set_autocast_dtype("cpu", dtype)
        module.set_autocast_cache_enabled(False)
    try:
        assert state(gc, "cpu") == state(torch, "cpu") == (True, "float16", False)
        assert gc.autocast_increment_nesting() == torch.autocast_increment_nesting() == 1
        assert gc.autocast_decrement_nesting() == torch.autocast_decrement_nesting() == 0
        gc.clear_autocast_cache()
        gc.set_autocast_enabled(True)   # the older form: "cuda"
        assert gc.is_autocast_enabled("cuda") and gc.is_autocast_enabled()
    finally:
        for module, dtype in ((gc, gc.bfloat16), (torch, torch.bfloat16)):
            module.set_autocast_enabled("cpu", False)
            module.set_autocast_dtype("cpu", dtype)
            module.set_autocast_cache_enabled(True)
        gc.set_autocast_enabled(False)
    with pytest.raises(TypeError, match="dtype must be a gpucnn dtype"):
        gc.set_autocast_dtype("cpu", "float16")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        gc.is_autocast_enabled("tpu")


@pytest.mark.parametrize("name, args, value", [
    ("is_autocast_cpu_enabled", (), False), ("get_autocast_cpu_dtype", (), "bfloat16"),
    ("get_autocast_gpu_dtype", (), "float16")])
def test_deprecated_autocast_queries_warn_as_torchs(name, args, value):
    with pytest.warns(DeprecationWarning, match=f"{name}\\(\\) is deprecated"):
        ours = getattr(gc, name)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch, name)(*args)
    assert str(ours).split(".")[-1] == str(theirs).split(".")[-1] == str(value)


def test_device_amp_modules_are_torchs_deprecated_forms():
    import gpucnn.cuda.amp
    from gpucnn.cpu.amp import autocast as cpu_autocast
    assert gpucnn.cuda.amp is gc.cuda.amp and cpu_autocast is gc.cpu.amp.autocast
    with pytest.warns(FutureWarning, match=r"`gpucnn.cpu.amp.autocast\(args...\)` is "
                                           r"deprecated. Please use `gpucnn.amp.autocast\('cpu'"):
        with gc.cpu.amp.autocast():
            ours = state(gc, "cpu")
    with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
        with torch.cpu.amp.autocast():
            theirs = state(torch, "cpu")
    assert ours == theirs == (True, "bfloat16", True)
    with pytest.warns(FutureWarning, match="gpucnn.cuda.amp.autocast"):
        region = gc.cuda.amp.autocast(enabled=False)
    with region:
        assert gc.get_autocast_dtype("cuda") == gc.float16
    for scaler in (gc.cuda.amp.GradScaler, gc.cpu.amp.GradScaler):
        with pytest.warns(FutureWarning, match=r"GradScaler\(args...\)` is deprecated"):
            made = scaler(init_scale=8.0, enabled=False)
        assert isinstance(made, gc.amp.GradScaler)
    with pytest.warns(FutureWarning):
        assert gc.cpu.amp.GradScaler(init_scale=8.0)._device == "cpu"
    assert gc.cuda.amp.amp_definitely_not_available() is (not gc.cuda.is_available())


def test_custom_fwd_and_bwd_carry_the_autocast_state():
    class Ctx:
        pass

    @gc.amp.custom_fwd(device_type="cpu")
    def forward(ctx, x):
        return gc.is_autocast_enabled("cpu")

    @gc.amp.custom_fwd(device_type="cpu", cast_inputs=gc.float32)
    def forward_cast(ctx, x):
        return gc.is_autocast_enabled("cpu"), x.dtype

    @gc.amp.custom_bwd(device_type="cpu")
    def backward(ctx):
        return gc.is_autocast_enabled("cpu"), gc.get_autocast_dtype("cpu")

    ctx = Ctx()
    with gc.autocast("cpu", dtype=gc.float16):
        assert forward(ctx, gc.ones(2)) is True
        assert forward_cast(Ctx(), gc.ones(2)) == (False, gc.float32)
    assert ctx._fwd_used_autocast is True and ctx._dtype == gc.float16
    assert backward(ctx) == (True, gc.float16)
    assert not gc.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        gc.amp.custom_fwd(device_type=None)


def test_float16_autocast_warns_once_per_process_naming_the_dtype():
    code = ("import warnings, gpucnn as gc\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    with gc.autocast('cpu', dtype=gc.float16): pass\n"
            "    with gc.autocast('cpu'): pass\n"
            "    with gc.autocast('cpu', enabled=False): pass\n"
            "print(len(seen)); print(seen[0].category.__name__); print(seen[0].message)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "1" and out[1] == "UserWarning"
    assert "float16 was requested" in out[2] and "compute in float32" in out[2]


# ---------------------------------------------------------------- GradScaler

def make_models(seed, optimizer, **options):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (4, 5)).astype(np.float32)
    b = rng.uniform(-1, 1, 4).astype(np.float32)
    ours, theirs = gc.nn.Linear(5, 4), torch.nn.Linear(5, 4)
    ours.load_state_dict({"weight": w, "bias": b})
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return (ours, getattr(gc.optim, optimizer)(ours.parameters(), **options),
            theirs, getattr(torch.optim, optimizer)(theirs.parameters(), **options))


def batch(rng):
    x = rng.normal(size=(6, 5)).astype(np.float32)
    y = rng.normal(size=(6, 4)).astype(np.float32)
    return x, y


def backward_both(scalers, models, x, y, poison=None):
    """Scaled loss backward on both sides; poison (index, value) writes an inf or NaN into
    element `index` of both weight gradients afterwards."""
    (ours_scaler, their_scaler), (ours, theirs) = scalers, models
    loss = ((ours(gc.tensor(x)) - gc.tensor(y)) ** 2).mean()
    ours_scaler.scale(loss).backward()
    their_loss = ((theirs(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
    their_scaler.scale(their_loss).backward()
    if poison is not None:
        index, value = poison
        g = ours.weight.grad.numpy().copy()
        g.flat[index] = value
        ours.weight.grad = gc.tensor(g)
        their_flat = theirs.weight.grad.view(-1)
        their_flat[index] = value


def assert_same(scalers, models, what):
    (ours_scaler, their_scaler), (ours, theirs) = scalers, models
    assert ours_scaler.get_scale() == their_scaler.get_scale(), what
    assert ours_scaler._get_growth_tracker() == their_scaler._get_growth_tracker(), what
    assert ours_scaler.state_dict() == their_scaler.state_dict(), what
    for name in ("weight", "bias"):
        assert_close(getattr(ours, name).numpy(), getattr(theirs, name).detach().numpy(),
                     2e-6, f"{what}: {name}")


@pytest.mark.parametrize("optimizer, options, init_scale", [
    ("SGD", dict(lr=0.05, momentum=0.9), 2.0 ** 16), ("Adam", dict(lr=1e-2), 1000.0),
    ("SGD", dict(lr=0.1), 3.0)])
def test_grad_scaler_steps_as_torchs(optimizer, options, init_scale):
    """Twelve iterations with growth_interval 3: an inf at 2, a NaN at 6 (skipped steps and
    backoffs), growth after three clean steps, unscale_ + clip_grad_norm_ at 4 and 9."""
    ours, ours_opt, theirs, their_opt = make_models(41, optimizer, **options)
    settings = dict(init_scale=init_scale, growth_factor=2.0, backoff_factor=0.5,
                    growth_interval=3)
    scalers = (gc.amp.GradScaler("cpu", **settings), torch.amp.GradScaler("cpu", **settings))
    rng = np.random.default_rng(42)
    poison = {2: (3, np.inf), 6: (0, np.nan)}
    scales = [init_scale]
    for step in range(12):
        ours_opt.zero_grad()
        their_opt.zero_grad()
        backward_both(scalers, (ours, theirs), *batch(rng), poison=poison.get(step))
        if step in (4, 9):
            for scaler, opt in zip(scalers, (ours_opt, their_opt)):
                scaler.unscale_(opt)
            gc.nn.utils.clip_grad_norm_(ours.parameters(), 0.5)
            torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
            assert_close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), 2e-6,
                         f"step {step}: unscaled, clipped gradients")
        assert scalers[0].step(ours_opt) == scalers[1].step(their_opt)
        found = [float(v.item()) for v in scalers[0]._found_inf_per_device(ours_opt).values()]
        theirs_found = [float(v.item()) for v in
                        scalers[1]._found_inf_per_device(their_opt).values()]
        assert found == theirs_found == [1.0 if step in poison else 0.0]
        for scaler in scalers:
            scaler.update()
        assert_same(scalers, (ours, theirs), f"{optimizer} step {step}")
        scales.append(scalers[0].get_scale())
    changes = [b / a for a, b in zip(scales, scales[1:]) if a != b]
    assert 0.5 in changes and 2.0 in changes   # both a backoff and a growth happened


def test_grad_scaler_never_grows_past_float32():
    ours, ours_opt, theirs, their_opt = make_models(43, "SGD", lr=1e-3)
    scalers = (gc.amp.GradScaler("cpu", init_scale=3e38, growth_interval=1),
               torch.amp.GradScaler("cpu", init_scale=3e38, growth_interval=1))
    rng = np.random.default_rng(44)
    for step in range(2):
        ours_opt.zero_grad()
        their_opt.zero_grad()
        x, y = batch(rng)
        backward_both(scalers, (ours, theirs), x * 1e-30, y * 1e-30)
        scalers[0].step(ours_opt)
        scalers[1].step(their_opt)
        for scaler in scalers:
            scaler.update()
        assert scalers[0].get_scale() == scalers[1].get_scale()
        assert scalers[0]._get_growth_tracker() == scalers[1]._get_growth_tracker() == 0


def test_scale_takes_tensors_and_nested_iterables():
    scaler = gc.amp.GradScaler("cpu", init_scale=4.0)
    a, b = gc.tensor([1.0, -2.0]), gc.tensor([[3.0]])
    scaled = scaler.scale([a, (b, a)])
    assert isinstance(scaled, list) and isinstance(scaled[1], tuple)
    np.testing.assert_array_equal(scaled[1][0].numpy(), [[12.0]])
    np.testing.assert_array_equal(scaler.scale(a).numpy(), [4.0, -8.0])
    assert scaler._scale.dtype == gc.float32 and scaler._growth_tracker.dtype == gc.int32
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale(3.0)


def test_the_call_order_errors_are_torchs():
    for module in (gc, torch):
        ours = module.nn.Linear(3, 2)
        opt = module.optim.SGD(ours.parameters(), lr=0.1)
        scaler = module.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="Attempted step but _scale is None"):
            scaler.step(opt)
        scaler.scale(ours(module.ones(1, 3)).sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: 0.0)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            scaler.unscale_(opt)
        scaler.update()
        with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
            scaler.update()
        with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
            module.amp.GradScaler("cpu", growth_factor=1.0)
        with pytest.raises(AssertionError, match="backoff factor must be < 1.0"):
            module.amp.GradScaler("cpu", backoff_factor=1.0)


def test_update_with_a_new_scale_and_state_dicts_as_torchs():
    ours, ours_opt, theirs, their_opt = make_models(45, "SGD", lr=0.1)
    scalers = (gc.amp.GradScaler("cpu", growth_interval=5),
               torch.amp.GradScaler("cpu", growth_interval=5))
    backward_both(scalers, (ours, theirs), *batch(np.random.default_rng(46)))
    scalers[0].step(ours_opt)
    scalers[1].step(their_opt)
    scalers[0].update(256.0)
    scalers[1].update(256.0)
    assert_same(scalers, (ours, theirs), "after update(256.0)")
    scalers[0].update(gc.tensor(32.0))
    scalers[1].update(torch.tensor(32.0))
    assert scalers[0].get_scale() == scalers[1].get_scale() == 32.0
    saved = scalers[0].state_dict()
    assert list(saved) == list(scalers[1].state_dict())
    fresh = gc.amp.GradScaler("cpu")
    fresh.load_state_dict(saved)
    assert fresh.state_dict() == saved and fresh.get_scale() == 32.0
    fresh.load_state_dict(scalers[1].state_dict())   # torch's loads too
    assert fresh.state_dict() == scalers[1].state_dict()
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        fresh.load_state_dict({})
    with pytest.raises(AssertionError, match="new_scale should be a float"):
        scalers[0].update(gc.tensor([1.0, 2.0]))
    assert fresh.get_growth_factor() == 2.0 and fresh.get_growth_interval() == 5


def test_a_disabled_scaler_is_the_identity():
    ours, ours_opt, _, _ = make_models(47, "SGD", lr=0.1)
    scaler = gc.amp.GradScaler("cpu", enabled=False)
    loss = ours(gc.ones(2, 5)).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    before = ours.weight.numpy().copy()
    assert scaler.step(ours_opt) is None
    assert not np.array_equal(ours.weight.numpy(), before)
    scaler.unscale_(ours_opt)
    scaler.update()
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {} and not scaler.is_enabled()
    scaler.load_state_dict({})   # a no-op, as torch's


def test_a_cuda_scaler_without_a_gpu_disables_itself_as_torchs():
    if gc.cuda.is_available():
        pytest.skip("this machine has a GPU (the scaler stays enabled)")
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available"):
        ours = gc.amp.GradScaler()
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available"):
        theirs = torch.amp.GradScaler()
    assert ours.is_enabled() is theirs.is_enabled() is False


def test_one_optimizer_skipped_of_two():
    """Two optimizers, an inf in one's gradients: only that one skips; the scale backs off."""
    rng = np.random.default_rng(48)
    starts = [rng.uniform(-1, 1, shape).astype(np.float32) for shape in ((2, 3), (2,), (1, 2),
                                                                          (1,))]
    runs = []
    for module in (gc, torch):
        first, second = module.nn.Linear(3, 2), module.nn.Linear(2, 1)
        params = [*first.parameters(), *second.parameters()]
        with module.no_grad():
            for p, start in zip(params, starts):
                p.copy_(module.tensor(start))
        runs.append((module, first, second))
    data = rng.normal(size=(4, 3)).astype(np.float32)
    results = []
    for module, first, second in runs:
        opts = [module.optim.SGD(layer.parameters(), lr=0.1) for layer in (first, second)]
        scaler = module.amp.GradScaler("cpu", init_scale=64.0)
        scaler.scale(second(first(module.tensor(data))).sum()).backward()
        with module.no_grad():
            first.bias.grad.copy_(module.tensor([np.inf, 1.0]))
        for opt in opts:
            scaler.step(opt)
        scaler.update()
        results.append((scaler.get_scale(), first.weight.detach().numpy().copy(),
                        second.weight.detach().numpy().copy()))
    assert results[0][0] == results[1][0] == 32.0
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert_close(results[0][2], results[1][2], 2e-6, "the stepped optimizer")
