"""gc.gradcheck over every op: finite differences against the analytic gradients, with no
PyTorch involved."""
import numpy as np
import pytest

import gpucnn as gc
from tests.engine.op_cases import op_cases


@pytest.mark.parametrize("case", op_cases(small=True), ids=lambda c: c[0])
def test_gradcheck_every_op(case):
    _, gc_fn, _, make_inputs = case
    arrays = make_inputs(np.random.default_rng(2))
    inputs = [gc.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert gc.gradcheck(gc_fn, inputs)


def test_gradcheck_catches_a_wrong_gradient():
    from gpucnn.ops.activation import ReLU

    class BrokenReLU(ReLU):
        def backward(self, g):
            return super().backward(g) * np.float32(1.5)

    x = gc.tensor(np.random.default_rng(3).uniform(-1, 1, (3, 4)), requires_grad=True)
    with pytest.raises(gc.GradcheckError, match="input 0"):
        gc.gradcheck(BrokenReLU.apply, [x])
