"""gpucnn.nn.parallel: DistributedDataParallel (one process per device, gradients averaged
across processes: see gpucnn.distributed)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
