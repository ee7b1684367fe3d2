"""RandomHorizontalFlip: torchvision.transforms.RandomHorizontalFlip on gpucnn tensors.

    RandomHorizontalFlip(p=0.5, *, generator=None)

Mirrors an image left-right with probability p: a draw u uniform on [0, 1) and a flip where
u < p, as torchvision. A batch (N, C, H, W) gets N draws, one decision per image (torchvision
flips a whole batch or none of it). The draws come from gpucnn's Philox generator
(`generator`, a gpucnn.Generator, or the global one). An input that no draw flips is returned
as it is (as torchvision returns an unflipped image); otherwise the result is a new tensor,
made by one launch of kernels/augment.py, with no autograd history.
"""
import numbers

import numpy as np

from ..generator import checked, host_uniform
from . import _images


class RandomHorizontalFlip:
    def __init__(self, p=0.5, *, generator=None):
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p should be a probability in [0, 1], "
                             f"got {p!r}")
        self.p = p
        self.generator = checked(generator, "RandomHorizontalFlip")

    def draw(self, n: int) -> np.ndarray:
        """n flip decisions (bool), one per image."""
        return host_uniform(self.generator, n, "RandomHorizontalFlip") < np.float32(self.p)

    def __call__(self, img):
        batch, ndim = _images.as_batch(img, "RandomHorizontalFlip")
        flips = self.draw(batch.shape[0])
        if not flips.any():
            return img
        out = _images.pad_crop_flip(batch, 0, 0, flips, tuple(batch.shape[2:]), 0, "constant",
                                    0.0)
        return _images.as_given(out, ndim)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
