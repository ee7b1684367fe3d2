"""The training loop: epochs of mini-batches, resumable after any batch, bit for bit.

A run's state is the model and optimizer tensors plus a few numbers: epochs done, batches of
the current epoch applied, that epoch's running sums, the history, the DataLoader's position
(its order is a pure function of seed and epoch) and the engine's RNG state. `progress()`
returns those numbers and `restore()` puts them back, so a run resumed from a checkpoint takes
exactly the steps an uninterrupted one would, in the same order, with the same arithmetic.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import optim, random, transforms
from ..optim import lr_scheduler
from ..data import DataLoader, channel_stats
from ..models import get_model
from ..nn import functional as F
from ..factories import tensor
from .checkpoint import Checkpoint, load_weights, save_checkpoint
from .config import TrainConfig
from .data import LoadedData
from .distributed import SingleProcess
from . import UserError
from .evaluation import evaluate

EVAL_BATCH_SIZE = 500
# What a checkpoint leaves out: they differ from run to run.
TIMING_KEYS = ("seconds", "images_per_second")


class StopRequested(Exception):
    """Ctrl-C was pressed; the trainer stopped at a batch boundary."""


@dataclass
class EpochSums:
    """Running totals of the epoch in progress."""
    batches: int = 0      # batches applied (optimizer steps taken)
    seen: int = 0
    correct: int = 0
    loss_sum: float = 0.0  # sum over batches of mean loss * batch size
    seconds: float = 0.0   # training time of this epoch so far (paused while checkpointed)

    @property
    def loss(self):
        return self.loss_sum / self.seen if self.seen else float("nan")

    @property
    def accuracy(self):
        return self.correct / self.seen if self.seen else float("nan")

    @property
    def images_per_second(self):
        return self.seen / self.seconds if self.seconds > 0 else 0.0


def forward_backward(model, images, labels, host_labels, label_smoothing=0.0, scale=1.0):
    """Forward and backward pass of one batch: gradients land in .grad, parameters are
    untouched (the optimizer step is separate). The gradient is that of the mean loss times
    `scale` (a rank's share of a global batch). Returns (mean loss, correct predictions)."""
    logits = model(images)
    loss = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    correct = int((logits.numpy().argmax(axis=1) == host_labels).sum())
    (loss if scale == 1.0 else loss * scale).backward()
    return loss.item(), correct


def make_optimizer(config: TrainConfig, params):
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum,
                         weight_decay=config.weight_decay)
    kinds = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
             "adagrad": optim.Adagrad, "adadelta": optim.Adadelta}
    return kinds[config.optimizer](params, lr=config.lr, weight_decay=config.weight_decay)


# Schedulers stepped after every batch; the others after every epoch.
PER_BATCH = ("cosine", "onecycle")


