"""The training side of gpucnn, behind the `gpucnn train/evaluate/predict` commands.

Files, one job each: config.py (hyper-parameters, per-dataset defaults, checks),
data.py (datasets for the CLI, held-out splits), device.py (auto/cpu/cuda),
checkpoint.py (safetensors checkpoints: weights, optimizer, progress, RNG),
trainer.py (the epoch loop, resumable at any batch), interrupt.py (Ctrl-C at batch
boundaries), progress.py (rich progress bars), evaluation.py (accuracy, confusion matrix,
PNG), inputs.py (image and .npy files for predict), files.py (atomic JSON), errors.py.
"""
from .errors import UserError  # noqa: F401
