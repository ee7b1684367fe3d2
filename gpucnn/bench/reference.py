"""Float64 NumPy references for the CPU checks, and the error measure every check uses.

Each reference is written the plainest way that is still fast enough at the bench's shapes:
a convolution is a sum over its R*S taps of one tensordot each (a tap is a strided slice of
the zero-padded input), so forward, backward-data and backward-weight share one slicing
helper and none of them shares code with the kernels under test.
"""
import numpy as np

# float32 results against a float64 reference land far below this (typically 1e-7 to 1e-6);
# a wrong index, an unwritten element (NaN-poisoned) or a float16-like precision loss do not.
TOLERANCE = 1e-4


def relative_l2_error(actual, expected) -> float:
    """||actual - expected|| / ||expected|| in float64; inf when shapes differ or NaN appears."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return float("inf")
    scale = np.linalg.norm(expected)
    diff = np.linalg.norm(actual - expected)
    return float(diff / scale) if scale > 0 else float(diff)


def _tap(xp, r, s, stride, dilation, p, q):
    """The input pixels that tap (r, s) of every window reads: xp[..., r*d + stride*i, ...]."""
    h0, w0 = r * dilation, s * dilation
    return xp[:, :, h0:h0 + stride * (p - 1) + 1:stride, w0:w0 + stride * (q - 1) + 1:stride]


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, _, h, wd = x.shape
    k, _, r_size, s_size = w.shape
    p = (h + 2 * pad - dilation * (r_size - 1) - 1) // stride + 1
    q = (wd + 2 * pad - dilation * (s_size - 1) - 1) // stride + 1
    xp = _pad(x, pad)
    y = np.zeros((n, k, p, q))
    for r in range(r_size):
        for s in range(s_size):
            # (N, C, P, Q) . (K, C) over C -> (N, P, Q, K)
            y += np.tensordot(_tap(xp, r, s, stride, dilation, p, q), w[:, :, r, s],
                              axes=([1], [1])).transpose(0, 3, 1, 2)
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def conv2d_backward_data(dy, w, x_shape, stride=1, pad=0, dilation=1):
    dy, w = dy.astype(np.float64), w.astype(np.float64)
    n, c, h, wd = x_shape
    _, _, r_size, s_size = w.shape
    p, q = dy.shape[2], dy.shape[3]
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    for r in range(r_size):
        for s in range(s_size):
            # (N, K, P, Q) . (K, C) over K -> (N, P, Q, C), added where the tap read from.
            _tap(dxp, r, s, stride, dilation, p, q)[...] += np.tensordot(
                dy, w[:, :, r, s], axes=([1], [0])).transpose(0, 3, 1, 2)
    return dxp[:, :, pad:pad + h, pad:pad + wd]


def conv2d_backward_weight(x, dy, w_shape, stride=1, pad=0, dilation=1):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    _, _, r_size, s_size = w_shape
    p, q = dy.shape[2], dy.shape[3]
    xp = _pad(x, pad)
    dw = np.zeros(w_shape)
    for r in range(r_size):
        for s in range(s_size):
            # (N, K, P, Q) . (N, C, P, Q) over N, P, Q -> (K, C)
            dw[:, :, r, s] = np.tensordot(dy, _tap(xp, r, s, stride, dilation, p, q),
                                          axes=([0, 2, 3], [0, 2, 3]))
    return dw


def matmul(a, b, trans_a=False, trans_b=False, bias=None):
    a, b = a.astype(np.float64), b.astype(np.float64)
    out = (a.T if trans_a else a) @ (b.T if trans_b else b)
    if bias is not None:
        out += bias.astype(np.float64)
    return out


def max_pool2d_forward(x, kernel, stride):
    """(y, indices) for an unpadded pool; indices h*W + w of the first maximum, as PyTorch."""
    n, c, h, w = x.shape
    oh, ow = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :oh, :ow].reshape(n, c, oh, ow, -1)
    at = windows.argmax(axis=-1)  # first maximum in row-major window order
    y = np.take_along_axis(windows, at[..., None], axis=-1)[..., 0]
    rows = np.arange(oh)[:, None] * stride + at // kernel
    cols = np.arange(ow)[None, :] * stride + at % kernel
    return y.astype(np.float64), (rows * w + cols).astype(np.int64)


def max_pool2d_backward(dy, indices, x_shape):
    n, c, h, w = x_shape
    dx = np.zeros((n * c, h * w))
    planes = np.repeat(np.arange(n * c), dy.shape[2] * dy.shape[3])
    np.add.at(dx, (planes, indices.reshape(-1)), dy.astype(np.float64).reshape(-1))
    return dx.reshape(x_shape)