def make_scheduler(config: TrainConfig, optimizer, batches_per_epoch: int):
    total = config.epochs * batches_per_epoch
    if config.scheduler == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    if config.scheduler == "multistep":
        milestones = sorted({max(1, config.epochs // 2), max(1, config.epochs * 3 // 4)})
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    if config.scheduler == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)


def make_augmentation(config: TrainConfig, image_shape, mean, std):
    """Random crops padded with black (and flips for colour images), then normalisation: each
    batch on its device, in torchvision's order. None without --augment (the loader then
    normalises on the host)."""
    if not config.augment:
        return None
    channels, height, _ = image_shape
    padding = 4 if height >= 32 else 2 if height >= 16 else 1
    steps = [transforms.RandomCrop(tuple(image_shape[1:]), padding=padding)]
    if channels == 3:
        steps.append(transforms.RandomHorizontalFlip())
    steps.append(transforms.Normalize(mean.tolist(), std.tolist()))
    return transforms.Compose(steps)


class Trainer:
    """Trains config's model on data. `ranks` is the MPI job this process is part of
    (training/distributed.py) or, by default, a run of one process."""

    def __init__(self, config: TrainConfig, data: LoadedData, device: str, normalize=None,
                 ranks=None):
        self.config, self.data, self.device = config, data, device
        self.ranks = ranks if ranks is not None else SingleProcess()
        train = data.train
        random.manual_seed(config.seed)
        model = get_model(config.model, train.image_shape[0], train.num_classes).to(device)
        # The model itself (what checkpoints hold) and what the batches go through (with
        # several ranks, DistributedDataParallel around it).
        self.model, self.forward_model = self.ranks.wrap(model)
        self.optimizer = make_optimizer(config, self.model.parameters())
        mean, std = normalize if normalize is not None else channel_stats(train.images)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.augment = make_augmentation(config, train.image_shape, self.mean, self.std)
        self.train_loader = DataLoader(train, config.batch_size, shuffle=True, seed=config.seed,
                                       normalize=None if self.augment else (self.mean, self.std))
        start, stop = self.ranks.shard(len(data.test))
        test = data.test if stop - start == len(data.test) else \
            data.test.subset(np.arange(start, stop))
        self.test_loader = DataLoader(test, EVAL_BATCH_SIZE, shuffle=False,
                                      normalize=(self.mean, self.std))
        self.scheduler = make_scheduler(config, self.optimizer, len(self.train_loader))
        self.epochs_done = 0
        self.sums = EpochSums()   # of the epoch in progress (all zero between epochs)
        self.history: list[dict] = []
        self.train_seconds = 0.0  # completed epochs
        self.images_seen = 0      # completed epochs
        self.last_eval = None
        self._updating = False    # True while parameters are half updated
        # The generators' state after the last completed batch: a batch stopped half way has
        # drawn augmentation offsets and dropout masks, and its rerun must draw them again.
        self._rng_at_boundary = None
        # This process's first step compiles the kernels it uses (numba caches them on disk,
        # so later runs load them instead): timed apart, so throughput is the steady state.
        self.first_step_seconds = None
        self.first_step_images = 0
        self.images_this_run = 0  # trained by this process (a resumed run counts from here)

    # --- what a checkpoint holds ----------------------------------------------------------
    def info(self) -> dict:
        train = self.data.train
        return {"classes": list(train.classes), "num_classes": train.num_classes,
                "in_channels": train.image_shape[0], "image_size": list(train.image_shape[1:]),
                "normalize_mean": self.mean.tolist(), "normalize_std": self.std.tolist(),
                "data": self.data.description, "train_images": len(train),
                "test_images": len(self.data.test)}

    def progress(self) -> dict:
        loader = dict(self.train_loader.state_dict())
        # The loader counts a batch as used once handed out; the checkpoint counts the
        # batches whose optimizer step completed, which is where a resumed run must go on.
        loader["epoch"], loader["position"] = self.epochs_done, self.sums.batches
        # No timings: two identical runs write byte-identical checkpoints (the --json report
        # is where times go).
        sums = {k: v for k, v in asdict(self.sums).items() if k not in TIMING_KEYS}
        history = [{k: v for k, v in entry.items() if k not in TIMING_KEYS}
                   for entry in self.history]
        return {"epochs_done": self.epochs_done, "epoch_sums": sums, "loader": loader,
                "rng": self._rng_at_boundary or random.get_state(), "history": history,
                "scheduler": self.scheduler.state_dict(),
                "images_seen": self.images_seen, "device": self.device}

    @property
    def consistent(self) -> bool:
        """False only if stopped inside an optimizer step, when no checkpoint can be exact."""
        return not self._updating

    def save(self, path):
        save_checkpoint(path, self.model, self.optimizer, self.config, self.info(), self.progress())

    def restore(self, checkpoint: Checkpoint):
        load_weights(self.model, checkpoint.model_state, self.config.model,
                     f"checkpoint {checkpoint.path}")
        p = checkpoint.progress
        try:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
            if "scheduler" in p:
                self.scheduler.load_state_dict(p["scheduler"])
            else:   # written before schedulers: lr * lr_decay**epochs_done, per epoch
                done = int(p["epochs_done"])
                lr = self.config.lr * self.config.lr_decay ** done
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                state = self.scheduler.state_dict()
                state.update(last_epoch=done, _last_lr=[lr] * len(self.optimizer.param_groups))
                self.scheduler.load_state_dict(state)
            self.train_loader.load_state_dict(p["loader"])
            random.set_state(p["rng"])
            self._rng_at_boundary = random.get_state()
            self.epochs_done = int(p["epochs_done"])
            self.sums = EpochSums(**p["epoch_sums"])
            self.history = list(p["history"])
            self.images_seen = int(p["images_seen"])
        except (KeyError, ValueError, TypeError) as error:
            raise UserError(f"checkpoint {checkpoint.path} cannot be resumed here: "
                            f"{' '.join(str(error).split())}") from None

    # --- training -------------------------------------------------------------------------
    def run(self, epochs: int, reporter, stop_requested=lambda: False, save_path=None):
        """Train until `epochs` epochs are done, saving to `save_path` after each one."""
        while self.epochs_done < epochs:
            self._train_epoch(epochs, reporter, stop_requested)
            if save_path is not None and self.ranks.is_main:
                self.save(save_path)
            # Agreed over the ranks: Ctrl-C reaches each at its own moment, and one that
            # stopped here alone would leave the others waiting in the next batch.
            stops = self.ranks.sum((int(stop_requested()),))[0]
            if stops and self.epochs_done < epochs:
                raise StopRequested

    def _train_epoch(self, epochs, reporter, stop_requested):
        sums = self.sums
        per_batch = self.config.scheduler in PER_BATCH
        self._rng_at_boundary = random.get_state()   # between batches here
        reporter.start_epoch(self.epochs_done + 1, epochs, len(self.train_loader), sums)
        self.model.train()
        start = time.perf_counter() - sums.seconds
        for x, y in self.train_loader:
            step_start = time.perf_counter()
            images, labels, y_mine, scale = self._shard_of(x, y)
            self.optimizer.zero_grad()
            loss, correct = forward_backward(self.forward_model, images, labels, y_mine,
                                             self.config.label_smoothing, scale)
            self._updating = True
            self.optimizer.step()
            if per_batch:
                self.scheduler.step()
            if self.first_step_seconds is None:
                self.first_step_seconds = time.perf_counter() - step_start
                self.first_step_images = len(y)
            # Summed over the ranks (with one rank: as they are), and Ctrl-C with them, so
            # that every rank stops after the same batch.
            loss_sum, correct, stops = self.ranks.sum((loss * len(y_mine), correct,
                                                       int(stop_requested())))
            self.images_this_run += len(y)
            sums.batches += 1
            sums.seen += len(y)
            sums.correct += correct
            sums.loss_sum += loss_sum
            sums.seconds = time.perf_counter() - start
            self._updating = False
            self._rng_at_boundary = random.get_state()
            reporter.update(sums)
            if stops:
                raise StopRequested
        sums.seconds = time.perf_counter() - start
        if not per_batch:
            self.scheduler.step()
        result = self._evaluate()
        self.last_eval = result
        entry = {"epoch": self.epochs_done + 1, "train_loss": sums.loss,
                 "train_accuracy": sums.accuracy, "test_loss": result.loss,
                 "test_accuracy": result.accuracy, "seconds": sums.seconds,
                 "images_per_second": sums.images_per_second}
        self.history.append(entry)
        self.train_seconds += sums.seconds
        self.images_seen += sums.seen
        self.epochs_done += 1
        self.sums = EpochSums()
        reporter.end_epoch(entry)

    def _shard_of(self, x, y):
        """This rank's images, labels (device and host) and loss weight of a global batch.
        The whole batch is augmented first, so the random draws are those of one process."""
        start, stop = self.ranks.shard(len(y))
        whole = stop - start == len(y)
        if self.augment is not None:
            images = self.augment(tensor(x, device=self.device))
            images = images if whole else images[start:stop]
        else:
            images = tensor(x if whole else x[start:stop], device=self.device)
        y_mine = y if whole else y[start:stop]
        scale = 1.0 if whole else (stop - start) * self.ranks.size / len(y)
        return images, tensor(y_mine, device=self.device), y_mine, scale

    def _evaluate(self):
        result = evaluate(self.model, self.test_loader, self.device,
                          self.data.test.num_classes)
        return self.ranks.merge(result)

    # --- results --------------------------------------------------------------------------
    @property
    def total_train_seconds(self):
        return self.train_seconds + self.sums.seconds

    @property
    def steady_images_per_second(self) -> float:
        """Training images per second after this process's first step (which compiles)."""
        seconds = self.total_train_seconds - (self.first_step_seconds or 0.0)
        images = self.images_this_run - self.first_step_images
        return images / seconds if seconds > 0 and images > 0 else 0.0

    def final_eval(self):
        if self.last_eval is None:
            self.last_eval = self._evaluate()
        return self.last_eval
