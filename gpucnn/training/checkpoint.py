"""Checkpoints: one safetensors file (written atomically by gpucnn.save) holding

* arrays   "model.<key>"      the model's state_dict (PyTorch's keys: "0.weight", ...)
           "optimizer.<key>"  the optimizer's per-parameter state ("0.exp_avg", "0.step", ...),
                              flattened by gpucnn.optim.state_arrays
* metadata "format"           FORMAT, so foreign files are recognised
           "config"           the TrainConfig (model, dataset, hyper-parameters, seed) as JSON
           "info"             what evaluate/predict need: classes, channels, image size,
                              the normalisation computed on the training half
           "progress"         epochs done, DataLoader state, the engine's RNG state, the
                              partial sums of an interrupted epoch, history, time spent
           "optimizer_groups" the optimizer's param_groups (lr, momentum, ..., "params")

Checkpoints written before the optimizers' state_dict took PyTorch's shape have the same keys
but groups without "params" (one group then) and a "step" in SGD's state: they still load.

A file saved from a plain `gpucnn.save(model.state_dict(), path)` also loads, as weights only.
`model_from_checkpoint` rebuilds the model a checkpoint (or a weights file) holds, for
`gpucnn evaluate` and `gpucnn predict`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import serialization
from ..models import get_model, model_spec
from ..nn.module import StateDictError
from ..optim.state_arrays import state_dict_from_arrays, state_dict_to_arrays
from .config import TrainConfig, check_config
from . import UserError

FORMAT = "gpucnn-checkpoint/1"


@dataclass
class Checkpoint:
    path: Path
    model_state: dict
    optimizer_state: dict | None = None   # as Optimizer.state_dict() returns it
    config: TrainConfig | None = None     # None for a plain weights file
    info: dict = field(default_factory=dict)
    progress: dict = field(default_factory=dict)

    @property
    def is_training_checkpoint(self) -> bool:
        return self.config is not None


def save_checkpoint(path, model, optimizer, config: TrainConfig, info: dict, progress: dict):
    arrays = {f"model.{key}": value for key, value in model.state_dict().items()}
    optimizer_arrays, optimizer_groups = state_dict_to_arrays(optimizer.state_dict())
    arrays.update({f"optimizer.{key}": value for key, value in optimizer_arrays.items()})
    metadata = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "info": json.dumps(info),
        "progress": json.dumps(progress),
        "optimizer_groups": json.dumps(optimizer_groups),
    }
    serialization.save(arrays, path, metadata=metadata)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint (or a plain weights file); any problem is a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path}: no such file" if not path.exists()
                        else f"checkpoint {path} is not a file")
    try:
        # On the host: load_state_dict copies into the model wherever it is, and a checkpoint
        # trained on a GPU still evaluates on a machine without one.
        arrays, metadata = serialization.load(path, map_location="cpu", with_metadata=True)
    except ValueError as error:
        reason = " ".join(str(error).split())
        raise UserError(f"checkpoint {path} is unreadable: {reason}") from None
    except OSError as error:
        raise UserError(f"checkpoint {path}: cannot read it ({error.strerror or error})") from None
    if metadata.get("format") != FORMAT:
        if not arrays:
            raise UserError(f"checkpoint {path} holds no arrays")
        return Checkpoint(path, arrays)  # plain weights: the caller must name the model
    try:
        config = TrainConfig.from_dict(_json(metadata, "config", dict))
        check_config(config)
        info = _checked_info(_json(metadata, "info", dict))
        progress = _checked_progress(_json(metadata, "progress", dict))
        groups = _json(metadata, "optimizer_groups", list)
        optimizer_arrays = {k[len("optimizer."):]: v for k, v in arrays.items()
                            if k.startswith("optimizer.")}
        optimizer_state = optimizer_state_dict(optimizer_arrays, groups, config.optimizer)
    except (KeyError, ValueError, TypeError, RecursionError, UserError) as error:
        reason = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise UserError(f"checkpoint {path} has damaged metadata ({reason})") from None
    model_state = {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")}
    return Checkpoint(path, model_state, optimizer_state, config, info, progress)


def optimizer_state_dict(arrays: dict, groups: list, optimizer: str) -> dict:
    """The Optimizer.state_dict() a checkpoint's "optimizer." arrays and groups hold, also
    from a checkpoint of the earlier flat format (its one group lists no "params", and SGD
    kept a step count that torch's SGD does not have)."""
    if any(isinstance(g, dict) and "params" not in g for g in groups):
        if len(groups) != 1:
            raise ValueError(f"optimizer_groups: {len(groups)} groups without 'params'")
        indices = {str(key).partition(".")[0] for key in arrays}
        if not all(i.isdigit() for i in indices):
            raise ValueError(f"optimizer state keys {sorted(arrays)} are not '<index>.<name>'")
        count = max(map(int, indices), default=-1) + 1
        groups = [{**groups[0], "params": list(range(count))}]
        if optimizer == "sgd":
            arrays = {k: v for k, v in arrays.items() if not str(k).endswith(".step")}
    return state_dict_from_arrays(arrays, groups)


def _json(metadata, key, kind):
    if key not in metadata:
        raise ValueError(f"no {key!r} entry")
    value = json.loads(metadata[key])
    if not isinstance(value, kind):
        raise ValueError(f"{key!r} is a {type(value).__name__}, not a {kind.__name__}")
    return value


def _int(where, value, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{where} must be an int >= {low}, got {value!r}")
    return value


def _numbers(where, values, count, positive=False):
    if (not isinstance(values, list) or len(values) != count
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and np.isfinite(v) and (v > 0 or not positive) for v in values)):
        kind = "positive numbers" if positive else "finite numbers"
        raise ValueError(f"{where} must be {count} {kind}, got {values!r}")
    return values


def _checked_info(info):
    """What evaluate and predict read: checked for type and agreement, so a damaged file is
    one error here rather than an IndexError later."""
    channels = _int("info.in_channels", info["in_channels"], 1)
    classes = info["classes"]
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError(f"info.classes must be a list of names, got {classes!r}")
    if _int("info.num_classes", info["num_classes"], 1) != len(classes):
        raise ValueError(f"info.num_classes is {info['num_classes']} but info.classes names "
                         f"{len(classes)}")
    size = info["image_size"]
    if not isinstance(size, list) or len(size) != 2:
        raise ValueError(f"info.image_size must be [height, width], got {size!r}")
    for value in size:
        _int("info.image_size", value, 1)
    _numbers("info.normalize_mean", info["normalize_mean"], channels)
    _numbers("info.normalize_std", info["normalize_std"], channels, positive=True)
    return info


def _checked_progress(progress):
    _int("progress.epochs_done", progress["epochs_done"])
    _int("progress.images_seen", progress["images_seen"])
    for key in ("epoch_sums", "loader", "rng"):
        if not isinstance(progress[key], dict):
            raise ValueError(f"progress.{key} must be a dict, got {progress[key]!r}")
    if not isinstance(progress["history"], list):
        raise ValueError(f"progress.history must be a list, got {progress['history']!r}")
    return progress


def load_weights(model, state: dict, model_name: str, source):
    """Copy `state` into `model`, or raise a UserError naming every key that does not fit."""
    try:
        model.load_state_dict(state)
    except StateDictError as error:
        raise UserError(f"{source} does not fit model {model_name}: {error.problems}") from None


def check_model_fits(checkpoint, model_name: str):
    """When a command names a model other than the one a checkpoint was trained as, load the
    weights into that model anyway: the error then lists the keys that do not fit."""
    config, info = checkpoint.config, checkpoint.info
    if config is not None and model_name is not None and model_name != config.model:
        wanted = get_model(model_name, info.get("in_channels"), info.get("num_classes", 10))
        load_weights(wanted, checkpoint.model_state, model_name,
                     f"checkpoint {checkpoint.path} (saved from model {config.model})")


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
        check_model_fits(checkpoint, model_name)
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
