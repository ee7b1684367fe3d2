"""ToTensor: torchvision.transforms.ToTensor for NumPy images (and PIL images, when Pillow
is installed), plus whole NumPy batches.

    (H, W, C) or (H, W) array or PIL image  ->  (C, H, W) float32 "cpu" tensor
    (N, H, W, C) array (a batch)             ->  (N, C, H, W)

uint8 values (and PIL images in modes whose pixels are bytes: L, P, RGB, RGBA, ...; mode "1"
is read as 0 or 255) become value / 255 in [0, 1], divided in float32 as torchvision does.
Other arrays keep their values, as torchvision keeps their dtype: floats as float32 (gpucnn's
float type), other ints and bools as gpucnn.as_tensor makes them (int64, int32, bool). The
conversion is host work, as torchvision's: move the result with .to("cuda") (or batch it with
a DataLoader first).
"""
import numpy as np

from ..factories import as_tensor, from_numpy

def _pil_array(pic):
    """A PIL image as an (H, W, C) array, None when `pic` is not one (or Pillow is absent)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    if not isinstance(pic, Image.Image):
        return None
    array = np.array(pic, copy=True)
    if pic.mode == "1":
        array = array.astype(np.uint8) * np.uint8(255)
    return array


class ToTensor:
    def __call__(self, pic):
        array = _pil_array(pic)
        if array is None:
            if not isinstance(pic, np.ndarray):
                raise TypeError(f"ToTensor: pic should be a PIL Image or a NumPy array, got "
                                f"{type(pic).__name__}")
            array = pic
        if array.ndim not in (2, 3, 4):
            raise ValueError(f"ToTensor: pic should be 2/3 dimensional (or a 4-D NHWC batch), "
                             f"got {array.ndim} dimensions (shape {array.shape})")
        if array.ndim == 2:
            array = array[:, :, None]
        if array.dtype.kind not in "biuf":
            raise TypeError(f"ToTensor: cannot convert a {array.dtype} array (shape "
                            f"{array.shape}) to a tensor")
        channels_first = np.moveaxis(array, -1, -3)       # (..., H, W, C) -> (..., C, H, W)
        if array.dtype.kind not in "uf" or array.dtype.kind == "u" and array.dtype != np.uint8:
            return as_tensor(np.ascontiguousarray(channels_first))
        out = np.empty(channels_first.shape, np.float32)
        if array.dtype == np.uint8:
            np.divide(channels_first, np.float32(255), out=out, dtype=np.float32)
        else:
            out[...] = channels_first
        return from_numpy(out)

    def __repr__(self):
        return f"{type(self).__name__}()"
