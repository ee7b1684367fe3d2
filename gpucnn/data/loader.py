"""`DataLoader`: mini-batches over an in-memory dataset, reproducible and resumable.

Shuffling draws each epoch's order from `numpy.random.default_rng([seed, epoch])`, so the
order of any epoch is a pure function of (seed, epoch): two loaders with the same seed agree,
consecutive epochs differ, and resuming needs only three integers (seed, epoch, position),
which `state_dict()` returns and `load_state_dict()` restores.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..factories import tensor
from .dataset import Dataset


def channel_stats(images: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of NCHW images, as float32 arrays of length C.

    Accumulated in float64 chunk by chunk, so a large dataset costs no full-size temporary
    and float32 rounding does not build up over millions of pixels.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"channel_stats needs non-empty NCHW images, got shape {images.shape}")
    c = images.shape[1]
    total = np.zeros(c)
    total_sq = np.zeros(c)
    for start in range(0, images.shape[0], chunk):
        block = images[start:start + chunk].astype(np.float64)
        total += block.sum(axis=(0, 2, 3))
        total_sq += np.square(block).sum(axis=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    var = np.maximum(total_sq / count - mean * mean, 0.0)  # clamp tiny negative rounding
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32)


class DataLoader:
    """Iterate `(images, labels)` batches over a Dataset or an `(images, labels)` pair.

    Args:
        data: a `Dataset`, or a tuple `(images NCHW, labels)` of arrays.
        batch_size: samples per batch, a positive int.
        shuffle: visit samples in a new random order each epoch.
        seed: seed of the shuffle; None picks a random one (still recorded in `state_dict`).
        drop_last: skip the final batch when it is smaller than `batch_size`.
        normalize: None; `(mean, std)` per channel (sequences of length C, or scalars),
            applied as `(x - mean) / std`; or `"auto"` to compute them from `data`. The values
            used are in `loader.mean` / `loader.std`: pass `normalize=(train.mean, train.std)`
            to the test loader so both halves are scaled alike.
        device: None yields NumPy arrays; "cpu" / "cuda" yield `gpucnn.tensor(..., device=...)`
            for both images and labels.

    Each full pass is one epoch; `epoch` counts them. Leaving a pass early (break) and
    starting a new one begins the next epoch, as in PyTorch. `state_dict()` taken in the
    middle of a pass and given to `load_state_dict()` makes the next pass continue that epoch
    from the next batch, so a resumed run sees exactly the batches an uninterrupted one would.
    """

    def __init__(self, data, batch_size: int, shuffle: bool = False, seed: int | None = None,
                 drop_last: bool = False, normalize=None, device: str | None = None):
        if isinstance(data, Dataset):
            images, labels = data.images, data.labels
        elif isinstance(data, (tuple, list)) and len(data) == 2:
            images = np.asarray(data[0], dtype=np.float32)
            labels = np.asarray(data[1])
            if not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
            labels = labels.astype(np.int64, copy=False)
        else:
            raise TypeError("DataLoader needs a Dataset or an (images, labels) pair of arrays, "
                            f"got {type(data).__name__}")
        if images.ndim != 4:
            raise ValueError(f"images must be NCHW (4-D), got shape {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"need one label per image: images {images.shape}, labels {labels.shape}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        self.images, self.labels = images, labels
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # A random seed is still a seed: recording it keeps an unseeded run resumable.
        self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy)
        self.mean, self.std = self._normalization(normalize)
        self.device = device
        self._convert = (lambda array: tensor(array, device=device)) if device is not None \
            else None
        self._epoch = 0      # epoch in progress, or the next one to start
        self._position = 0   # batches of that epoch already handed out
        self._started = False  # a pass over self._epoch has begun and not finished
        self._generation = 0   # bumped by every new pass and restore; older generators stop

    def _normalization(self, normalize):
        if normalize is None:
            return None, None
        c = self.images.shape[1]
        if isinstance(normalize, str):
            if normalize != "auto":
                raise ValueError(f"normalize must be None, 'auto' or (mean, std), got {normalize!r}")
            mean, std = channel_stats(self.images)
        else:
            try:
                mean, std = normalize
            except (TypeError, ValueError):
                raise ValueError(f"normalize must be None, 'auto' or (mean, std), got {normalize!r}") from None
            mean = np.broadcast_to(np.asarray(mean, dtype=np.float32).reshape(-1), (c,)).copy() \
                if np.size(mean) in (1, c) else None
            std = np.broadcast_to(np.asarray(std, dtype=np.float32).reshape(-1), (c,)).copy() \
                if np.size(std) in (1, c) else None
            if mean is None or std is None:
                raise ValueError(f"normalize mean and std need 1 or {c} values (one per channel)")
        if not np.all(std > 0):
            raise ValueError(f"normalize std must be positive in every channel, got {std}")
        return mean, std

    @property
    def epoch(self) -> int:
        """The epoch in progress, or the next one to start (0 before the first pass)."""
        return self._epoch

    @property
    def num_samples(self) -> int:
        return self.labels.shape[0]

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def order(self, epoch: int) -> np.ndarray:
        """The sample indices of `epoch`, in the order they are served."""
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_samples)

    def _batch(self, index):
        # Always a fresh array (a slice would be a view): code that modifies a batch in
        # place must not change the dataset that later epochs read.
        x = self.images[index].copy() if isinstance(index, slice) else self.images[index]
        y = self.labels[index].copy() if isinstance(index, slice) else self.labels[index]
        if self.mean is not None:
            shape = (1, -1, 1, 1)
            x = (x - self.mean.reshape(shape)) / self.std.reshape(shape)
            x = x.astype(np.float32, copy=False)
        if self._convert is not None:
            return self._convert(x), self._convert(y)
        return x, y

    def __iter__(self):
        if self._started:  # the previous pass was left early: it still used up its epoch
            self._epoch += 1
            self._position = 0
        self._started = True
        self._generation += 1
        generation, epoch = self._generation, self._epoch
        order = None if not self.shuffle else self.order(epoch)
        b = self.batch_size
        for k in range(self._position, len(self)):
            # Contiguous slices when not shuffling: one block copy instead of a gather.
            index = slice(k * b, (k + 1) * b) if order is None else order[k * b:(k + 1) * b]
            batch = self._batch(index)
            self._position = k + 1  # counted before the yield: a checkpoint taken while
            yield batch             # this batch is used records it as consumed
            if self._generation != generation:
                return  # a newer pass or a load_state_dict took over: this one is stale
        self._epoch = epoch + 1
        self._position = 0
        self._started = False

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the batch sequence exactly: plain ints, JSON-safe."""
        return {"seed": self.seed, "epoch": self._epoch, "position": self._position,
                "num_samples": self.num_samples, "batch_size": self.batch_size,
                "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`; the next pass continues from where that state was taken."""
        for key in ("num_samples", "batch_size", "shuffle", "drop_last"):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(f"state was saved with {key}={state[key]!r}, this loader has "
                                 f"{key}={getattr(self, key)!r}; the batch sequence would differ")
        position = int(state["position"])
        if not 0 <= position <= len(self):
            raise ValueError(f"state position {position} is outside 0..{len(self)}")
        self.seed = int(state["seed"])
        self._epoch = int(state["epoch"])
        self._position = position
        self._started = False
        self._generation += 1

    def __repr__(self) -> str:
        return (f"DataLoader(n={self.num_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, epoch={self._epoch})")
