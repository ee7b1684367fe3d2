"""gpucnn.transforms: torchvision.transforms' data augmentation for gpucnn tensors, applied to
a single image or to a whole batch at once on the batch's device.

    Compose                 transforms one after another (RandomCrop + RandomHorizontalFlip
                            fused into one launch)
    ToTensor                NumPy (H, W, C) uint8 image, (N, H, W, C) batch or PIL image ->
                            (C, H, W) / (N, C, H, W) float32 in [0, 1]
    Normalize               (x - mean[c]) / std[c]
    RandomCrop              pad (constant, edge, reflect, symmetric), crop at a random offset
    RandomHorizontalFlip    mirror left-right with probability p

On a batch (N, C, H, W) each image gets its own crop offset and flip decision, drawn from
gpucnn's Philox generator (a `generator=` gpucnn.Generator, or the global one that
gpucnn.manual_seed seeds): the same seed gives the same batch on "cpu" and "cuda". Pad, crop
and flip are one kernel (kernels/augment.py). Transforms run outside autograd, as
torchvision's run on data: their results carry no gradient history.

    train_tf = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
                        Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
    for x, y in loader:                      # x: (N, 3, 32, 32) on "cuda"
        x = train_tf(x)
"""
from .compose import Compose
from .crop import RandomCrop
from .flip import RandomHorizontalFlip
from .normalize import Normalize
from .to_tensor import ToTensor

__all__ = ["Compose", "Normalize", "RandomCrop", "RandomHorizontalFlip", "ToTensor"]
