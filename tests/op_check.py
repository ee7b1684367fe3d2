"""One helper that checks an op's forward and every input gradient against PyTorch in float64.

`check_op(gc_fn, torch_fn, inputs)` runs the gpucnn function on float32 tensors on `device`
and the torch function on float64 copies, backpropagates the same random upstream gradient
through both, and compares the output and the gradient of every float input. A new op's test
is then one line (tinygrad's helper_test_op, for gpucnn).
"""
import numpy as np
import torch

import gpucnn as gc
from tests.helpers import assert_close


def check_op(gc_fn, torch_fn, inputs, device="cpu", tol=1e-4, grad_tol=1e-4, seed=0):
    """inputs: NumPy arrays; float ones get gradients, integer ones (labels) do not."""
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
