"""gpucnn.utils: utilities with torch.utils' names; `gpucnn.utils.data` holds the datasets,
samplers and DataLoader."""
from . import data  # noqa: F401
