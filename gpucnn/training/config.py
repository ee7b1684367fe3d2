"""What a run is set up with, checked before any work starts: hyper-parameters with
per-dataset defaults, the device and CPU thread count, and the paths it will write."""
from __future__ import annotations

import contextlib
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numba

from .. import devices
from .. import jsonfile
from ..models import MODELS, default_model, model_spec
from ..serialization import partial_path
from . import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda")

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
# The learning rate an optimizer starts from when neither --lr nor the dataset's defaults give
# one: PyTorch's defaults, except SGD's (0.03 with momentum 0.9 trains every dataset here).
OPTIMIZER_LR = {"sgd": 0.03, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-2, "adagrad": 1e-2,
                "adadelta": 1.0}
# exponential: lr * lr_decay**epoch, stepped per epoch (the default; lr_decay 1 = constant)
# multistep:   lr / 10 at 50% and again at 75% of the epochs
# cosine:      cosine annealing from lr to 0 over every batch of the run
# onecycle:    OneCycleLR with max_lr = lr over every batch of the run
SCHEDULERS = ("exponential", "multistep", "cosine", "onecycle")

# What `gpucnn train --dataset NAME` uses for options left out, chosen on the CPU twins:
# digits: >= 97% held-out accuracy for 13 of seeds 0..13 (96.9% for the other), seed 0 98.1%;
# mnist (LeNet-5 on 8,000 t10k images, tested on the other 2,000): 97.5-98.5% for seeds
# 0..11 after 4 epochs. Halving the rate every epoch settles the last epoch, where a constant
# rate left the final accuracy anywhere in 96-98%. fashion-mnist and cifar10 are untuned.
DATASET_DEFAULTS: dict[str, dict] = {
    "digits": dict(optimizer="sgd", lr=0.03, momentum=0.9, lr_decay=0.85, batch_size=16,
                   epochs=12),
    "mnist": dict(optimizer="sgd", lr=0.03, momentum=0.9, lr_decay=0.5, batch_size=32, epochs=4),
    "fashion-mnist": dict(optimizer="sgd", lr=0.03, momentum=0.9, lr_decay=0.7, batch_size=32,
                          epochs=8),
    "cifar10": dict(optimizer="adam", lr=1e-3, momentum=0.0, lr_decay=0.8, batch_size=64,
                    epochs=10),
}


@dataclass
class TrainConfig:
    """Everything that decides a run's result; a checkpoint stores it and --resume reuses it."""
    dataset: str
    model: str
    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    momentum: float
    seed: int
    data_dir: str | None = None
    train_size: int | None = None
    split_seed: int = 0
    lr_decay: float = 1.0   # exponential schedule: epoch e (from 0) trains with lr * lr_decay**e
    scheduler: str = "exponential"
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """The config a checkpoint recorded, each field checked for its type (its value is
        checked by check_config)."""
        optional = {"data_dir", "train_size", "split_seed", "lr_decay", "scheduler",
                    "weight_decay", "label_smoothing", "augment"}
        missing = {f.name for f in fields(cls)} - set(values) - optional
        if missing:
            raise UserError(f"checkpoint configuration lacks {', '.join(sorted(missing))}")
        kinds = {"dataset": str, "model": str, "epochs": int, "batch_size": int, "lr": float,
                 "optimizer": str, "momentum": float, "seed": int, "data_dir": str,
                 "train_size": int, "split_seed": int, "lr_decay": float, "scheduler": str,
                 "weight_decay": float, "label_smoothing": float, "augment": bool}
        checked = {}
        for name, kind in kinds.items():
            if name not in values:
                continue
            value = values[name]
            if value is None and name in ("data_dir", "train_size"):
                checked[name] = None
            elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                checked[name] = float(value)
            elif kind is bool and isinstance(value, bool):
                checked[name] = value
            elif isinstance(value, kind) and not isinstance(value, bool):
                checked[name] = value
            else:
                raise UserError(f"checkpoint configuration: {name} must be a "
                                f"{kind.__name__}, got {value!r}")
        return cls(**checked)


def build_config(dataset: str, model=None, epochs=None, batch_size=None, lr=None, optimizer=None,
                 momentum=None, seed=0, data_dir=None, train_size=None,
                 lr_decay=None, scheduler=None, weight_decay=None, label_smoothing=None,
                 augment=False) -> TrainConfig:
    """Fill options left as None from the dataset's defaults, then check every value."""
    defaults = DATASET_DEFAULTS[dataset]
    optimizer = optimizer or defaults["optimizer"]
    if momentum is not None and optimizer != "sgd":
        raise UserError(f"--momentum applies to --optimizer sgd only (this run uses {optimizer})")
    # The dataset's lr and momentum belong to its optimizer; another optimizer gets the usual
    # starting points (SGD 0.03 with momentum 0.9, Adam 0.001).
    own = optimizer == defaults["optimizer"]
    if momentum is None:
        momentum = defaults["momentum"] if own else (0.9 if optimizer == "sgd" else 0.0)
    if lr is None:
        lr = defaults["lr"] if own else OPTIMIZER_LR.get(optimizer, 1e-3)
    scheduler = scheduler or "exponential"
    if lr_decay is not None and scheduler != "exponential":
        raise UserError(f"--lr-decay applies to --scheduler exponential only (this run uses "
                        f"{scheduler})")
    if lr_decay is None:
        lr_decay = defaults["lr_decay"] if scheduler == "exponential" else 1.0
    if weight_decay is None:    # AdamW's own default, as PyTorch's; 0 for the others
        weight_decay = 0.01 if optimizer == "adamw" else 0.0
    config = TrainConfig(
        dataset=dataset, model=model or default_model(dataset),
        epochs=defaults["epochs"] if epochs is None else epochs,
        batch_size=defaults["batch_size"] if batch_size is None else batch_size,
        lr=float(lr), optimizer=optimizer, momentum=float(momentum), seed=seed,
        data_dir=None if data_dir is None else str(data_dir), train_size=train_size,
        lr_decay=float(lr_decay), scheduler=scheduler, weight_decay=float(weight_decay),
        label_smoothing=float(label_smoothing or 0.0), augment=bool(augment))
    check_config(config)
    return config


