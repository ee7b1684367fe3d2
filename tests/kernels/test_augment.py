"""pad_crop_flip's CPU twin against a plain NumPy reference (np.pad in the same mode, then a
slice, then a reversed slice where flipped), on odd sizes with every padding mode, asymmetric
padding, crops touching every edge and mixed flips; then the argument checks."""
import numpy as np
import pytest

from gpucnn.kernels.augment import PADDING_MODES, pad_crop_flip_cpu
from tests.helpers import poisoned, rand

MODES = sorted(PADDING_MODES)
NUMPY_MODE = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


def reference(x, params, size, padding, mode, fill):
    """Each image padded by np.pad (float64), cropped by slicing, mirrored by [..., ::-1]."""
    top, bottom, left, right = padding
    th, tw = size
    pad = ((0, 0), (top, bottom), (left, right))
    out = np.empty(x.shape[:2] + (th, tw))
    for n, (i, j, flip) in enumerate(params):
        kwargs = {"constant_values": fill} if mode == "constant" else {}
        padded = np.pad(x[n].astype(np.float64), pad, mode=NUMPY_MODE[mode], **kwargs)
        crop = padded[:, i:i + th, j:j + tw]
        out[n] = crop[:, :, ::-1] if flip else crop
    return out


def random_params(rng, n, padded_hw, size, flips=None):
    """Offsets over every valid position, both extremes included, and mixed flips."""
    span_h, span_w = padded_hw[0] - size[0], padded_hw[1] - size[1]
    tops = rng.integers(0, span_h + 1, n)
    lefts = rng.integers(0, span_w + 1, n)
    tops[0], lefts[0] = 0, span_w          # top-right corner
    tops[-1], lefts[-1] = span_h, 0        # bottom-left corner
    flips = rng.integers(0, 2, n) if flips is None else flips
    return np.stack([tops, lefts, flips], axis=1).astype(np.int32)


