"""Average and adaptive pooling CPU twins against plain float64 references and against
PyTorch (values, indices, gradients), plus the argument checks the twins and launchers share."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gpucnn.kernels.avg_pool2d import (PLANE_GROUP, adaptive_avg_pool2d_backward_cpu,
                                       adaptive_avg_pool2d_backward_cuda,
                                       adaptive_avg_pool2d_forward_cpu,
                                       adaptive_avg_pool2d_forward_cuda,
                                       adaptive_max_pool2d_backward_cpu,
                                       adaptive_max_pool2d_backward_cuda,
                                       adaptive_max_pool2d_forward_cpu,
                                       adaptive_max_pool2d_forward_cuda, avg_pool2d_backward_cpu,
                                       avg_pool2d_backward_cuda, avg_pool2d_forward_cpu,
                                       avg_pool2d_forward_cuda)
from tests.helpers import assert_close, bad_calls, bad_calls_test, poisoned, rand, with_entry

# (id, x shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    ("2x2s2", (2, 3, 8, 8), 2, 2, 0, False, True, None),
    ("2x2s2-odd-ceil", (3, 2, 7, 9), 2, 2, 0, True, True, None),   # last windows hang over
    ("2x2s2-odd-ceil-exclude", (3, 2, 7, 9), 2, 2, 0, True, False, None),
    ("3x3s2-overlap", (2, 3, 9, 11), 3, 2, 0, False, True, None),
    ("3x3s2-pad1-include", (2, 2, 9, 8), 3, 2, 1, False, True, None),
    ("3x3s2-pad1-exclude", (2, 2, 9, 8), 3, 2, 1, False, False, None),
    ("3x3s2-pad1-ceil-include", (3, 2, 10, 7), 3, 2, 1, True, True, None),
    ("3x3s2-pad1-ceil-exclude", (3, 2, 10, 7), 3, 2, 1, True, False, None),
    ("3x3s1-pad1-include", (2, 2, 7, 5), 3, 1, 1, False, True, None),
    ("3x3s1-pad1-exclude", (2, 2, 7, 5), 3, 1, 1, False, False, None),
    ("2x3-s1x2-pad1-ceil", (3, 2, 9, 8), (2, 3), (1, 2), (1, 1), True, True, None),
    ("3x2-s2x1-pad0x1-ceil-exclude", (1, 3, 6, 7), (3, 2), (2, 1), (0, 1), True, False, None),
    ("4x4s3-pad2-ceil-include", (2, 1, 10, 11), 4, 3, 2, True, True, None),   # beyond-pad window
    ("4x4s3-pad2-ceil-exclude", (2, 1, 10, 11), 4, 3, 2, True, False, None),
    ("5x5s2-pad2", (1, 2, 9, 9), 5, 2, 2, False, False, None),
    ("ceil-drops-last-window", (1, 2, 5, 6), 2, 2, 1, True, True, None),   # (out-1)*s >= H + p
    ("divisor-override", (2, 2, 9, 7), 3, 2, 1, True, True, 5),
    ("divisor-override-exclude", (2, 2, 9, 7), 3, 2, 1, False, False, 4),
    ("negative-divisor", (1, 2, 6, 6), 2, 1, 1, False, True, -3),
    ("1x1", (1, 2, 5, 5), 1, 1, 0, False, True, None),
    ("window=input", (2, 2, 5, 7), (5, 7), 1, 0, False, True, None),
    ("kernel>input-with-pad", (1, 2, 1, 3), 3, 1, 1, False, False, None),
    ("stride>kernel", (2, 2, 11, 10), 2, 3, 1, True, False, None),
]
AVG_IDS = [c[0] for c in AVG_CASES]

# (id, x shape, output_size): bins that divide, do not divide, overlap, outnumber the input;
# N*C planes fewer than, a multiple of, and more than (not a multiple of) PLANE_GROUP.
ADAPTIVE_CASES = [
    ("divides", (2, 3, 8, 6), (4, 3)),
    ("global", (4, 5, 7, 5), 1),
    ("does-not-divide", (3, 5, 7, 9), (3, 4)),
    ("overlapping-bins", (2, 2, 10, 11), (4, 3)),
    ("larger-than-input", (1, 2, 3, 2), (5, 7)),
    ("mixed", (2, 4, 5, 13), (8, 4)),
    ("identity", (1, 2, 4, 6), (4, 6)),
    ("one-row", (2, 2, 9, 1), (2, 3)),
]
ADAPTIVE_IDS = [c[0] for c in ADAPTIVE_CASES]


def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------- float64 references

def reference_windows(x_shape, kernel_size, stride, padding, ceil_mode):
    """The windows' first rows and first columns (in input coordinates), found by walking:
    a window is kept while it fits the padded input or, with ceil_mode, while it overhangs
    the padded input's end by less than a stride and still starts inside the input or the
    left padding."""
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)

    def starts(size, k, s, p):
        result, start = [], -p
        while start + k <= size + p or (ceil_mode and start + k < size + p + s and start < size):
            result.append(start)
            start += s
        return result

    return starts(x_shape[2], kh, sh, ph), starts(x_shape[3], kw, sw, pw), (kh, kw), (ph, pw)


def reference_avg(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                  divisor_override, dy=None):
    """Zero-pad in float64 and sum each window; the divisor counts the window's positions
    inside the padded input (count_include_pad) or inside the input. With dy, the gradient
    instead: each window spreads dy / divisor over its input positions."""
    n_img, n_chan, height, width = x.shape
    rows, cols, (kh, kw), (ph, pw) = reference_windows(x.shape, kernel_size, stride, padding,
                                                       ceil_mode)
    padded = np.zeros((n_img, n_chan, height + 2 * ph + kh, width + 2 * pw + kw))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    inside_padded = np.zeros(padded.shape[2:], bool)
    inside_padded[:height + 2 * ph, :width + 2 * pw] = True
    inside_input = np.zeros(padded.shape[2:], bool)
    inside_input[ph:ph + height, pw:pw + width] = True
    y = np.zeros((n_img, n_chan, len(rows), len(cols)))
    grad = np.zeros(padded.shape)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            window = (slice(r + ph, r + ph + kh), slice(c + pw, c + pw + kw))
            if divisor_override is not None:
                divisor = divisor_override
            else:
                divisor = (inside_padded if count_include_pad else inside_input)[window].sum()
            y[:, :, i, j] = padded[(..., *window)].sum(axis=(2, 3)) / divisor
            if dy is not None:
                grad[(..., *window)] += dy[:, :, i, j, None, None] / divisor
    if dy is not None:
        return grad[:, :, ph:ph + height, pw:pw + width]
    return y


def reference_bins(size, n_out):
    return [(math.floor(o * size / n_out), math.ceil((o + 1) * size / n_out))
            for o in range(n_out)]


def reference_adaptive(x, output_size, kind, dy=None):
    """Bins by PyTorch's rule in float64 math; "avg" gives means, "max" the first maximum in
    row-major order (NaN wins) and its flat index. With dy, the gradient of the chosen kind."""
    oh, ow = as_pair(output_size)
    n_img, n_chan, height, width = x.shape
    y = np.zeros((n_img, n_chan, oh, ow))
    idx = np.zeros((n_img, n_chan, oh, ow), np.int64)
    grad = np.zeros(x.shape)
    for i, (h0, h1) in enumerate(reference_bins(height, oh)):
        for j, (w0, w1) in enumerate(reference_bins(width, ow)):
            block = x[:, :, h0:h1, w0:w1].astype(np.float64)
            if kind == "avg":
                y[:, :, i, j] = block.mean(axis=(2, 3))
                if dy is not None:
                    grad[:, :, h0:h1, w0:w1] += dy[:, :, i, j, None, None] / ((h1 - h0) * (w1 - w0))
                continue
            for n, c in np.ndindex(n_img, n_chan):
                flat = block[n, c].ravel()
                nan = np.flatnonzero(np.isnan(flat))
                k = nan[-1] if nan.size else int(np.argmax(flat))
                h, w = h0 + k // (w1 - w0), w0 + k % (w1 - w0)
                y[n, c, i, j], idx[n, c, i, j] = flat[k], h * width + w
                if dy is not None:
                    grad[n, c, h, w] += dy[n, c, i, j]
    if dy is not None:
        return grad
    return (y, idx) if kind == "max" else y


def torch_avg(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              dy):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = F.avg_pool2d(xt, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy()


# ------------------------------------------------------------------------- average pooling

@pytest.mark.parametrize("case", AVG_CASES, ids=AVG_IDS)
def test_avg_pool_matches_reference_and_torch(case):
    _, shape, *args = case
    rng = np.random.default_rng(1)
    x = rand(rng, *shape)
    y = avg_pool2d_forward_cpu(x, *args)
    assert y.dtype == np.float32
    assert_close(y, reference_avg(x, *args), 1e-5, "y vs reference")
    dy = rand(rng, *y.shape)
    dx = avg_pool2d_backward_cpu(dy, x.shape, *args)
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert_close(dx, reference_avg(x, *args, dy=dy), 1e-5, "dx vs reference")
    torch_y, torch_dx = torch_avg(x, *args, dy)
    assert y.shape == torch_y.shape
    assert_close(y, torch_y, 1e-5, "y vs torch")
    assert_close(dx, torch_dx, 1e-5, "dx vs torch")


def test_reference_geometry_agrees_with_torch_shapes():
    # The reference finds its output sizes its own way: check them on every case.
    for _, shape, k, s, p, ceil, *_ in AVG_CASES:
        rows, cols, _, _ = reference_windows(shape, k, s, p, ceil)
        expected = F.avg_pool2d(torch.zeros(shape), k, s, p, ceil).shape[2:]
        assert (len(rows), len(cols)) == tuple(expected), (shape, k, s, p, ceil)


def test_avg_pool_given_outputs_are_overwritten_and_returned():
    rng = np.random.default_rng(2)
    x = rand(rng, 3, 2, 7, 9)
    args = (3, 2, 1, True, False, None)
    ref = avg_pool2d_forward_cpu(x, *args)
    out = poisoned(ref.shape)
    assert avg_pool2d_forward_cpu(x, *args, out=out) is out
    np.testing.assert_array_equal(out, ref)
    dy = rand(rng, *ref.shape)
    dx_out = poisoned(x.shape)
    assert avg_pool2d_backward_cpu(dy, x.shape, *args, out=dx_out) is dx_out
    np.testing.assert_array_equal(dx_out, avg_pool2d_backward_cpu(dy, x.shape, *args))


def test_avg_pool_empty_batch():
    x = np.zeros((0, 3, 6, 5), np.float32)
    y = avg_pool2d_forward_cpu(x, 2, 2, 1, True, True, None)
    assert y.shape == (0, 3, 4, 3)
    assert avg_pool2d_backward_cpu(y, x.shape, 2, 2, 1, True, True, None).shape == x.shape


# ------------------------------------------------------------------------ adaptive pooling

@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=ADAPTIVE_IDS)
def test_adaptive_avg_pool_matches_reference_and_torch(case):
    _, shape, size = case
    rng = np.random.default_rng(3)
    x = rand(rng, *shape)
    y = adaptive_avg_pool2d_forward_cpu(x, size)
    assert y.dtype == np.float32 and y.shape == (*shape[:2], *as_pair(size))
    assert_close(y, reference_adaptive(x, size, "avg"), 1e-5, "y vs reference")
    dy = rand(rng, *y.shape)
    dx = adaptive_avg_pool2d_backward_cpu(dy, x.shape)
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert_close(dx, reference_adaptive(x, size, "avg", dy), 1e-5, "dx vs reference")
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = F.adaptive_avg_pool2d(xt, size)
    yt.backward(torch.tensor(dy, dtype=torch.float64))
    assert_close(y, yt.detach().numpy(), 1e-5, "y vs torch")
    assert_close(dx, xt.grad.numpy(), 1e-5, "dx vs torch")


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=ADAPTIVE_IDS)
def test_adaptive_max_pool_matches_reference_and_torch(case):
    _, shape, size = case
    rng = np.random.default_rng(4)
    x = rand(rng, *shape)
    y, idx = adaptive_max_pool2d_forward_cpu(x, size)
    assert y.dtype == np.float32 and idx.dtype == np.int64
    ref_y, ref_idx = reference_adaptive(x, size, "max")
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(idx, ref_idx)
    dy = rand(rng, *y.shape)
    dx = adaptive_max_pool2d_backward_cpu(dy, idx, x.shape)
    assert_close(dx, reference_adaptive(x, size, "max", dy), 1e-6, "dx vs reference")
    xt = torch.tensor(x, requires_grad=True)
    yt, it = F.adaptive_max_pool2d(xt, size, return_indices=True)
    yt.backward(torch.tensor(dy))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(idx, it.numpy())
    assert_close(dx, xt.grad.numpy(), 1e-6, "dx vs torch")


def test_adaptive_max_ties_nan_and_minus_inf_follow_torch():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(2, 3, 9, 7)).astype(np.float32)   # ties in most bins
    x[0, 0] = 1.0                                                  # one big tie
    x[0, 1, 1, 1] = x[0, 1, 1, 2] = x[0, 1, 5, 3] = np.nan         # two NaNs share a bin
    x[1, 2, :5, :4] = -np.inf                                      # bins of -inf only
    for size in [(3, 2), (4, 5), (11, 9), 1]:
        y, idx = adaptive_max_pool2d_forward_cpu(x, size)
        yt, it = F.adaptive_max_pool2d(torch.from_numpy(x), size, return_indices=True)
        np.testing.assert_array_equal(y, yt.numpy())   # NaN compares equal here
        np.testing.assert_array_equal(idx, it.numpy())
        ref_y, ref_idx = reference_adaptive(x, size, "max")
        np.testing.assert_array_equal(idx, ref_idx)


def test_adaptive_cases_cover_whole_and_partial_plane_groups():
    planes = [shape[0] * shape[1] for _, shape, _ in ADAPTIVE_CASES]
    assert any(n < PLANE_GROUP for n in planes)
    assert any(n % PLANE_GROUP == 0 for n in planes)
    assert any(n > PLANE_GROUP and n % PLANE_GROUP for n in planes)


def test_adaptive_given_outputs_are_overwritten_and_returned():
    rng = np.random.default_rng(6)
    x = rand(rng, 2, 3, 7, 9)
    ref = adaptive_avg_pool2d_forward_cpu(x, (3, 4))
    out = poisoned(ref.shape)
    assert adaptive_avg_pool2d_forward_cpu(x, (3, 4), out=out) is out
    np.testing.assert_array_equal(out, ref)
    dy = rand(rng, *ref.shape)
    dx_out = poisoned(x.shape)
    assert adaptive_avg_pool2d_backward_cpu(dy, x.shape, out=dx_out) is dx_out
    np.testing.assert_array_equal(dx_out, adaptive_avg_pool2d_backward_cpu(dy, x.shape))
    ref_y, ref_idx = adaptive_max_pool2d_forward_cpu(x, (3, 4))
    out, ind = poisoned(ref_y.shape), poisoned(ref_y.shape, np.int64)
    y, idx = adaptive_max_pool2d_forward_cpu(x, (3, 4), out=out, indices=ind)
    assert y is out and idx is ind
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(idx, ref_idx)
    dx_out = poisoned(x.shape)
    assert adaptive_max_pool2d_backward_cpu(dy, idx, x.shape, out=dx_out) is dx_out
    np.testing.assert_array_equal(dx_out, adaptive_max_pool2d_backward_cpu(dy, idx, x.shape))


def test_adaptive_empty_batch_and_empty_output():
    # PyTorch accepts both; the gradient of an empty output is zero.
    x = rand(np.random.default_rng(7), 2, 3, 5, 4)
    for size in [(0, 3), (2, 0), 0]:
        y = adaptive_avg_pool2d_forward_cpu(x, size)
        assert y.shape == (2, 3, *as_pair(size))
        np.testing.assert_array_equal(adaptive_avg_pool2d_backward_cpu(y, x.shape), 0)
        y, idx = adaptive_max_pool2d_forward_cpu(x, size)
        np.testing.assert_array_equal(adaptive_max_pool2d_backward_cpu(y, idx, x.shape), 0)
    empty = np.zeros((0, 3, 5, 4), np.float32)
    assert adaptive_avg_pool2d_forward_cpu(empty, (2, 3)).shape == (0, 3, 2, 3)
    assert adaptive_max_pool2d_forward_cpu(empty, (2, 3))[1].shape == (0, 3, 2, 3)


# ------------------------------------------------------------------------------ bad arguments

X = np.ones((2, 3, 8, 8), np.float32)
Y_SHAPE = (2, 3, 4, 4)   # 2x2 / s2 / p0, or adaptive (4, 4)
DY = np.ones(Y_SHAPE, np.float32)
IDX = np.zeros(Y_SHAPE, np.int64)
AVG = (2, 2, 0, False, True, None)

BAD_AVG_FORWARD = [
    ("rank-3", ValueError, lambda f: f(X[0], *AVG)),
    ("float64", TypeError, lambda f: f(X.astype(np.float64), *AVG)),
    ("not-an-array", TypeError, lambda f: f(X.tolist(), *AVG)),
    ("non-contiguous", ValueError, lambda f: f(np.ones((2, 3, 8, 16), np.float32)[..., ::2], *AVG)),
    ("empty-channels", ValueError, lambda f: f(np.ones((2, 0, 8, 8), np.float32), *AVG)),
    ("kernel>padded-input", ValueError, lambda f: f(X, 11, 1, 1, False, True, None)),
    ("padding>kernel/2", ValueError, lambda f: f(X, 3, 2, 2, False, True, None)),
    ("padding>kernel/2-w", ValueError, lambda f: f(X, (2, 2), 2, (1, 2), False, True, None)),
    ("stride-0", ValueError, lambda f: f(X, 2, 0, 0, False, True, None)),
    ("kernel-0", ValueError, lambda f: f(X, 0, 1, 0, False, True, None)),
    ("negative-padding", ValueError, lambda f: f(X, 2, 2, -1, False, True, None)),
    ("kernel-triple", ValueError, lambda f: f(X, (2, 2, 2), 2, 0, False, True, None)),
    ("kernel-float", TypeError, lambda f: f(X, 2.0, 2, 0, False, True, None)),
    ("divisor-zero", ValueError, lambda f: f(X, 2, 2, 0, False, True, 0)),
    ("divisor-float", TypeError, lambda f: f(X, 2, 2, 0, False, True, 2.0)),
    ("divisor-huge", ValueError, lambda f: f(X, 2, 2, 0, False, True, 2**40)),
    ("out-wrong-shape", ValueError, lambda f: f(X, *AVG, out=np.empty((2, 3, 4, 5), np.float32))),
    ("out-wrong-dtype", TypeError, lambda f: f(X, *AVG, out=np.empty(Y_SHAPE, np.float64))),
]

BAD_AVG_BACKWARD = [
    ("dy-rank-3", ValueError, lambda f: f(DY[0], X.shape, *AVG)),
    ("dy-float64", TypeError, lambda f: f(DY.astype(np.float64), X.shape, *AVG)),
    ("dy-not-pooled-shape", ValueError, lambda f: f(DY, X.shape, 3, 2, 0, False, True, None)),
    ("dy-wrong-batch", ValueError, lambda f: f(DY, (3, 3, 8, 8), *AVG)),
    ("x-shape-rank-3", ValueError, lambda f: f(DY, (3, 8, 8), *AVG)),
    ("padding>kernel/2", ValueError, lambda f: f(DY, X.shape, 2, 2, 2, False, True, None)),
    ("divisor-zero", ValueError, lambda f: f(DY, X.shape, 2, 2, 0, False, True, 0)),
    ("out-wrong-shape", ValueError,
     lambda f: f(DY, X.shape, *AVG, out=np.empty((2, 3, 8, 9), np.float32))),
]

BAD_ADAPTIVE_FORWARD = [
    ("rank-3", ValueError, lambda f: f(X[0], 4)),
    ("float64", TypeError, lambda f: f(X.astype(np.float64), 4)),
    ("non-contiguous", ValueError, lambda f: f(np.ones((2, 3, 8, 16), np.float32)[..., ::2], 4)),
    ("empty-plane", ValueError, lambda f: f(np.ones((2, 3, 0, 8), np.float32), 4)),
    ("negative-size", ValueError, lambda f: f(X, (4, -1))),
    ("size-triple", ValueError, lambda f: f(X, (4, 4, 4))),
    ("size-float", TypeError, lambda f: f(X, 2.5)),
    ("size-none", TypeError, lambda f: f(X, (None, 4))),   # the functional layer resolves None
    ("out-wrong-shape", ValueError, lambda f: f(X, 4, out=np.empty((2, 3, 4, 5), np.float32))),
]

BAD_ADAPTIVE_BACKWARD = [
    ("dy-rank-3", ValueError, lambda f, *i: f(DY[0], *i, X.shape)),
    ("dy-float64", TypeError, lambda f, *i: f(DY.astype(np.float64), *i, X.shape)),
    ("dy-wrong-batch", ValueError, lambda f, *i: f(DY, *i, (3, 3, 8, 8))),
    ("dy-wrong-channels", ValueError, lambda f, *i: f(DY, *i, (2, 4, 8, 8))),
    ("x-shape-rank-3", ValueError, lambda f, *i: f(DY, *i, (3, 8, 8))),
    ("x-shape-empty-plane", ValueError, lambda f, *i: f(DY, *i, (2, 3, 0, 8))),
    ("out-wrong-shape", ValueError,
     lambda f, *i: f(DY, *i, X.shape, out=np.empty((2, 3, 8, 9), np.float32))),
]

BAD_ADAPTIVE_MAX_ONLY = [
    ("indices-wrong-shape", ValueError,
     lambda f: f(X, 4, indices=np.empty((2, 3, 5, 4), np.int64))),
    ("indices-int32", TypeError, lambda f: f(X, 4, indices=np.empty(Y_SHAPE, np.int32))),
]

BAD_ADAPTIVE_MAX_BACKWARD_ONLY = [
    ("indices-int32", TypeError, lambda f: f(DY, IDX.astype(np.int32), X.shape)),
    ("indices-wrong-shape", ValueError, lambda f: f(DY, IDX[:, :, :3], X.shape)),
    ("indices-non-contiguous", ValueError,
     lambda f: f(DY, np.zeros((2, 3, 4, 8), np.int64)[..., ::2], X.shape)),
]

# Only the CPU twin checks where the indices point: the CUDA kernel drops an index outside the
# plane.
BAD_ADAPTIVE_MAX_BACKWARD_CPU_ONLY = [
    ("index-past-the-plane", ValueError,
     lambda f: f(DY, with_entry(IDX, (1, 2, 3, 3), 8 * 8), X.shape)),
    ("index-negative", ValueError, lambda f: f(DY, with_entry(IDX, (1, 2, 3, 3), -1), X.shape)),
]

test_twins_reject_bad_arguments = bad_calls_test(
    bad_calls("avg_pool2d_forward", [avg_pool2d_forward_cpu, avg_pool2d_forward_cuda],
              BAD_AVG_FORWARD),
    bad_calls("avg_pool2d_backward", [avg_pool2d_backward_cpu, avg_pool2d_backward_cuda],
              BAD_AVG_BACKWARD),
    bad_calls(None, [adaptive_avg_pool2d_forward_cpu, adaptive_avg_pool2d_forward_cuda,
                     adaptive_max_pool2d_forward_cpu, adaptive_max_pool2d_forward_cuda],
              BAD_ADAPTIVE_FORWARD),
    bad_calls("adaptive_max_pool2d_forward", [adaptive_max_pool2d_forward_cpu,
                                              adaptive_max_pool2d_forward_cuda],
              BAD_ADAPTIVE_MAX_ONLY),
    bad_calls(None, [adaptive_avg_pool2d_backward_cpu, adaptive_avg_pool2d_backward_cuda],
              BAD_ADAPTIVE_BACKWARD),
    bad_calls(None, [adaptive_max_pool2d_backward_cpu, adaptive_max_pool2d_backward_cuda],
              BAD_ADAPTIVE_BACKWARD, extra=(IDX,)),
    bad_calls("adaptive_max_pool2d_backward", [adaptive_max_pool2d_backward_cpu,
                                               adaptive_max_pool2d_backward_cuda],
              BAD_ADAPTIVE_MAX_BACKWARD_ONLY),
    bad_calls("outside", [adaptive_max_pool2d_backward_cpu], BAD_ADAPTIVE_MAX_BACKWARD_CPU_ONLY))


def test_cuda_launchers_refuse_host_arrays():
    calls = [lambda: avg_pool2d_forward_cuda(X, *AVG),
             lambda: avg_pool2d_backward_cuda(DY, X.shape, *AVG),
             lambda: adaptive_avg_pool2d_forward_cuda(X, 4),
             lambda: adaptive_avg_pool2d_backward_cuda(DY, X.shape),
             lambda: adaptive_max_pool2d_forward_cuda(X, 4),
             lambda: adaptive_max_pool2d_backward_cuda(DY, IDX, X.shape)]
    for call in calls:
        with pytest.raises(TypeError, match="device array"):
            call()
