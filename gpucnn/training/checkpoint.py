"""Checkpoints: one safetensors file (written atomically by gpucnn.save) holding

* arrays   "model.<key>"      the model's state_dict (PyTorch's keys: "0.weight", ...)
           "optimizer.<key>"  the optimizer's per-parameter state ("0.step", "0.momentum_buffer")
* metadata "format"           FORMAT, so foreign files are recognised
           "config"           the TrainConfig (model, dataset, hyper-parameters, seed) as JSON
           "info"             what evaluate/predict need: classes, channels, image size,
                              the normalisation computed on the training half
           "progress"         epochs done, DataLoader state, the engine's RNG state, the
                              partial sums of an interrupted epoch, history, time spent
           "optimizer_groups" the optimizer's param_groups (lr, momentum, ...)

A file saved from a plain `gpucnn.save(model.state_dict(), path)` also loads, as weights only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import serialization
from .config import TrainConfig
from .errors import UserError

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
    optimizer_state = optimizer.state_dict()
    arrays.update({f"optimizer.{key}": value for key, value in optimizer_state["state"].items()})
    metadata = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "info": json.dumps(info),
        "progress": json.dumps(progress),
        "optimizer_groups": json.dumps(optimizer_state["param_groups"]),
    }
    serialization.save(arrays, path, metadata=metadata)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint (or a plain weights file); any problem is a one-line UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path}: no such file" if not path.exists()
                        else f"checkpoint {path} is not a file")
    try:
        arrays, metadata = serialization.load(path, with_metadata=True)
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
        config = TrainConfig.from_dict(json.loads(metadata["config"]))
        info = json.loads(metadata["info"])
        progress = json.loads(metadata["progress"])
        groups = json.loads(metadata["optimizer_groups"])
    except (KeyError, ValueError, TypeError) as error:
        raise UserError(f"checkpoint {path} has damaged metadata ({error})") from None
    model_state = {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")}
    optimizer_arrays = {k[len("optimizer."):]: v for k, v in arrays.items()
                        if k.startswith("optimizer.")}
    return Checkpoint(path, model_state, {"state": optimizer_arrays, "param_groups": groups},
                      config, info, progress)


def load_weights(model, state: dict, model_name: str, source):
    """Copy `state` into `model`, or raise a UserError naming every key that does not fit."""
    expected = {name: param.shape for name, param in model.named_parameters()}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    misshaped = [f"{k} {tuple(np.shape(state[k]))} vs {expected[k]}"
                 for k in expected if k in state and tuple(np.shape(state[k])) != expected[k]]
    if missing or unexpected or misshaped:
        parts = []
        if missing:
            parts.append(f"missing keys {_short(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_short(unexpected)}")
        if misshaped:
            parts.append(f"mis-shaped keys (checkpoint vs model) {_short(misshaped)}")
        raise UserError(f"{source} does not fit model {model_name}: " + "; ".join(parts))
    model.load_state_dict(state)


def _short(items, limit=8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")
