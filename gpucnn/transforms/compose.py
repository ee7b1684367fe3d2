"""Compose: torchvision.transforms.Compose, applying transforms one after another.

One fusion, invisible in the results: a RandomCrop directly followed by a RandomHorizontalFlip,
given a tensor, runs as one launch of kernels/augment.py (pad, crop and mirror in one pass over
the batch) instead of two. The crop's draws are made first and then the flip's, as when the two
run one after the other, so the batch is the same bit for bit (the tests check it).
"""
from ..tensor import Tensor
from . import _images
from .crop import RandomCrop
from .flip import RandomHorizontalFlip


def _crop_then_flip(crop: RandomCrop, flip: RandomHorizontalFlip, img: Tensor) -> Tensor:
    batch, ndim = _images.as_batch(img, "RandomCrop")
    batch, padding, tops, lefts = crop.plan(batch)
    flips = flip.draw(batch.shape[0])
    if not any(padding) and crop.size == tuple(batch.shape[2:]) and not flips.any():
        return img
    out = _images.pad_crop_flip(batch, tops, lefts, flips, crop.size, padding,
                                crop.padding_mode, crop.fill)
    return _images.as_given(out, ndim)


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        transforms, i = list(self.transforms), 0
        while i < len(transforms):
            t = transforms[i]
            following = transforms[i + 1] if i + 1 < len(transforms) else None
            if type(t) is RandomCrop and type(following) is RandomHorizontalFlip and \
                    isinstance(img, Tensor):
                img = _crop_then_flip(t, following, img)
                i += 2
            else:
                img = t(img)
                i += 1
        return img

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"
