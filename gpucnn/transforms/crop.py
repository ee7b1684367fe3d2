"""RandomCrop: torchvision.transforms.RandomCrop on gpucnn tensors, one offset per image.

    RandomCrop(size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
               *, generator=None)

As torchvision: the image is padded by `padding` (an int for all sides, (left/right,
top/bottom), or (left, top, right, bottom)) in `padding_mode` (constant with `fill`, edge,
reflect, symmetric); with pad_if_needed an image still narrower (shorter) than the crop is
padded by the shortfall on both the left and the right (top and bottom); then a crop of `size`
((h, w), or an int for a square) is taken at an offset drawn uniformly over the positions that
fit, (i, j) with i in [0, H' - h], j in [0, W' - w] of the padded image (no draw when the
padded image is exactly the crop). Reflect padding must be smaller than the image, symmetric at
most its size (as torch's and torchvision's padding).

gpucnn's differences: a batch (N, C, H, W) gets N offsets (all N rows i, then all N columns
j), not one for the whole batch; the offsets come from gpucnn's Philox generator (`generator`,
a gpucnn.Generator, or the global one), not torch's; `fill` is one number (torchvision takes
no per-channel fill for tensors either); inputs are float32 tensors (ToTensor first for NumPy
and PIL images); the result has no autograd history. The padding, crop (and a following
RandomHorizontalFlip's mirror, fused by Compose) are one kernel launch (kernels/augment.py).
"""
import numbers

import numpy as np

from ..generator import checked, host_randint
from ..kernels.augment import PADDING_MODES
from . import _images


def _size_pair(size):
    if isinstance(size, numbers.Number) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"RandomCrop: please provide only two dimensions (h, w) for size, got "
                         f"{size!r}")
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in size):
        raise ValueError(f"RandomCrop: size must be positive ints, got {tuple(size)!r}")
    return int(size[0]), int(size[1])


def _padding4(padding):
    """torchvision's padding argument as (top, bottom, left, right)."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        values = [int(padding)] * 4
    elif isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4):
            raise ValueError(f"RandomCrop: padding must be an int or a 1, 2, or 4 element "
                             f"tuple, not a {len(padding)} element tuple")
        if any(isinstance(p, bool) or not isinstance(p, numbers.Integral) for p in padding):
            raise TypeError(f"RandomCrop: padding must hold ints, got {padding!r}")
        p = [int(v) for v in padding]
        values = p * 4 if len(p) == 1 else [p[0], p[1], p[0], p[1]] if len(p) == 2 else p
    else:
        raise TypeError(f"RandomCrop: got inappropriate padding arg {padding!r}: an int or a "
                        f"tuple of 1, 2 or 4 ints")
    left, top, right, bottom = values
    if min(values) < 0:
        raise ValueError(f"RandomCrop: padding must be >= 0, got {padding!r} (negative padding "
                         f"crops: use a smaller size instead)")
    return top, bottom, left, right


class RandomCrop:
    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
                 *, generator=None):
        self.size = _size_pair(size)
        self._padding = _padding4(padding)
        if isinstance(fill, bool) or not isinstance(fill, numbers.Real):
            raise TypeError(f"RandomCrop: fill must be a number for tensor images, got "
                            f"{fill!r}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"RandomCrop: padding mode should be either constant, edge, "
                             f"reflect or symmetric, got {padding_mode!r}")
        self.padding = padding
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = checked(generator, "RandomCrop")

    @staticmethod
    def get_params(img, output_size, generator=None):
        """(i, j, h, w): one crop of output_size at an offset drawn uniformly over img's
        (..., H, W) positions (torchvision's; one draw per coordinate, for one image)."""
        h, w = int(img.shape[-2]), int(img.shape[-1])
        th, tw = _size_pair(output_size)
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if h == th and w == tw:
            return 0, 0, h, w
        i = int(host_randint(generator, 0, h - th + 1, 1, "RandomCrop")[0])
        j = int(host_randint(generator, 0, w - tw + 1, 1, "RandomCrop")[0])
        return i, j, th, tw

    def plan(self, batch):
        """(batch, padding (top, bottom, left, right), tops, lefts) for a (N, C, H, W) batch:
        the padding one launch applies and each image's crop offset, drawn. `batch` is the
        input, or (reflect and symmetric padding, when pad_if_needed pads again what `padding`
        padded: padding a padded image is not one padding then) the input padded by `padding`."""
        n, _, h, w = batch.shape
        th, tw = self.size
        top, bottom, left, right = self._padding
        extra_w = max(tw - (w + left + right), 0) if self.pad_if_needed else 0
        extra_h = max(th - (h + top + bottom), 0) if self.pad_if_needed else 0
        mirrored = self.padding_mode in ("reflect", "symmetric")
        if mirrored and ((extra_w and (left or right)) or (extra_h and (top or bottom))):
            batch = _images.pad_crop_flip(batch, 0, 0, 0, (h + top + bottom, w + left + right),
                                          self._padding, self.padding_mode, self.fill)
            n, _, h, w = batch.shape
            top = bottom = left = right = 0
        padding = (top + extra_h, bottom + extra_h, left + extra_w, right + extra_w)
        height, width = h + padding[0] + padding[1], w + padding[2] + padding[3]
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(height, width)} (after padding {self.padding!r})")
        if height == th and width == tw:
            tops = lefts = np.zeros(n, np.int64)
        else:
            tops = host_randint(self.generator, 0, height - th + 1, n, "RandomCrop")
            lefts = host_randint(self.generator, 0, width - tw + 1, n, "RandomCrop")
        return batch, padding, tops, lefts

    def __call__(self, img):
        batch, ndim = _images.as_batch(img, "RandomCrop")
        batch, padding, tops, lefts = self.plan(batch)
        if not any(padding) and self.size == tuple(batch.shape[2:]):
            return img   # the whole image (torchvision returns a view of all of it)
        out = _images.pad_crop_flip(batch, tops, lefts, 0, self.size, padding,
                                    self.padding_mode, self.fill)
        return _images.as_given(out, ndim)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"
