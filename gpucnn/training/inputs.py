"""Reading the files `gpucnn predict` classifies: .npy arrays and images (through Pillow).

Pixels become float32 in [0, 1], as gpucnn.data gives them: uint8 data is divided by 255,
16-bit data by 65535, float data is taken as it is. Inputs must already have the model's
height, width and channel count; the only conversions are those that lose nothing (a palette
or an alpha channel dropped, an RGB image whose three channels are equal read as grayscale).
Resizing happens only when asked for (`resize=True`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


@dataclass
class Input:
    name: str            # the file, with [i] for the i-th image of a stacked .npy
    pixels: np.ndarray   # (C, H, W) float32


def read_inputs(path, channels: int, size: tuple[int, int], resize: bool = False) -> list[Input]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        images = _read_npy(path, channels)
    elif suffix in IMAGE_SUFFIXES:
        images = _read_image(path, channels)[None]
    else:
        raise UserError(f"{path}: unknown file type {suffix or '(none)'}; give .npy arrays or "
                        f"images ({', '.join(IMAGE_SUFFIXES)})")
    if not np.all(np.isfinite(images)):
        # One check for every format: a float TIFF can hold NaN as well as a .npy array.
        bad = int(np.size(images) - np.count_nonzero(np.isfinite(images)))
        raise UserError(f"{path}: {bad} pixel values are NaN or infinite")
    if images.shape[2:] != tuple(size):
        if not resize:
            raise UserError(f"{path}: the model expects {size[0]}x{size[1]} images, this one is "
                            f"{images.shape[2]}x{images.shape[3]} (pass --resize to resize it)")
        images = _resize(path, images, size)
    names = [str(path)] if len(images) == 1 else [f"{path}[{i}]" for i in range(len(images))]
    return [Input(name, image) for name, image in zip(names, images)]


def _read_npy(path, channels) -> np.ndarray:
    """(H, W), (C, H, W), (N, H, W) for 1-channel models, or (N, C, H, W) -> (N, C, H, W)."""
    _check_npy_size(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        reason = " ".join(str(error).split())
        raise UserError(f"{path}: not a readable .npy array ({reason})") from None
    if array.ndim == 2:
        array = array[None, None]
    elif array.ndim == 3:
        if array.shape[0] == channels:
            array = array[None]           # one (C, H, W) image
        elif channels == 1:
            array = array[:, None]        # a stack of N grayscale (H, W) images
        else:
            raise UserError(f"{path}: the model expects {channels}-channel images, this array "
                            f"has shape {array.shape}; give (C, H, W) or (N, C, H, W) "
                            f"with C={channels}")
    elif array.ndim != 4:
        raise UserError(f"{path}: a {array.ndim}-D array; give (H, W), (C, H, W) or (N, C, H, W)")
    if array.shape[1] != channels:
        raise UserError(f"{path}: the model expects {channels}-channel images, this array has "
                        f"{array.shape[1]} channels (shape {array.shape})")
    if array.shape[0] == 0:
        raise UserError(f"{path}: holds no images (shape {array.shape})")
    return _to_unit_float(path, array)


def _check_npy_size(path):
    """The data a .npy header declares must be what the file holds, checked before NumPy
    allocates it (a 100-byte file claiming 10^12 elements would otherwise ask for 4 TB)."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(f)
            else:
                return  # a newer format: np.load checks it
            offset = f.tell()
    except (ValueError, OSError, EOFError) as error:
        reason = " ".join(str(error).split())
        raise UserError(f"{path}: not a readable .npy array ({reason})") from None
    if dtype.hasobject:
        raise UserError(f"{path}: holds Python objects ({dtype}); give numeric arrays")
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    actual = path.stat().st_size - offset
    if expected != actual:
        raise UserError(f"{path}: its header declares shape {shape} of {dtype} ({expected:,} "
                        f"bytes) but the file holds {actual:,} bytes of data")


def _to_unit_float(path, array) -> np.ndarray:
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.float32)
    if kind == "u" and array.dtype.itemsize == 1:
        return array.astype(np.float32) / np.float32(255)
    if kind in "ui" and array.dtype.itemsize == 2:
        return array.astype(np.float32) / np.float32(65535)
    if kind == "f":
        return array.astype(np.float32)
    raise UserError(f"{path}: pixels of dtype {array.dtype} are not supported; give uint8 "
                    f"(0..255) or float (0..1) arrays")


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise UserError("reading PNG/JPEG images needs Pillow, which is not installed: "
                        "pip install 'gpucnn[images]' (or give .npy arrays)") from None
    return Image


def _read_image(path, channels) -> np.ndarray:
    Image = _pillow()
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as error:  # Pillow raises several types for damaged or unknown files
        raise UserError(f"{path}: not a readable image ({' '.join(str(error).split())})") from None
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    mode = image.mode
    if mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"):
        if mode == "LA":
            image = image.getchannel("L")
        pixels = np.asarray(image)
        pixels = pixels[None] if pixels.ndim == 2 else pixels
        if channels == 1:
            return _image_to_unit_float(path, pixels, mode)
        raise UserError(f"{path}: a grayscale image ({mode}), the model expects {channels}-channel "
                        f"images; convert it to RGB first")
    if mode in ("RGB", "RGBA"):
        pixels = np.asarray(image.convert("RGB")).transpose(2, 0, 1)  # HWC -> CHW
        if channels == 3:
            return pixels.astype(np.float32) / np.float32(255)
        gray = np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[0], pixels[2])
        if channels == 1 and gray:
            return pixels[:1].astype(np.float32) / np.float32(255)  # gray stored as RGB
        raise UserError(f"{path}: a colour image ({mode}), the model expects {channels}-channel "
                        f"images; convert it to {'grayscale' if channels == 1 else 'that'} first")
    raise UserError(f"{path}: image mode {mode} is not supported; give grayscale or RGB images")


def _image_to_unit_float(path, pixels, mode) -> np.ndarray:
    if mode == "1":
        return pixels.astype(np.float32)
    if mode == "F":
        return pixels.astype(np.float32)
    if mode == "L":
        return pixels.astype(np.float32) / np.float32(255)
    return pixels.astype(np.float32) / np.float32(65535)  # 16-bit modes


def _resize(path, images, size) -> np.ndarray:
    """Bilinear resize of every channel to `size` (H, W) through Pillow's float images."""
    Image = _pillow()
    height, width = size
    out = np.empty(images.shape[:2] + (height, width), np.float32)
    for n in range(images.shape[0]):
        for c in range(images.shape[1]):
            plane = Image.fromarray(np.ascontiguousarray(images[n, c], dtype=np.float32))
            out[n, c] = np.asarray(plane.resize((width, height), Image.BILINEAR), np.float32)
    return out
