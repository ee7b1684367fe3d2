"""A model rebuilt from a checkpoint (or a weights-only file), for evaluate and predict."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models import get_model, model_spec
from .checkpoint import Checkpoint, load_checkpoint, load_weights
from .errors import UserError


@dataclass
class Restored:
    checkpoint: Checkpoint
    model: object
    model_name: str
    dataset: str | None
    in_channels: int
    num_classes: int
    classes: tuple | None        # None for a weights-only file
    normalize: tuple | None      # (mean, std) the model was trained with, None if unknown

    @property
    def input_size(self) -> tuple[int, int]:
        return model_spec(self.model_name).input_size


def model_from_checkpoint(path, model_name=None, dataset=None, need_dataset=True,
                          need_metadata=False) -> Restored:
    checkpoint = load_checkpoint(path)
    config, info = checkpoint.config, checkpoint.info
    if config is None and need_metadata:
        raise UserError(f"{path} holds weights only; give a checkpoint written by gpucnn train "
                        f"--save (it records the classes and the input normalisation)")
    if config is not None:
        if model_name is not None and model_name != config.model:
            # Try the named model anyway: the error then lists the keys that do not fit.
            wanted = get_model(model_name, info.get("in_channels"), info.get("num_classes", 10))
            load_weights(wanted, checkpoint.model_state, model_name,
                         f"checkpoint {path} (saved from model {config.model})")
        name = model_name or config.model
        in_channels, num_classes = int(info["in_channels"]), int(info["num_classes"])
        classes = tuple(info["classes"])
        normalize = (np.asarray(info["normalize_mean"], np.float32),
                     np.asarray(info["normalize_std"], np.float32))
        dataset = dataset or config.dataset
    else:
        if model_name is None:
            raise UserError(f"{path} holds weights only (no gpucnn checkpoint metadata); name "
                            f"its model with --model")
        if dataset is None and need_dataset:
            raise UserError(f"{path} holds weights only (no gpucnn checkpoint metadata); name "
                            f"its dataset with --dataset")
        in_channels, num_classes = _infer_channels_classes(model_name, checkpoint.model_state)
        classes, normalize = None, None
        name = model_name
    model = get_model(name, in_channels, num_classes)
    load_weights(model, checkpoint.model_state, name, f"checkpoint {path}")
    return Restored(checkpoint, model, name, dataset, in_channels, num_classes, classes, normalize)


def _infer_channels_classes(model_name, state) -> tuple[int, int]:
    """Input channels from the first layer's weight, classes from the last layer's bias."""
    keys = [name for name, _ in get_model(model_name).named_parameters()]
    first, last = state.get(keys[0]), state.get(keys[-1])
    in_channels = int(first.shape[1]) if first is not None and first.ndim == 4 else None
    num_classes = int(last.shape[0]) if last is not None and last.ndim == 1 else 10
    return in_channels, num_classes
