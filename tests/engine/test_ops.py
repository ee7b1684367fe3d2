"""Every op's forward and input gradients against PyTorch float64, on "cpu"."""
import numpy as np
import pytest

from tests.engine.op_cases import op_cases
from tests.helpers import check_op


@pytest.mark.parametrize("case", op_cases(), ids=lambda c: c[0])
def test_op_matches_torch(case):
    _, gc_fn, torch_fn, make_inputs = case
    check_op(gc_fn, torch_fn, make_inputs(np.random.default_rng(1)), device="cpu")
