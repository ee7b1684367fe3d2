"""max_pool2d CPU twin against a plain float64 reference and against PyTorch (values, indices,
gradients), plus the argument checks both twins share."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gpucnn.kernels.max_pool2d import (max_pool2d_backward_cpu, max_pool2d_backward_cuda,
                                       max_pool2d_forward_cpu, max_pool2d_forward_cuda)
from tests.helpers import assert_close, bad_calls, bad_calls_test, poisoned, rand, with_entry

# (id, x shape, kernel_size, stride, padding, ceil_mode)
CASES = [
    ("2x2s2", (1, 2, 8, 8), 2, 2, 0, False),
    ("2x2s2-odd", (3, 2, 7, 9), 2, 2, 0, False),
    ("2x2s2-odd-ceil", (3, 2, 7, 9), 2, 2, 0, True),        # last windows hang over the edge
    ("3x3s2-overlap", (3, 3, 9, 11), 3, 2, 0, False),
    ("3x3s2-overlap-ceil", (1, 2, 10, 8), 3, 2, 0, True),
    ("3x3s2-pad1", (1, 2, 8, 8), 3, 2, 1, False),
    ("3x3s2-pad1-ceil", (3, 2, 10, 7), 3, 2, 1, True),
    ("3x3s1-pad1", (3, 2, 7, 5), 3, 1, 1, False),
    ("2x3-s1x2-pad1-ceil", (3, 2, 9, 8), (2, 3), (1, 2), (1, 1), True),
    ("3x2-s2x1-pad0x1-ceil", (1, 3, 6, 7), (3, 2), (2, 1), (0, 1), True),
    ("4x4s3-pad2-ceil", (2, 1, 10, 11), 4, 3, 2, True),
    ("5x5s2-pad2", (1, 2, 9, 9), 5, 2, 2, False),              # generic (not unrolled) width
    ("ceil-drops-last-window", (1, 1, 5, 6), 2, 2, 1, True),   # (out-1)*s >= H + p rule
    ("1x1", (1, 2, 5, 5), 1, 1, 0, False),
    ("window=input", (2, 2, 5, 5), 5, 5, 0, False),
    ("kernel>input-with-pad", (1, 2, 1, 3), 3, 1, 1, False),
]
IDS = [c[0] for c in CASES]


def cpu_twins(case, seed):
    """x and dy drawn from seed for a case (id, x shape, kernel_size, stride, padding,
    ceil_mode), and the CPU twins' y, indices and dx."""
    _, shape, k, s, p, ceil = case
    rng = np.random.default_rng(seed)
    x = rand(rng, *shape)
    y, idx = max_pool2d_forward_cpu(x, k, s, p, ceil)
    dy = rand(rng, *y.shape)
    return x, dy, y, idx, max_pool2d_backward_cpu(dy, idx, x.shape, k, s, p, ceil)


