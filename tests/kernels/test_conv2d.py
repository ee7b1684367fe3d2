"""conv2d CPU twins against a plain float64 reference, a few cases against torch, and bad calls.

The reference slides the filter over an explicitly zero-padded input, one (r, s) tap at a time,
with np.einsum: no im2col, so it shares no code path with the twins it checks.
"""
import zlib

import numba
import numpy as np
import pytest

from gpucnn.kernels import conv2d_im2col
from gpucnn.kernels.conv2d import (
    conv2d_backward_data_cpu,
    conv2d_backward_weight_cpu,
    conv2d_forward_cpu,
)
from gpucnn.kernels._views import as_strided
from gpucnn.kernels.reduce import R_SUM, reduce_cpu
from tests.helpers import assert_close, poisoned, rand


# ---------------------------------------------------------------- float64 reference

def _taps(case):
    """Yield (group, r, s, window) where window(a) picks the padded-input positions tap (r, s)
    meets for every output (p, q), as a strided view of a (N, C, Hp, Wp) array."""
    (sh, sw), (dh, dw) = case["stride"], case["dilation"]
    _, p, q = case["out_hw"]
    r_size, s_size = case["w_shape"][2:]
    for g in range(case["groups"]):
        for r in range(r_size):
            for s in range(s_size):
                rows = slice(r * dh, r * dh + sh * (p - 1) + 1, sh)
                cols = slice(s * dw, s * dw + sw * (q - 1) + 1, sw)
                yield g, r, s, (lambda a, rows=rows, cols=cols: a[:, :, rows, cols])


def _padded(case, a):
    pt, pb, pl, pr = case["padding"]
    return np.pad(a.astype(np.float64), ((0, 0), (0, 0), (pt, pb), (pl, pr)))


def ref_forward(case, x, w, b):
    k, cg = case["w_shape"][:2]
    kg = k // case["groups"]
    xp = _padded(case, x)
    y = np.zeros((x.shape[0], k) + case["out_hw"][1:])
    for g, r, s, window in _taps(case):
        xg = window(xp)[:, g * cg:(g + 1) * cg]
        y[:, g * kg:(g + 1) * kg] += np.einsum("ncpq,kc->nkpq", xg, w[g * kg:(g + 1) * kg, :, r, s])
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def ref_backward_data(case, dy, w):
    k, cg = case["w_shape"][:2]
    kg = k // case["groups"]
    pt, pb, pl, pr = case["padding"]
    n, c, h, wd = case["x_shape"]
    dxp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    for g, r, s, window in _taps(case):
        window(dxp)[:, g * cg:(g + 1) * cg] += np.einsum(
            "nkpq,kc->ncpq", dy[:, g * kg:(g + 1) * kg].astype(np.float64),
            w[g * kg:(g + 1) * kg, :, r, s].astype(np.float64))
    return dxp[:, :, pt:pt + h, pl:pl + wd]


def ref_backward_weight(case, x, dy):
    k, cg = case["w_shape"][:2]
    kg = k // case["groups"]
    xp = _padded(case, x)
    dw = np.zeros(case["w_shape"])
    for g, r, s, window in _taps(case):
        dw[g * kg:(g + 1) * kg, :, r, s] = np.einsum(
            "nkpq,ncpq->kc", dy[:, g * kg:(g + 1) * kg].astype(np.float64),
            window(xp)[:, g * cg:(g + 1) * cg])
    return dw


# ---------------------------------------------------------------- the sweep

