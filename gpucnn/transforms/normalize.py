"""Normalize: torchvision.transforms.Normalize on gpucnn tensors.

    Normalize(mean, std, inplace=False)

out[..., c, :, :] = (x[..., c, :, :] - mean[c]) / std[c] for an image (C, H, W) or a batch
(N, C, H, W) of float32 on any device: a subtraction and a division (in that order, as
torchvision's sub_ and div_, so the roundings match) by the engine's broadcasting kernels on
the tensor's device, with mean and std held there as (C, 1, 1) tensors made once per device.
mean and std are sequences of C numbers, or of one (or a number) for every channel. inplace
writes into the input. Runs outside autograd: the result has no gradient history.
"""
import numpy as np

from .. import autograd
from ..tensor import Tensor


def _per_channel(values, name):
    if isinstance(values, Tensor):
        values = values.numpy()
    try:
        array = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"Normalize: {name} must be a number or a sequence of numbers, got "
                        f"{values!r}") from None
    if array.ndim > 1:
        raise ValueError(f"Normalize: {name} must be a number or a 1-D sequence (one value per "
                         f"channel), got shape {array.shape}")
    return array.reshape(-1)


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace
        self._device_constants = {}

    def _constants(self, device):
        """(mean, std) as (C, 1, 1) tensors on `device`, made on the first call there."""
        mean, std = _per_channel(self.mean, "mean"), _per_channel(self.std, "std")
        if (std == 0).any():
            raise ValueError("Normalize: std evaluated to zero after conversion to float32, "
                             "leading to division by zero.")
        key = (device, mean.tobytes(), std.tobytes())
        if key not in self._device_constants:
            self._device_constants[key] = (Tensor(mean.reshape(-1, 1, 1), device=device),
                                           Tensor(std.reshape(-1, 1, 1), device=device))
        return self._device_constants[key]

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: img should be a gpucnn Tensor image, got "
                            f"{type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: input tensor should be a float tensor, got "
                            f"{tensor.dtype.name}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of size (..., C, H, W), got "
                             f"shape {tuple(tensor.shape)}")
        mean, std = self._constants(tensor.device)
        channels = tensor.shape[-3]
        for name, values in (("mean", mean), ("std", std)):
            if values.shape[0] not in (1, channels):
                raise ValueError(f"Normalize: {name} has {values.shape[0]} values for an image "
                                 f"of {channels} channels (shape {tuple(tensor.shape)})")
        with autograd.no_grad():
            if self.inplace:
                return tensor.sub_(mean).div_(std)
            return (tensor - mean) / std

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"