def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def reference_forward(x, kernel_size, stride, padding, ceil_mode):
    """Direct loops in float64; padded positions are skipped (they never win)."""
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel_size), as_pair(stride), as_pair(padding)
    n_img, n_chan, height, width = x.shape

    def out_size(size, k, s, p):
        out = (size + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        return out

    out_h, out_w = out_size(height, kh, sh, ph), out_size(width, kw, sw, pw)
    y = np.empty((n_img, n_chan, out_h, out_w))
    idx = np.empty((n_img, n_chan, out_h, out_w), np.int64)
    for n in range(n_img):
        for c in range(n_chan):
            for oh in range(out_h):
                for ow in range(out_w):
                    best, best_at = -np.inf, None
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i, ow * sw - pw + j
                            if 0 <= h < height and 0 <= w < width:
                                v = float(x[n, c, h, w])
                                if best_at is None or v > best:
                                    best, best_at = v, h * width + w
                    y[n, c, oh, ow], idx[n, c, oh, ow] = best, best_at
    return y, idx


def reference_backward(dy, idx, x_shape):
    dx = np.zeros(x_shape)
    flat = dx.reshape(x_shape[0], x_shape[1], -1)
    for n, c, oh, ow in np.ndindex(*dy.shape):
        flat[n, c, idx[n, c, oh, ow]] += dy[n, c, oh, ow]
    return dx


def torch_pool(x, kernel_size, stride, padding, ceil_mode, dy=None):
    xt = torch.from_numpy(x).requires_grad_(dy is not None)
    y, idx = F.max_pool2d(xt, kernel_size, stride, padding, ceil_mode=ceil_mode,
                          return_indices=True)
    if dy is None:
        return y.detach().numpy(), idx.numpy()
    y.backward(torch.from_numpy(dy))
    return y.detach().numpy(), idx.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_reference_and_torch(case):
    _, shape, k, s, p, ceil = case
    x = rand(np.random.default_rng(1), *shape)
    y, idx = max_pool2d_forward_cpu(x, k, s, p, ceil)
    ref_y, ref_idx = reference_forward(x, k, s, p, ceil)
    assert y.dtype == np.float32 and idx.dtype == np.int32
    assert_close(y, ref_y, what="y")
    np.testing.assert_array_equal(idx, ref_idx)
    torch_y, torch_idx = torch_pool(x, k, s, p, ceil)
    assert y.shape == torch_y.shape
    np.testing.assert_array_equal(y, torch_y)
    np.testing.assert_array_equal(idx, torch_idx)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_matches_reference_and_torch_autograd(case):
    k, s, p, ceil = case[2:]
    x, dy, _, idx, dx = cpu_twins(case, 2)
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert_close(dx, reference_backward(dy, idx, x.shape), what="dx vs reference")
    _, _, torch_dx = torch_pool(x, k, s, p, ceil, dy)
    assert_close(dx, torch_dx, what="dx vs torch")


def test_overlapping_windows_accumulate_gradient():
    # A single large value sits in all four 3x3/s2 windows around it: its gradient is their sum.
    x = np.zeros((1, 1, 5, 5), np.float32) - 1
    x[0, 0, 2, 2] = 5
    y, idx = max_pool2d_forward_cpu(x, 3, 2, 0, False)
    assert (idx == 2 * 5 + 2).all()
    dy = np.array([[[[1, 2], [4, 8]]]], np.float32)
    dx = max_pool2d_backward_cpu(dy, idx, x.shape, 3, 2, 0, False)
    assert dx[0, 0, 2, 2] == 15 and np.count_nonzero(dx) == 1


def test_ties_take_the_first_index_like_torch():
    rng = np.random.default_rng(3)
    # Values from a tiny set: most windows hold ties, some several.
    x = rng.integers(0, 3, size=(2, 3, 9, 8)).astype(np.float32)
    x[0, 0] = 1.0  # a constant plane: every window is one big tie
    geometries = [(2, 2, 0, False), (3, 2, 1, True), (3, 1, 1, False), ((2, 3), (1, 2), 1, True)]
    for k, s, p, ceil in geometries:
        y, idx = max_pool2d_forward_cpu(x, k, s, p, ceil)
        dy = rand(rng, *y.shape)
        torch_y, torch_idx, torch_dx = torch_pool(x, k, s, p, ceil, dy)
        np.testing.assert_array_equal(y, torch_y)
        np.testing.assert_array_equal(idx, torch_idx)
        assert_close(max_pool2d_backward_cpu(dy, idx, x.shape, k, s, p, ceil), torch_dx)


def test_nan_and_minus_inf_follow_torch():
    x = rand(np.random.default_rng(4), 1, 2, 6, 6)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 1, 3] = np.nan
    x[0, 1, :2, :2] = -np.inf  # a window of -inf only: index of its first element
    y, idx = max_pool2d_forward_cpu(x, 3, 2, 1, False)
    torch_y, torch_idx = torch_pool(x, 3, 2, 1, False)
    np.testing.assert_array_equal(y, torch_y)  # NaN compares equal here
    np.testing.assert_array_equal(idx, torch_idx)


def test_given_outputs_are_overwritten_and_returned():
    x = rand(np.random.default_rng(5), 3, 2, 7, 9)
    ref_y, ref_idx = max_pool2d_forward_cpu(x, 3, 2, 1, True)
    out, ind = poisoned(ref_y.shape), poisoned(ref_y.shape, np.int32)
    y, idx = max_pool2d_forward_cpu(x, 3, 2, 1, True, out=out, indices=ind)
    assert y is out and idx is ind
    np.testing.assert_array_equal(y, ref_y)
    np.testing.assert_array_equal(idx, ref_idx)
    dy = rand(np.random.default_rng(6), *y.shape)
    dx_out = poisoned(x.shape)
    dx = max_pool2d_backward_cpu(dy, idx, x.shape, 3, 2, 1, True, out=dx_out)
    assert dx is dx_out
    np.testing.assert_array_equal(dx, max_pool2d_backward_cpu(dy, idx, x.shape, 3, 2, 1, True))


# ------------------------------------------------------------------------------ bad arguments

X = np.ones((2, 3, 8, 8), np.float32)
Y_SHAPE = (2, 3, 4, 4)  # 2x2 / s2 / p0
DY = np.ones(Y_SHAPE, np.float32)
IDX = np.zeros(Y_SHAPE, np.int32)