def check_config(config: TrainConfig):
    if config.model not in MODELS:
        raise UserError(f"unknown model {config.model!r}; known models: {', '.join(MODELS)}")
    if config.optimizer not in OPTIMIZERS:
        raise UserError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, "
                        f"got {config.optimizer!r}")
    check_int("--epochs", config.epochs, 1)
    check_int("--batch-size", config.batch_size, 1)
    check_int("--seed", config.seed, 0)
    if config.train_size is not None:
        check_int("--train-size", config.train_size, 1)
    if not (math.isfinite(config.lr) and config.lr > 0):
        raise UserError(f"--lr must be a positive number, got {config.lr:g}")
    if not (math.isfinite(config.lr_decay) and 0 < config.lr_decay <= 1):
        raise UserError(f"--lr-decay must lie in (0, 1], got {config.lr_decay:g}")
    if not (math.isfinite(config.momentum) and 0 <= config.momentum < 1):
        raise UserError(f"--momentum must lie in [0, 1), got {config.momentum:g}")
    if config.scheduler not in SCHEDULERS:
        raise UserError(f"--scheduler must be one of {', '.join(SCHEDULERS)}, got "
                        f"{config.scheduler!r}")
    if not (math.isfinite(config.weight_decay) and config.weight_decay >= 0):
        raise UserError(f"--weight-decay must be a number >= 0, got {config.weight_decay:g}")
    if not (math.isfinite(config.label_smoothing) and 0 <= config.label_smoothing <= 1):
        raise UserError(f"--label-smoothing must lie in [0, 1], got "
                        f"{config.label_smoothing:g}")


def check_int(option: str, value, minimum: int):
    if value is None or int(value) < minimum:
        raise UserError(f"{option} must be >= {minimum}, got {value}")


def check_fits(model: str, image_shape, num_classes: int, source: str):
    """The model's dense layers fix its input size: refuse data of another size, naming both."""
    spec = model_spec(model)
    height, width = image_shape[1:]
    if (height, width) != spec.input_size:
        raise UserError(f"model {model} expects {spec.input_size[0]}x{spec.input_size[1]} images, "
                        f"but {source} has {height}x{width} images (choose another --model, e.g. "
                        f"{_models_for(height, width)})")
    if num_classes < 1:
        raise UserError(f"{source} has no classes")


def _models_for(height, width) -> str:
    names = [name for name, spec in MODELS.items() if spec.input_size == (height, width)]
    return " or ".join(names) if names else f"none of {', '.join(MODELS)} takes {height}x{width}"


# --- device, threads, output paths ---------------------------------------------------

def resolve_device(name: str) -> str:
    """"auto" -> "cuda" when a GPU is present, else "cpu"; "cuda" without a GPU is an error."""
    try:
        return devices.resolve_option(name)
    except ValueError as error:
        raise UserError(str(error)) from None


@contextlib.contextmanager
def cpu_threads(threads: int):
    """Run the block with `threads` CPU threads for the kernels: numba's parallel loops and the
    split BLAS products both follow numba's thread count (BLAS itself runs one thread per
    call; see gpucnn/kernels/_blas.py)."""
    if threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}")
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@contextlib.contextmanager
def writing(option: str, path):
    """A file a command writes after its work (a report, a picture): an OSError becomes one
    line naming the option and the file; the file there before is kept (atomic writes)."""
    try:
        yield
    except OSError as error:
        raise UserError(f"cannot write {option} {path} ({error.strerror or error}); the file "
                        f"there before, if any, is unchanged") from None


def write_json(option: str, path, report: dict):
    with writing(option, path):
        jsonfile.write_json(path, report)


def check_output_path(option: str, path):
    """Refuse, before any work starts, an output path that cannot be written: a directory, a
    missing folder that cannot be made, a folder without write permission. A file is written
    beside its target and renamed over it (gpucnn.serialization), so writing the folder is
    what counts; it is tried for real, as permissions can say yes where the file system says
    no (read-only mounts)."""
    if path is None:
        return None
    path = Path(path)
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise UserError(f"{option} {path} is a directory; give a file name")
    folder = target.parent
    while not folder.exists():            # missing folders are made when the file is written
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"{option} {path}: {folder} is not a folder")
    if folder != target.parent:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UserError(f"{option} {path}: cannot create {target.parent} (no write "
                            f"permission in {folder})")
        return path
    probe = partial_path(target)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path                       # a killed save's leftover: the folder is writable
    except OSError as error:
        raise UserError(f"{option} {path}: cannot write to {folder} "
                        f"({error.strerror or error})") from None
    os.close(fd)
    os.unlink(probe)
    return path
