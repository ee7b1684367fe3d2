"""What the geometric transforms share: images as a batch, and the one augmentation launch.

A transform takes a tensor of one plane (H, W), one image (C, H, W) or a batch (N, C, H, W),
float32, on any device; it works on the batch form (N, C, H, W) and gives back the form it
was given, on the same device. Every image of a batch gets its own random draws, all drawn on
the host by the Philox CPU twin (gpucnn/generator.py host_randint / host_uniform: counters of
the given gpucnn.Generator, or of the global generator), so a seed gives the same batch on
"cpu" and "cuda". The draws of a batch of N use N counters per kind, in the order the
transforms make them; one image (N = 1) draws exactly as torchvision's transforms do.

pad_crop_flip launches kernels/augment.py's kernel once: pad, crop at each image's (top,
left) and mirror each image with flip != 0, in one pass over the batch. Transforms run outside
autograd (as torchvision's run on data): results have no gradient history.
"""
import numpy as np

from ..backend import backend
from ..ops import _arrays as A
from ..tensor import Tensor


def as_batch(img, where: str):
    """(the (N, C, H, W) float32 tensor behind img, img's number of dims)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"{where}: expected a gpucnn Tensor image (C, H, W) or batch "
                        f"(N, C, H, W), got {type(img).__name__} (ToTensor() converts NumPy "
                        f"and PIL images)")
    if img.ndim not in (2, 3, 4):
        raise ValueError(f"{where}: expected an image (H, W), (C, H, W) or a batch "
                         f"(N, C, H, W), got shape {tuple(img.shape)}")
    if not img.dtype.is_floating_point:
        raise TypeError(f"{where}: augmentation runs on float32 images, got {img.dtype.name} "
                        f"(shape {tuple(img.shape)}); convert with .float() (and / 255 for "
                        f"0..255 values) or ToTensor()")
    array = A.contiguous(img._kernels, img._array)
    shape = (1,) * (4 - img.ndim) + tuple(array.shape)
    return Tensor._from_array(A.reshape_contiguous(array, shape), img.device), img.ndim


def as_given(batch: Tensor, ndim: int) -> Tensor:
    """A batch result in the form (number of dims) its input had."""
    if ndim == 4:
        return batch
    shape = tuple(batch.shape[4 - ndim:])
    return Tensor._from_array(A.reshape_contiguous(batch._array, shape), batch.device)


def pad_crop_flip(batch: Tensor, tops, lefts, flips, size, padding, mode, fill) -> Tensor:
    """One launch: image n padded by `padding` (top, bottom, left, right) in `mode`, cropped
    to `size` at (tops[n], lefts[n]) of the padded image, mirrored where flips[n]."""
    n = batch.shape[0]
    params = np.empty((n, 3), np.int32)
    params[:, 0], params[:, 1], params[:, 2] = tops, lefts, flips
    out = batch._kernels.pad_crop_flip(batch._array, backend(batch.device).from_host(params),
                                       size, padding, mode, fill)
    return Tensor._from_array(out, batch.device)
