"""What every test uses: fresh data, poisoned outputs, one comparison, and the op oracle.

    rand(rng, *shape)        uniform [-1, 1) float32, never zeros
    poisoned(shape, dtype)   NaN (or an integer sentinel) for a kernel to overwrite
    assert_close(a, b, tol)  max |a - b| / max |b| in float64 under tol, a finite
    check_op(gc_fn, torch_fn, inputs)
                             an op's forward and every input gradient against PyTorch in
                             float64 (tinygrad's helper_test_op for gpucnn): torch_fn defaults
                             to gc_fn, for the ops written the same way in both
"""
import numpy as np
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
