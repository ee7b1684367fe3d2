"""What every test uses: fresh data, poisoned outputs, one comparison, and the op oracle.

    rand(rng, *shape)        uniform [-1, 1) float32, never zeros
    poisoned(shape, dtype)   NaN (or an integer sentinel) for a kernel to overwrite
    assert_close(a, b, tol)  max |a - b| / max |b| in float64 under tol, a finite
    check_launch(launcher, args, expected)
                             a CUDA launcher run on device copies into poisoned outputs,
                             against its CPU twin's result (tests/cudasim only)
    bad_calls(match, twins, table)
                             parametrize cases: each twin given each bad call of the table
    bad_calls_test(*groups)  the test that every bad_calls case raises, for a test_ name
    with_entry(a, index, value)
                             a copy of a with one entry changed (a bad index, say)
    check_op(gc_fn, torch_fn, inputs)
                             an op's forward and every input gradient against PyTorch in
                             float64 (tinygrad's helper_test_op for gpucnn): torch_fn defaults
                             to gc_fn, for the ops written the same way in both
"""
import numpy as np
import pytest
import torch

import gpucnn as gc


def max_relative_error(actual, expected) -> float:
    """max |actual - expected| / max(|expected|), computed in float64."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    assert np.all(np.isfinite(actual)), "result holds NaN/inf (an element left unwritten?)"
    scale = max(np.max(np.abs(expected)), 1e-30) if expected.size else 1.0
    return float(np.max(np.abs(actual - expected)) / scale) if expected.size else 0.0


def assert_close(actual, expected, tol=1e-4, what=""):
    err = max_relative_error(actual, expected)
    assert err < tol, f"{what} relative error {err:.3e} >= {tol:.0e}"


def rand(rng, *shape, dtype=np.float32):
    """Fresh random data in [-1, 1): never zeros, so an unwritten output cannot pass."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


def poisoned(shape, dtype=np.float32):
    """An output buffer full of NaN (or a sentinel for integers) before a kernel writes it."""
    if np.dtype(dtype).kind == "f":
        return np.full(shape, np.nan, dtype=dtype)
    return np.full(shape, np.iinfo(dtype).min, dtype=dtype)


def check_op(gc_fn, torch_fn, inputs, device="cpu", tol=1e-4, grad_tol=1e-4, seed=0):
    """Run gc_fn on float32 tensors on `device` and torch_fn (gc_fn when None) on float64
    copies, backpropagate the same random upstream gradient through both, and compare the
    output and the gradient of every float input. inputs: NumPy arrays; float ones get
    gradients, integer ones (labels) do not."""
    torch_fn = torch_fn or gc_fn
    rng = np.random.default_rng(seed)
    gc_inputs = [gc.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in inputs]
    torch_inputs = [torch.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a,
                                 requires_grad=a.dtype.kind == "f") for a in inputs]
    out = gc_fn(*gc_inputs)
    expected = torch_fn(*torch_inputs)
    assert out.shape == tuple(expected.shape), f"shape {out.shape} != torch {tuple(expected.shape)}"
    assert_close(out.numpy(), expected.detach().numpy(), tol, "forward")
    upstream = rng.uniform(0.5, 1.5, size=out.shape).astype(np.float32)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream.astype(np.float64)))
    for i, (g, t) in enumerate(zip(gc_inputs, torch_inputs)):
        if not g.requires_grad:
            continue
        assert g.grad is not None, f"input {i} got no gradient"
        assert g.grad.device == device
        assert_close(g.grad.numpy(), t.grad.numpy(), grad_tol, f"gradient of input {i}")
    return out


def check_launch(launcher, args, expected, tol=None, what="", **kwargs):
    """Launch a CUDA launcher and compare what it writes with its CPU twin's result.

    Every NumPy array in args is copied to the device; anything else (a shape, a number, a
    device array) is passed as it is. expected is the twin's array, or a dict of them keyed by
    the launcher's output keywords ({"out": y, "indices": idx}): each output is a device array
    of that shape and dtype poisoned by `poisoned`, passed by keyword, and the launcher must
    return it (a dict's outputs in its order). Compared exactly when tol is None, else with
    assert_close(tol). Returns the device output, or a tuple of them for a dict."""
    from numba import cuda   # here, not at the top: only tests/cudasim may import numba.cuda

    expected_by_key = expected if isinstance(expected, dict) else {"out": expected}
    outputs = {key: cuda.to_device(poisoned(e.shape, e.dtype))
               for key, e in expected_by_key.items()}
    device_args = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    got = launcher(*device_args, **outputs, **kwargs)
    got = tuple(got) if isinstance(expected, dict) else (got,)
    assert len(got) == len(outputs) and all(g is o for g, o in zip(got, outputs.values())), \
        f"{what}: the launcher did not return the outputs it was given"
    for (key, want), output in zip(expected_by_key.items(), outputs.values()):
        if tol is None:
            np.testing.assert_array_equal(output.copy_to_host(), want, err_msg=f"{what} {key}")
        else:
            assert_close(output.copy_to_host(), want, tol, f"{what} {key}")
    return tuple(outputs.values()) if isinstance(expected, dict) else outputs["out"]


def bad_calls(match, twins, table, extra=()):
    """pytest.param(twin, extra, match, error, call) for each twin and each row (name, error,
    call) of table, id "twin-name": call(twin, *extra) must raise error, its message holding
    match (a regular expression), or the twin's own name when match is None."""
    return [pytest.param(twin, extra, match or twin.__name__, error, call,
                         id=f"{twin.__name__}-{name}")
            for twin in twins for name, error, call in table]


def bad_calls_test(*groups):
    """A test, parametrized over the cases of the bad_calls groups, that each call raises its
    error; a test module assigns it to a test_ name for pytest to collect."""
    @pytest.mark.parametrize("twin,extra,match,error,call", [case for g in groups for case in g])
    def test(twin, extra, match, error, call):
        # The CUDA launchers validate before touching the device, so no GPU is needed here.
        with pytest.raises(error, match=match):
            call(twin, *extra)
    return test


def with_entry(a, index, value):
    """A copy of a with a[index] = value."""
    changed = a.copy()
    changed[index] = value
    return changed
