"""Every matmul CUDA version, every transpose combination, with and without bias, against the
CPU twin in numba's simulator. Shapes cross each version's tile edges in M, N and K while
staying at a few blocks (the simulator runs one OS thread per CUDA thread)."""
import numpy as np
import pytest
from numba import cuda

from gpucnn.kernels._views import as_strided
from gpucnn.kernels.reduce import R_SUM, reduce_cpu, reduce_cuda
from gpucnn.kernels.matmul import matmul_cpu, matmul_cuda
from tests.helpers import assert_close, poisoned, rand

# (M, N, K) per version: v1 has 16x16 thread blocks, v2 16x16 tiles with K in steps of 16,
# v3 64x64 output tiles with K in steps of 8.
SHAPES = {1: (18, 17, 5), 2: (18, 17, 21), 3: (70, 67, 13)}


@pytest.mark.parametrize("with_bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("trans_b", [False, True], ids=["b", "bT"])
@pytest.mark.parametrize("trans_a", [False, True], ids=["a", "aT"])
@pytest.mark.parametrize("version", [1, 2, 3], ids=lambda v: f"v{v}")
def test_matmul_cuda_matches_cpu(version, trans_a, trans_b, with_bias):
    m, n, k = SHAPES[version]
    rng = np.random.default_rng(version * 8 + trans_a * 4 + trans_b * 2 + with_bias)
    a = rand(rng, k, m) if trans_a else rand(rng, m, k)
    b = rand(rng, n, k) if trans_b else rand(rng, k, n)
    bias = rand(rng, n) if with_bias else None
    expected = matmul_cpu(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias)
    out = cuda.to_device(poisoned((m, n)))
    result = matmul_cuda(cuda.to_device(a), cuda.to_device(b), trans_a=trans_a, trans_b=trans_b,
                         bias=None if bias is None else cuda.to_device(bias), out=out,
                         version=version)
    assert result is out
    assert_close(out.copy_to_host(), expected, what=f"v{version}")


def test_matmul_cuda_allocates_out_and_handles_1x1x1():
    a, b = np.full((1, 1), 3.0, np.float32), np.full((1, 1), -2.0, np.float32)
    for version in (1, 2, 3):
        out = matmul_cuda(cuda.to_device(a), cuda.to_device(b), version=version)
        assert out.copy_to_host()[0, 0] == -6.0


def test_linear_bias_grad_cuda():
    """The linear layer's bias gradient: a column sum of dy (M, N) viewed as (1, N, M, 1)."""
    dy = rand(np.random.default_rng(0), 9, 40)   # 40 columns: two blocks of 32 outputs
    geometry = ((1, 40, 9, 1), (0, 1, 40, 0))
    out = cuda.to_device(poisoned((1, 40)))
    assert reduce_cuda(R_SUM, as_strided(cuda.to_device(dy), *geometry), out=out) is out
    assert_close(out.copy_to_host(), reduce_cpu(R_SUM, as_strided(dy, *geometry)))


def test_matmul_cuda_rejects_bad_arguments():
    a, b = cuda.to_device(np.ones((2, 6), np.float32)), cuda.to_device(np.ones((6, 3), np.float32))
    with pytest.raises(ValueError, match="matmul_cuda"):
        matmul_cuda(a, b, trans_b=True)
    with pytest.raises(ValueError, match="matmul_cuda"):
        matmul_cuda(a, b, out=cuda.device_array((3, 3), np.float32))
    with pytest.raises(ValueError, match="matmul_cuda"):
        matmul_cuda(a, b, bias=cuda.device_array(2, np.float32))
    with pytest.raises(TypeError, match="matmul_cuda"):
        matmul_cuda(a, cuda.to_device(np.ones((6, 3))))
    with pytest.raises(ValueError, match="matmul_cuda"):
        matmul_cuda(a, cuda.to_device(np.ones((6, 6), np.float32))[:, ::2])
    with pytest.raises(TypeError, match="device array"):
        matmul_cuda(a, b, out=np.empty((2, 3), np.float32))