def make_case(n, c, h, w, k, r, s, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1),
              groups=1):
    pt, pb, pl, pr = padding
    (sh, sw), (dh, dw) = stride, dilation
    p = (h + pt + pb - dh * (r - 1) - 1) // sh + 1
    q = (w + pl + pr - dw * (s - 1) - 1) // sw + 1
    return dict(x_shape=(n, c, h, w), w_shape=(k, c // groups, r, s), stride=stride,
                padding=padding, dilation=dilation, groups=groups, out_hw=(k, p, q))


CASES = {
    "3x3_pad1": make_case(2, 3, 8, 8, 4, 3, 3, padding=(1, 1, 1, 1)),
    "batch1_odd_hw": make_case(1, 5, 7, 9, 6, 3, 3, padding=(1, 1, 1, 1)),
    "batch3_13x13_unpadded": make_case(3, 3, 13, 13, 5, 3, 3),
    "1x1": make_case(3, 5, 7, 9, 4, 1, 1),
    "1x1_groups2": make_case(3, 4, 7, 5, 6, 1, 1, groups=2),
    "1x1_stride2_pad": make_case(3, 5, 9, 7, 4, 1, 1, stride=(2, 2), padding=(1, 0, 0, 1)),
    "5x5_pad2": make_case(3, 1, 13, 13, 6, 5, 5, padding=(2, 2, 2, 2)),
    "5x5_unpadded": make_case(3, 6, 9, 9, 16, 5, 5),
    "3x2_stride21": make_case(3, 5, 9, 7, 4, 3, 2, stride=(2, 1), padding=(1, 0, 1, 1)),
    "stride2": make_case(3, 3, 9, 9, 5, 3, 3, stride=(2, 2), padding=(1, 1, 1, 1)),
    "stride3_odd": make_case(3, 3, 13, 11, 4, 3, 3, stride=(3, 3), padding=(1, 1, 1, 1)),
    "asymmetric_padding": make_case(3, 3, 7, 9, 4, 3, 3, padding=(0, 2, 1, 0)),
    "dilation2": make_case(3, 3, 9, 13, 4, 3, 3, padding=(2, 2, 2, 2), dilation=(2, 2)),
    "dilation21_stride12": make_case(3, 5, 9, 9, 3, 3, 3, stride=(1, 2), padding=(1, 2, 0, 1),
                                     dilation=(2, 1)),
    "groups2": make_case(3, 4, 9, 7, 6, 3, 3, padding=(1, 1, 1, 1), groups=2),
    "depthwise": make_case(3, 5, 9, 9, 5, 3, 3, padding=(1, 1, 1, 1), groups=5),
    "depthwise_multiplier2": make_case(3, 3, 7, 9, 6, 3, 3, stride=(2, 2), groups=3),
    "kernel_equals_padded_input": make_case(3, 3, 5, 4, 4, 7, 4, padding=(1, 1, 0, 0)),
    "kernel_equals_input_dilated": make_case(1, 2, 5, 5, 3, 3, 3, dilation=(2, 2)),
    "everything": make_case(3, 4, 13, 11, 6, 3, 2, stride=(2, 3), padding=(2, 0, 1, 3),
                            dilation=(2, 2), groups=2),
}


def geometry_args(case):
    return case["stride"], case["padding"], case["dilation"], case["groups"]


@pytest.fixture
def rng(request):
    # Fresh data per test, but reproducible from the test's name.
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


# Every case runs through both CPU pipelines: the per-image one on one thread, on all of them
# (uneven shares; a batch smaller than the thread count split into blocks), and with blocks
# cut down to a few output rows or input channels (what a large photo gets); and the batched.
ALL = numba.config.NUMBA_NUM_THREADS
PIPELINES = {"per_image_1_thread": ("per_image", 1, None),
             "per_image_all_threads": ("per_image", ALL, None),
             "per_image_small_blocks": ("per_image", ALL, 64),
             "batched": ("batched", ALL, None)}


@pytest.fixture(params=PIPELINES)
def pipeline(request, monkeypatch):
    name, threads, block_floats = PIPELINES[request.param]
    monkeypatch.setattr(conv2d_im2col, "pipeline", lambda geo: name)
    if block_floats:
        monkeypatch.setattr(conv2d_im2col, "BLOCK_FLOATS", block_floats)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    yield name
    numba.set_num_threads(previous)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("name", CASES)
def test_forward(name, bias, rng, pipeline):
    case = CASES[name]
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    b = rand(rng, case["w_shape"][0]) if bias else None
    y = conv2d_forward_cpu(x, w, b, *geometry_args(case))
    assert y.shape == (case["x_shape"][0],) + case["out_hw"]
    assert_close(y, ref_forward(case, x, w, b), what=f"forward {name}")


# gradient: (its CPU twin, its reference), each called as f(case, x, w, dy)
BACKWARD = {
    "data": (lambda case, x, w, dy: conv2d_backward_data_cpu(dy, w, case["x_shape"],
                                                             *geometry_args(case)),
             lambda case, x, w, dy: ref_backward_data(case, dy, w)),
    "weight": (lambda case, x, w, dy: conv2d_backward_weight_cpu(x, dy, case["w_shape"],
                                                                 *geometry_args(case)),
               lambda case, x, w, dy: ref_backward_weight(case, x, dy)),
}


@pytest.mark.parametrize("gradient", BACKWARD)
@pytest.mark.parametrize("name", CASES)
def test_backward(name, gradient, rng, pipeline):
    case = CASES[name]
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    dy = rand(rng, case["x_shape"][0], *case["out_hw"])
    twin, reference = BACKWARD[gradient]
    assert_close(twin(case, x, w, dy), reference(case, x, w, dy),
                 what=f"backward {gradient} {name}")


def conv_bias_grad(dy, out=None):
    """The convolution's bias gradient as the engine computes it: a sum of dy viewed as
    (1, K, N, P*Q) (kernels/reduce.py)."""
    n, k, p, q = dy.shape
    view = as_strided(dy, (1, k, n, p * q), (0, p * q, k * p * q, 1))
    if out is None:
        return reduce_cpu(R_SUM, view).reshape(k)
    reduce_cpu(R_SUM, view, out=out.reshape(1, -1))   # a (1, K) view of out
    return out


@pytest.mark.parametrize("shape", [(1, 4, 1, 1), (3, 5, 7, 9), (64, 6, 14, 14)])
def test_backward_bias(shape, rng):
    dy = rand(rng, *shape)
    assert_close(conv_bias_grad(dy), dy.astype(np.float64).sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("name", ["3x3_pad1", "1x1_groups2", "everything"])
def test_out_is_filled_and_returned(name, rng, pipeline):
    case = CASES[name]
    n = case["x_shape"][0]
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    b, dy = rand(rng, case["w_shape"][0]), rand(rng, n, *case["out_hw"])
    geo = geometry_args(case)
    out = poisoned((n,) + case["out_hw"])
    assert conv2d_forward_cpu(x, w, b, *geo, out=out) is out
    assert_close(out, ref_forward(case, x, w, b))
    out = poisoned(case["x_shape"])
    assert conv2d_backward_data_cpu(dy, w, case["x_shape"], *geo, out=out) is out
    assert_close(out, ref_backward_data(case, dy, w))
    out = poisoned(case["w_shape"])
    assert conv2d_backward_weight_cpu(x, dy, case["w_shape"], *geo, out=out) is out
    assert_close(out, ref_backward_weight(case, x, dy))
    out = poisoned((case["w_shape"][0],))
    assert conv_bias_grad(dy, out=out) is out
    assert_close(out, dy.astype(np.float64).sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("layer", [(64, 32, 16, 16, 64), (7, 16, 8, 8, 24)],
                         ids=["cifar_conv2_b64", "odd_batch_8x8"])
def test_cifar_sized_layer_and_reproducible(layer, rng, pipeline):
    """A batch-64 CIFAR layer, the size the engine trains at, and an odd batch (uneven between
    threads); run twice, bit for bit."""
    case = make_case(*layer, 3, 3, padding=(1, 1, 1, 1))
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    b, dy = rand(rng, case["w_shape"][0]), rand(rng, case["x_shape"][0], *case["out_hw"])
    geo = geometry_args(case)
    y = conv2d_forward_cpu(x, w, b, *geo, out=poisoned((case["x_shape"][0],) + case["out_hw"]))
    assert_close(y, ref_forward(case, x, w, b))
    assert np.array_equal(y, conv2d_forward_cpu(x, w, b, *geo))
    dw = conv2d_backward_weight_cpu(x, dy, case["w_shape"], *geo)
    assert_close(dw, ref_backward_weight(case, x, dy))
    assert np.array_equal(dw, conv2d_backward_weight_cpu(x, dy, case["w_shape"], *geo))
    dx = conv2d_backward_data_cpu(dy, w, case["x_shape"], *geo)
    assert_close(dx, ref_backward_data(case, dy, w))
    assert np.array_equal(dx, conv2d_backward_data_cpu(dy, w, case["x_shape"], *geo))
    db = conv_bias_grad(dy)
    assert np.array_equal(db, conv_bias_grad(dy))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_per_image_forward_and_data_grad_do_not_depend_on_thread_count(rng, monkeypatch):
    monkeypatch.setattr(conv2d_im2col, "pipeline", lambda geo: "per_image")
    case = make_case(9, 6, 10, 10, 8, 3, 3, padding=(1, 1, 1, 1))
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    b, dy = rand(rng, 8), rand(rng, 9, *case["out_hw"])
    geo = geometry_args(case)
    results = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            results.append((conv2d_forward_cpu(x, w, b, *geo),
                            conv2d_backward_data_cpu(dy, w, x.shape, *geo)))
    finally:
        numba.set_num_threads(previous)
    for one, two in zip(*results):
        assert np.array_equal(one, two)


# ---------------------------------------------------------------- torch cross-check

@pytest.mark.parametrize("name", ["5x5_pad2", "everything"])
def test_matches_torch_autograd(name, rng):
    torch = pytest.importorskip("torch")
    case = CASES[name]
    x, w = rand(rng, *case["x_shape"]), rand(rng, *case["w_shape"])
    b = rand(rng, case["w_shape"][0])
    stride, (pt, pb, pl, pr), dilation, groups = geometry_args(case)
    xt, wt, bt = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    # torch pads symmetrically inside conv2d; asymmetric padding goes through F.pad first.
    yt = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (pl, pr, pt, pb)), wt, bt,
                                    stride=stride, dilation=dilation, groups=groups)
    dy = rand(rng, *yt.shape)
    gx, gw, gb = torch.autograd.grad(yt, (xt, wt, bt), torch.tensor(dy, dtype=torch.float64))
    geo = geometry_args(case)
    assert_close(conv2d_forward_cpu(x, w, b, *geo), yt.detach().numpy(), what="forward")
    assert_close(conv2d_backward_data_cpu(dy, w, x.shape, *geo), gx.numpy(), what="dx")
    assert_close(conv2d_backward_weight_cpu(x, dy, w.shape, *geo), gw.numpy(), what="dw")
    assert_close(conv_bias_grad(dy), gb.numpy(), what="db")


# ---------------------------------------------------------------- bad arguments

GEO = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
X = np.zeros((2, 4, 6, 6), np.float32)
W = np.zeros((3, 4, 3, 3), np.float32)
DY = np.zeros((2, 3, 6, 6), np.float32)

BAD_FORWARD = {
    "x_rank": (dict(x=X[0]), ValueError, "4-D"),
    "w_rank": (dict(w=W[0]), ValueError, "4-D"),
    "channels_mismatch": (dict(w=np.zeros((3, 3, 3, 3), np.float32)), ValueError, "input channels"),
    "groups_not_dividing": (dict(groups=3), ValueError, "groups=3"),
    "groups_not_dividing_k": (dict(w=np.zeros((3, 2, 3, 3), np.float32), groups=2), ValueError,
                              "groups=2"),
    "x_float64": (dict(x=X.astype(np.float64)), TypeError, "float32"),
    "w_float64": (dict(w=W.astype(np.float64)), TypeError, "float32"),
    "x_not_contiguous": (dict(x=np.zeros((2, 4, 6, 12), np.float32)[..., ::2]), ValueError,
                         "C-contiguous"),
    "kernel_larger_than_padded": (dict(w=np.zeros((3, 4, 9, 3), np.float32)), ValueError,
                                  "larger than the padded input"),
    "dilated_kernel_too_large": (dict(dilation=(4, 1)), ValueError, "larger than the padded"),
    "bias_length": (dict(b=np.zeros(4, np.float32)), ValueError, "bias"),
    "bias_dtype": (dict(b=np.zeros(3, np.float64)), TypeError, "float32"),
    "out_shape": (dict(out=np.zeros((2, 3, 5, 6), np.float32)), ValueError, "out has shape"),
    "out_dtype": (dict(out=np.zeros((2, 3, 6, 6), np.float64)), TypeError, "float32"),
    "stride_zero": (dict(stride=(0, 1)), ValueError, "stride"),
    "negative_padding": (dict(padding=(1, 1, -1, 1)), ValueError, "padding"),
    "padding_length": (dict(padding=(1, 1, 1)), ValueError, "padding"),
    "x_not_array": (dict(x=[[1.0]]), TypeError, "array"),
}


def call_forward(fn, x=X, w=W, b=None, stride=GEO[0], padding=GEO[1], dilation=GEO[2],
                 groups=GEO[3], out=None):
    return fn(x, w, b, stride, padding, dilation, groups, out=out)


@pytest.mark.parametrize("bad", BAD_FORWARD)
def test_forward_bad_arguments(bad):
    kwargs, error, message = BAD_FORWARD[bad]
    with pytest.raises(error, match=message) as info:
        call_forward(conv2d_forward_cpu, **kwargs)
    assert "conv2d_forward_cpu" in str(info.value)


@pytest.mark.parametrize("bad", ["dy_shape", "x_shape_rank", "x_shape_type", "channels",
                                 "out_shape", "dy_dtype", "groups"])
def test_backward_data_bad_arguments(bad):
    args = dict(dy=DY, w=W, x_shape=X.shape, groups=1, out=None)
    error = ValueError
    if bad == "dy_shape":
        args["dy"] = np.zeros((2, 3, 5, 6), np.float32)
    elif bad == "x_shape_rank":
        args["x_shape"] = (2, 4, 6)
    elif bad == "x_shape_type":
        args["x_shape"] = 7
        error = TypeError
    elif bad == "channels":
        args["x_shape"] = (2, 5, 6, 6)
    elif bad == "out_shape":
        args["out"] = np.zeros((2, 4, 6, 5), np.float32)
    elif bad == "dy_dtype":
        args["dy"] = DY.astype(np.float64)
        error = TypeError
    elif bad == "groups":
        args["groups"] = 2
    with pytest.raises(error, match="conv2d_backward_data_cpu"):
        conv2d_backward_data_cpu(args["dy"], args["w"], args["x_shape"], GEO[0], GEO[1], GEO[2],
                                 args["groups"], out=args["out"])


@pytest.mark.parametrize("bad", ["dy_shape", "w_shape_rank", "channels", "out_shape",
                                 "x_not_contiguous", "kernel_too_large"])
def test_backward_weight_bad_arguments(bad):
    args = dict(x=X, dy=DY, w_shape=W.shape, out=None)
    if bad == "dy_shape":
        args["dy"] = np.zeros((2, 4, 6, 6), np.float32)
    elif bad == "w_shape_rank":
        args["w_shape"] = (3, 4, 3)
    elif bad == "channels":
        args["w_shape"] = (3, 5, 3, 3)
    elif bad == "out_shape":
        args["out"] = np.zeros((3, 4, 3, 2), np.float32)
    elif bad == "x_not_contiguous":
        args["x"] = np.asfortranarray(X)
    elif bad == "kernel_too_large":
        args["w_shape"] = (3, 4, 3, 9)
    with pytest.raises(ValueError, match="conv2d_backward_weight_cpu"):
        conv2d_backward_weight_cpu(args["x"], args["dy"], args["w_shape"], *GEO, out=args["out"])


def test_bias_gradient_bad_arguments():
    n, k, p, q = DY.shape
    with pytest.raises(ValueError, match="reduce_cpu.*4-D"):
        reduce_cpu(R_SUM, DY.reshape(n, k, p * q))
    with pytest.raises(ValueError, match="reduce_cpu.*out"):
        conv_bias_grad(DY, out=np.zeros((1, k + 1), np.float32))
    with pytest.raises(TypeError, match="reduce_cpu"):
        reduce_cpu(R_SUM, DY.astype(np.float16))
