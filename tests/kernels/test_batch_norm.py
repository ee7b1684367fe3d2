"""Batch normalization CPU twins against plain float64 NumPy references (np.mean / np.var over
(N, S), the backward written from its textbook formula), in both CPU layouts (rows, columns),
with several chunks per channel, plus determinism and the argument checks."""
import numba
import numpy as np
import pytest

from gpucnn.kernels import batch_norm as K
from gpucnn.kernels.batch_norm import (batch_norm_backward_cpu, batch_norm_forward_cpu,
                                       batch_norm_stats_cpu)
from tests.helpers import assert_close, poisoned, rand

# (id, (N, C, S)): 4-D (3, 5, 7, 9), 2-D (2, 3) and 3-D (4, 6, 11) inputs as the engine sees
# them, then shapes that exercise each layout's cuts (chunks of 128 values, see small_chunks).
SHAPES = [
    ("nchw-3x5x7x9", (3, 5, 63)),
    ("nc-2x3", (2, 3, 1)),
    ("ncl-4x6x11", (4, 6, 11)),
    ("rows-chunks-split-rows", (5, 2, 401)),             # chunk boundaries inside rows
    ("columns-row-chunks", (301, 7, 1)),                  # S = 1: 32 images per chunk
    ("columns-channel-blocks", (23, 600, 9)),             # 22 blocks of channels, 6 chunks
    ("rows-one-value-per-image", (1, 3, 40)),
]
IDS = [s[0] for s in SHAPES]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 128 values (rows layout) or 32 and more (columns), and columns tasks of 1024
    values: the shapes above span several chunks and blocks of channels, so the merges and
    the task boundaries are tested."""
    monkeypatch.setattr(K, "CPU_CHUNK", 128)
    monkeypatch.setattr(K, "CPU_COLUMN_CHUNK", 32)
    monkeypatch.setattr(K, "CPU_TASK_VALUES", 1024)


def reference_stats(x):
    x64 = x.astype(np.float64)
    return x64.mean(axis=(0, 2)), x64.var(axis=(0, 2))


def reference_forward(x, mean, var, weight, bias, eps):
    c = x.shape[1]
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    b = np.zeros(c) if bias is None else bias.astype(np.float64)
    inv = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    return (x - mean[None, :, None]) * (inv * w)[None, :, None] + b[None, :, None]


def reference_backward(dy, x, mean, var, weight, eps, training):
    """The textbook formulas with explicit loops over channels."""
    n, c, s = x.shape
    count = n * s
    dx = np.empty(x.shape)
    dweight = np.empty(c)
    dbias = np.empty(c)
    for ch in range(c):
        g = dy[:, ch, :].astype(np.float64)
        inv = 1.0 / np.sqrt(float(var[ch]) + eps)
        xhat = (x[:, ch, :].astype(np.float64) - float(mean[ch])) * inv
        w = 1.0 if weight is None else float(weight[ch])
        dbias[ch] = g.sum()
        dweight[ch] = (g * xhat).sum()
        if training:
            dx[:, ch, :] = w * inv * (g - g.sum() / count - xhat * (g * xhat).sum() / count)
        else:
            dx[:, ch, :] = w * inv * g
    return dx, dweight, dbias


def test_shapes_cover_both_layouts_and_several_chunks():
    plans = [K._cpu_plan(*shape) for _, shape in SHAPES]
    assert {columns for columns, *_ in plans} == {True, False}
    assert all(n_chunks > 1 for *_, n_chunks in plans[3:6])
    columns, _, block, _ = K._cpu_plan(23, 600, 9)
    assert columns and block < 600


@pytest.mark.parametrize("shape", [s[1] for s in SHAPES], ids=IDS)
def test_stats_match_reference(shape):
    rng = np.random.default_rng(1)
    x = rand(rng, *shape) + np.float32(0.5)
    out_mean, out_var = poisoned((shape[1],)), poisoned((shape[1],))
    mean, var = batch_norm_stats_cpu(x, out_mean=out_mean, out_var=out_var)
    assert mean is out_mean and var is out_var
    expected_mean, expected_var = reference_stats(x)
    assert_close(mean, expected_mean, 1e-6, "mean")
    assert_close(var, expected_var, 1e-6, "var")


@pytest.mark.parametrize("shape", [s[1] for s in SHAPES], ids=IDS)
def test_stats_update_the_running_statistics(shape):
    rng = np.random.default_rng(2)
    x = rand(rng, *shape)
    running_mean = rand(rng, shape[1])
    running_var = rng.uniform(0.5, 2.0, shape[1]).astype(np.float32)
    before_mean, before_var = running_mean.astype(np.float64), running_var.astype(np.float64)
    batch_norm_stats_cpu(x, running_mean, running_var, momentum=0.3)
    x64 = x.astype(np.float64)
    assert_close(running_mean, 0.7 * before_mean + 0.3 * x64.mean(axis=(0, 2)), 1e-6)
    assert_close(running_var, 0.7 * before_var + 0.3 * x64.var(axis=(0, 2), ddof=1), 1e-6)


@pytest.mark.parametrize("columns", [False, True], ids=["rows", "columns"])
def test_variance_is_accurate_far_from_zero(columns, monkeypatch):
    """Values 1000 +- 1: E[x^2] - E[x]^2 in float32 would lose every digit of the variance."""
    if columns:
        monkeypatch.setattr(K, "CPU_COLUMNS_BELOW", 100)
    x = np.float32(1000.0) + rand(np.random.default_rng(3), 40, 3, 50)
    assert K._cpu_plan(*x.shape)[0] == columns
    _, var = batch_norm_stats_cpu(x)
    assert_close(var, reference_stats(x)[1], 1e-5, "var")


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape", [s[1] for s in SHAPES], ids=IDS)
def test_forward_matches_reference(shape, affine):
    rng = np.random.default_rng(4)
    x = rand(rng, *shape)
    mean = rand(rng, shape[1])
    var = rng.uniform(0.1, 2.0, shape[1]).astype(np.float32)
    weight = rand(rng, shape[1]) if affine in ("both", "weight") else None
    bias = rand(rng, shape[1]) if affine in ("both", "bias") else None
    out = poisoned(shape)
    y = batch_norm_forward_cpu(x, mean, var, weight, bias, 1e-3, out=out)
    assert y is out
    assert_close(y, reference_forward(x, mean, var, weight, bias, 1e-3), 1e-6)


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize("has_weight", [True, False], ids=["weight", "no-weight"])
@pytest.mark.parametrize("shape", [s[1] for s in SHAPES], ids=IDS)
def test_backward_matches_reference(shape, has_weight, training):
    rng = np.random.default_rng(5)
    x = rand(rng, *shape)
    dy = rand(rng, *shape)
    if training:
        mean, var = [a.astype(np.float32) for a in reference_stats(x)]
    else:
        mean, var = rand(rng, shape[1]), rng.uniform(0.1, 2.0, shape[1]).astype(np.float32)
    weight = rand(rng, shape[1]) if has_weight else None
    outs = dict(out_dx=poisoned(shape), out_dweight=poisoned((shape[1],)),
                out_dbias=poisoned((shape[1],)))
    dx, dweight, dbias = batch_norm_backward_cpu(dy, x, mean, var, weight, 1e-5, training, **outs)
    assert dx is outs["out_dx"] and dweight is outs["out_dweight"] and dbias is outs["out_dbias"]
    ref_dx, ref_dweight, ref_dbias = reference_backward(dy, x, mean, var, weight, 1e-5, training)
    # dx in training is a difference of terms of the size of weight * invstd * dy; with two
    # values per channel it nearly cancels, so it is measured against that size.
    scale = np.max(np.abs(dy)) * np.max(np.abs(1.0 if weight is None else weight)) / \
        np.sqrt(np.min(var) + 1e-5)
    assert np.all(np.isfinite(dx))
    assert np.max(np.abs(dx - ref_dx)) / scale < 1e-5, "dx"
    assert_close(dweight, ref_dweight, 1e-5, "dweight")
    assert_close(dbias, ref_dbias, 1e-5, "dbias")


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(6)
    results = []
    for shape in [(9, 5, 300), (300, 40, 1)]:
        x, dy = rand(rng, *shape), rand(rng, *shape)
        w = rand(rng, shape[1])
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            try:
                mean, var = batch_norm_stats_cpu(x)
                grads = batch_norm_backward_cpu(dy, x, mean, var, w, 1e-5, True)
                results.append((mean, var, *grads))
            finally:
                numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        for a, b in zip(results[-2], results[-1]):
            np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_refused_before_any_kernel():
    x = np.ones((2, 3, 4), np.float32)
    c = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"batch_norm_stats_cpu: x must be 3-D, got shape "
                                         r"\(2, 3\)"):
        batch_norm_stats_cpu(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="x must be float32"):
        batch_norm_stats_cpu(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"no values per channel"):
        batch_norm_stats_cpu(np.ones((0, 3, 4), np.float32))
    with pytest.raises(ValueError, match="both be given or both be None"):
        batch_norm_stats_cpu(x, running_mean=c.copy())
    with pytest.raises(ValueError, match=r"running_var has shape \(2,\), expected \(3,\)"):
        batch_norm_stats_cpu(x, c.copy(), np.ones(2, np.float32))
    with pytest.raises(ValueError, match="at least 2 values per channel"):
        batch_norm_stats_cpu(np.ones((1, 3, 1), np.float32), c.copy(), c.copy())
    with pytest.raises(ValueError, match=r"out_mean has shape \(4,\), expected \(3,\)"):
        batch_norm_stats_cpu(x, out_mean=np.empty(4, np.float32))
    with pytest.raises(ValueError, match=r"weight has shape \(4,\), expected \(3,\)"):
        batch_norm_forward_cpu(x, c, c, np.ones(4, np.float32), None, 1e-5)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        batch_norm_forward_cpu(x, c, c, None, None, -1.0)
    with pytest.raises(ValueError, match=r"out has shape \(2, 3, 5\), expected \(2, 3, 4\)"):
        batch_norm_forward_cpu(x, c, c, None, None, 1e-5, out=np.empty((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"dy has shape \(2, 3, 5\), x has \(2, 3, 4\)"):
        batch_norm_backward_cpu(np.ones((2, 3, 5), np.float32), x, c, c, None, 1e-5, True)
    with pytest.raises(ValueError, match="must be C-contiguous"):
        batch_norm_forward_cpu(np.ones((2, 4, 3), np.float32).transpose(0, 2, 1), c, c, None,
                               None, 1e-5)


def test_every_cuda_kernel_is_registered_for_the_ptx_test():
    """tests/kernels/test_ptx.py compiles every registered kernel (run it with -k batch_norm)."""
    from gpucnn.kernels import KERNELS
    names = {r.name for r in KERNELS if r.name.startswith("batch_norm.")}
    assert names == {"batch_norm._stats_partial_kernel", "batch_norm._stats_finish_kernel",
                     "batch_norm._forward_kernel", "batch_norm._backward_partial_kernel",
                     "batch_norm._backward_data_kernel"}
    assert set(K.OPS) == {"batch_norm_stats", "batch_norm_forward", "batch_norm_backward"}