# (id, x shape, size, padding (top, bottom, left, right))
GEOMETRIES = [
    ("pad2-odd", (5, 3, 7, 9), (7, 9), (2, 2, 2, 2)),
    ("asym-pad-smaller-crop", (4, 2, 5, 7), (4, 6), (1, 3, 2, 0)),
    ("no-pad-crop", (3, 1, 9, 6), (5, 3), (0, 0, 0, 0)),
    ("full-size-only-flip", (6, 3, 4, 5), (4, 5), (0, 0, 0, 0)),
    ("max-reflect-pad", (3, 2, 4, 3), (5, 4), (3, 3, 2, 2)),
    ("1-pixel-columns", (2, 2, 6, 1), (4, 1), (1, 0, 0, 0)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_cpu_twin_matches_numpy_pad_crop_flip(geometry, mode):
    _, shape, size, padding = geometry
    h, w = shape[2:]
    if mode == "reflect" and (max(padding[:2]) >= h or max(padding[2:]) >= w):
        pytest.skip("reflect padding must be smaller than the image (checked below)")
    rng = np.random.default_rng(11)
    x = rand(rng, *shape)
    padded_hw = (h + padding[0] + padding[1], w + padding[2] + padding[3])
    params = random_params(rng, shape[0], padded_hw, size)
    out = poisoned(shape[:2] + size)
    got = pad_crop_flip_cpu(x, params, size, padding, mode, 0.375, out=out)
    assert got is out
    np.testing.assert_array_equal(got, reference(x, params, size, padding, mode, 0.375))


def test_all_flipped_and_none_flipped():
    rng = np.random.default_rng(2)
    x = rand(rng, 4, 3, 5, 6)
    for flips in (np.ones(4, np.int64), np.zeros(4, np.int64)):
        params = random_params(rng, 4, (9, 10), (5, 6), flips)
        np.testing.assert_array_equal(
            pad_crop_flip_cpu(x, params, (5, 6), (2, 2, 2, 2), "edge"),
            reference(x, params, (5, 6), (2, 2, 2, 2), "edge", 0.0))


def test_padding_forms_match_padding4():
    """An int pads all four sides, a pair (rows, columns)."""
    rng = np.random.default_rng(3)
    x = rand(rng, 2, 2, 5, 5)
    params = random_params(rng, 2, (9, 7), (4, 4))
    np.testing.assert_array_equal(pad_crop_flip_cpu(x, params, (4, 4), (2, 1), "symmetric"),
                                  reference(x, params, (4, 4), (2, 2, 1, 1), "symmetric", 0.0))
    params = random_params(rng, 2, (9, 9), (4, 4))
    np.testing.assert_array_equal(pad_crop_flip_cpu(x, params, 4, 2, "constant", -2.5),
                                  reference(x, params, (4, 4), (2, 2, 2, 2), "constant", -2.5))


def test_params_outside_the_padded_image_never_read_outside_x():
    """Offsets far out read the fill (constant) or the nearest edge (edge), and in the
    mirrored modes some pixel of x: results are finite, never garbage."""
    rng = np.random.default_rng(4)
    x = rand(rng, 2, 2, 4, 5)
    params = np.array([[-50, 40, 0], [30, -7, 1]], np.int32)
    got = pad_crop_flip_cpu(x, params, (3, 3), 1, "constant", 9.0)
    np.testing.assert_array_equal(got, np.full((2, 2, 3, 3), 9.0, np.float32))
    got = pad_crop_flip_cpu(x, params, (3, 3), 1, "edge")
    far = reference(x, params + np.array([100, 100, 0], np.int32), (3, 3),
                    (101, 101, 101, 101), "edge", 0.0)
    np.testing.assert_array_equal(got, far)
    for mode in ("reflect", "symmetric"):
        got = pad_crop_flip_cpu(x, params, (3, 3), 1, mode)
        assert np.isin(got, x).all(), mode


def test_empty_batch():
    x = np.empty((0, 3, 4, 4), np.float32)
    assert pad_crop_flip_cpu(x, np.empty((0, 3), np.int32), (2, 2)).shape == (0, 3, 2, 2)


def test_bad_arguments_are_refused_before_any_work():
    x = rand(np.random.default_rng(5), 2, 3, 4, 5)
    params = np.zeros((2, 3), np.int32)
    out = poisoned((2, 3, 4, 5))
    cases = [
        (ValueError, r"x must be 4-D", dict(x=x[0])),
        (TypeError, r"x must be float32", dict(x=x.astype(np.float64))),
        (TypeError, r"params must be int32", dict(params=params.astype(np.int64))),
        (ValueError, r"params must be \(N, 3\) = \(2, 3\).*\(3, 3\)",
         dict(params=np.zeros((3, 3), np.int32))),
        (ValueError, r"mode must be one of", dict(mode="wrap")),
        (TypeError, r"fill must be a real number", dict(fill="0")),
        (ValueError, r"padding >= 0", dict(padding=-1)),
        (ValueError, r"reflect padding \(4, 4, 0, 0\).*4x5", dict(padding=(4, 0), mode="reflect")),
        (ValueError, r"symmetric padding \(0, 0, 6, 6\).*4x5",
         dict(padding=(0, 6), mode="symmetric")),
        (ValueError, r"crop size \(7, 5\) is larger than the padded image 6x5",
         dict(size=(7, 5), padding=(1, 0))),
        (TypeError, r"size must be an int or a tuple of ints", dict(size=2.5)),
        (ValueError, r"out has shape \(2, 3, 4, 5\), expected \(2, 3, 3, 3\)",
         dict(size=3, out=out)),
    ]
    for error, message, changes in cases:
        args = dict(x=x, params=params, size=(4, 5), padding=0, mode="constant", fill=0.0)
        args.update(changes)
        with pytest.raises(error, match="pad_crop_flip_cpu: .*" + message):
            pad_crop_flip_cpu(args.pop("x"), args.pop("params"), args.pop("size"), **args)
    assert np.isnan(out).all(), "a refused call wrote into out"