BAD_FORWARD = [
    ("rank-3", ValueError, lambda f: f(X[0], 2, 2, 0, False)),
    ("float64", TypeError, lambda f: f(X.astype(np.float64), 2, 2, 0, False)),
    ("not-an-array", TypeError, lambda f: f(X.tolist(), 2, 2, 0, False)),
    ("non-contiguous", ValueError, lambda f: f(np.ones((2, 3, 8, 16), np.float32)[..., ::2], 2, 2, 0, False)),
    ("kernel>padded-input", ValueError, lambda f: f(X, 11, 1, 1, False)),
    ("padding>kernel/2", ValueError, lambda f: f(X, 3, 2, 2, False)),
    ("padding>kernel/2-w", ValueError, lambda f: f(X, (2, 2), 2, (1, 2), False)),
    ("stride-0", ValueError, lambda f: f(X, 2, 0, 0, False)),
    ("kernel-0", ValueError, lambda f: f(X, 0, 1, 0, False)),
    ("negative-padding", ValueError, lambda f: f(X, 2, 2, -1, False)),
    ("kernel-triple", ValueError, lambda f: f(X, (2, 2, 2), 2, 0, False)),
    ("out-wrong-shape", ValueError, lambda f: f(X, 2, 2, 0, False, out=np.empty((2, 3, 4, 5), np.float32))),
    ("out-wrong-dtype", TypeError, lambda f: f(X, 2, 2, 0, False, out=np.empty(Y_SHAPE, np.float64))),
    ("indices-wrong-shape", ValueError,
     lambda f: f(X, 2, 2, 0, False, indices=np.empty((2, 3, 5, 4), np.int32))),
    ("indices-int64", TypeError, lambda f: f(X, 2, 2, 0, False, indices=np.empty(Y_SHAPE, np.int64))),
]

BAD_BACKWARD = [
    ("dy-rank-3", ValueError, lambda f: f(DY[0], IDX, X.shape, 2, 2, 0, False)),
    ("dy-float64", TypeError, lambda f: f(DY.astype(np.float64), IDX, X.shape, 2, 2, 0, False)),
    ("dy-not-pooled-shape", ValueError, lambda f: f(DY, IDX, X.shape, 3, 2, 0, False)),
    ("dy-wrong-batch", ValueError, lambda f: f(DY, IDX, (3, 3, 8, 8), 2, 2, 0, False)),
    ("x-shape-rank-3", ValueError, lambda f: f(DY, IDX, (3, 8, 8), 2, 2, 0, False)),
    ("indices-int64", TypeError, lambda f: f(DY, IDX.astype(np.int64), X.shape, 2, 2, 0, False)),
    ("indices-wrong-shape", ValueError, lambda f: f(DY, IDX[:, :, :3], X.shape, 2, 2, 0, False)),
    ("indices-non-contiguous", ValueError,
     lambda f: f(DY, np.zeros((2, 3, 4, 8), np.int32)[..., ::2], X.shape, 2, 2, 0, False)),
    ("padding>kernel/2", ValueError, lambda f: f(DY, IDX, X.shape, 2, 2, 2, False)),
    ("out-wrong-shape", ValueError,
     lambda f: f(DY, IDX, X.shape, 2, 2, 0, False, out=np.empty((2, 3, 8, 9), np.float32))),
]


# Only the CPU twin checks where the indices point: the CUDA kernel drops an index outside the
# plane.
BAD_BACKWARD_CPU_ONLY = [
    ("index-past-the-plane", ValueError,
     lambda f: f(DY, with_entry(IDX, (1, 2, 3, 3), 8 * 8), X.shape, 2, 2, 0, False)),
    ("index-negative", ValueError,
     lambda f: f(DY, with_entry(IDX, (1, 2, 3, 3), -1), X.shape, 2, 2, 0, False)),
]

test_twins_reject_bad_arguments = bad_calls_test(
    bad_calls("max_pool2d_forward", [max_pool2d_forward_cpu, max_pool2d_forward_cuda],
              BAD_FORWARD),
    bad_calls("max_pool2d_backward", [max_pool2d_backward_cpu, max_pool2d_backward_cuda],
              BAD_BACKWARD),
    bad_calls("outside", [max_pool2d_backward_cpu], BAD_BACKWARD_CPU_ONLY))


def test_cuda_launchers_refuse_host_arrays():
    with pytest.raises(TypeError, match="device array"):
        max_pool2d_forward_cuda(X, 2, 2, 0, False)
    with pytest.raises(TypeError, match="device array"):
        max_pool2d_backward_cuda(DY, IDX, X.shape, 2, 2, 0, False)
