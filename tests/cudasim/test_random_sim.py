"""Random-number launchers against their CPU twins in numba's simulator: uniform, randint and
dropout_mask bit for bit, normal within 1e-6. Outputs are poisoned first (NaN, or int64's
minimum) so that an unwritten element fails; sizes are tiny but cover a partial block and,
with MAX_BLOCKS lowered, the grid-stride loop."""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels import random as rnd
from tests.helpers import assert_close, poisoned


@pytest.fixture(params=[False, True], ids=["one-pass", "grid-stride"])
def stride(request, monkeypatch):
    """With MAX_BLOCKS = 1, more than 256 elements need the grid-stride loop."""
    if request.param:
        monkeypatch.setattr(rnd, "MAX_BLOCKS", 1)
    return request.param


# (op, extra arguments, out dtype, bitwise)
OPS = [("uniform", (-1.5, 2.3), np.float32, True),
       ("normal", (0.5, 2.0), np.float32, False),
       ("randint", (-7, 2 ** 40 + 3), np.int64, True),
       ("dropout_mask", (0.3,), np.float32, True)]


def _same(op, bitwise, got, expected):
    if bitwise:
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8)), op
    else:
        assert_close(got, expected, 1e-6, op)


@pytest.mark.parametrize("op,args,dtype,bitwise", OPS, ids=[o[0] for o in OPS])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 100)], ids=str)   # 300 = 256 + a partial block
def test_cuda_matches_cpu(op, args, dtype, bitwise, shape, stride):
    cpu, gpu = getattr(rnd, f"{op}_cpu"), getattr(rnd, f"{op}_cuda")
    # a seed with its high word set, counters crossing 2**32 within the call
    seed, offset = 2 ** 64 - 3, 2 ** 32 - 100
    out = cuda.to_device(poisoned(shape, dtype))
    assert gpu(out, seed, offset, *args) is out
    _same(op, bitwise, out.copy_to_host(), cpu(poisoned(shape, dtype), seed, offset, *args))


def test_counter_property_on_the_device():
    """Two launches with the offset advanced give the one launch's numbers, and the CPU's."""
    n, n1 = 300, 113
    whole = cuda.to_device(poisoned(n))
    rnd.uniform_cuda(whole, 42, 7)
    first, second = cuda.to_device(poisoned(n1)), cuda.to_device(poisoned(n - n1))
    rnd.uniform_cuda(first, 42, 7)
    rnd.uniform_cuda(second, 42, 7 + n1)
    joined = np.concatenate([first.copy_to_host(), second.copy_to_host()])
    assert np.array_equal(whole.copy_to_host().view(np.uint32), joined.view(np.uint32))
    assert np.array_equal(joined.view(np.uint32),
                          rnd.uniform_cpu(poisoned(n), 42, 7).view(np.uint32))


def test_empty_output_launches_nothing():
    empty = cuda.to_device(np.empty((0, 3), np.float32))
    assert rnd.normal_cuda(empty, 1, 2) is empty


def test_cuda_rejects_bad_input():
    host = poisoned(4)
    with pytest.raises(TypeError, match="uniform_cuda: out must be a device array"):
        rnd.uniform_cuda(host, 1, 0)
    with pytest.raises(TypeError, match="uniform_cpu: out must be a NumPy array"):
        rnd.uniform_cpu(cuda.to_device(host), 1, 0)
    with pytest.raises(TypeError, match="randint_cuda: out must be int64"):
        rnd.randint_cuda(cuda.to_device(host), 1, 0, 0, 5)
    with pytest.raises(ValueError, match="dropout_mask_cuda: out must be C-contiguous"):
        rnd.dropout_mask_cuda(cuda.to_device(poisoned((3, 4)))[:, ::2], 1, 0, 0.5)
    out = cuda.to_device(poisoned((2, 3)))
    with pytest.raises(ValueError, match="normal_cuda: std.*\\(2, 3\\)"):
        rnd.normal_cuda(out, 1, 0, 0.0, -1.0)
    with pytest.raises(ValueError, match="dropout_mask_cuda: offset.*\\(2, 3\\)"):
        rnd.dropout_mask_cuda(out, 1, 2 ** 64 - 6, 0.5)
    assert np.all(np.isnan(out.copy_to_host())), "a refused call wrote into out"
