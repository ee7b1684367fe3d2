"""gpucnn.utils: utilities with torch.utils' names; `gpucnn.utils.data` holds the datasets,
samplers and DataLoader, `gpucnn.utils.checkpoint` activation checkpointing."""
from . import checkpoint, data  # noqa: F401
