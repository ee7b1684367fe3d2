"""`Generator`: a random stream of its own, as torch.Generator, for the calls that take one.

    g = gpucnn.Generator().manual_seed(42)
    train, test = random_split(dataset, [0.8, 0.2], generator=g)
    perm = gpucnn.randperm(10, generator=g)

A Generator holds what gpucnn's global generator holds (gpucnn/random.py): a seed, the offset
of its Philox4x32-10 stream (kernels/random.py: the numbers of a draw depend on (seed, offset)
alone, so they are the same on "cpu" and "cuda") and a NumPy PCG64 generator seeded alike.
Calls given `generator=` draw from it and leave the global one alone; calls given None draw
from the global one, whose behaviour this module does not change. `default_generator` is the
global one seen as a Generator (as torch.default_generator): seeding it is gpucnn.manual_seed.

Differences from torch.Generator: the numbers are not PyTorch's; `device` is recorded but does
not change the numbers (Philox gives the same ones on both devices), so a "cuda" generator can
also drive draws made on the host; get_state() returns a dict (the form gpucnn.get_rng_state
returns and checkpoints store), not a uint8 tensor.
"""
import secrets

import numpy as np

from . import random
from .backend import backend
from .devices import device as Device

# torch.Generator()'s seed before any manual_seed (c10's default_rng_seed_val).
DEFAULT_SEED = 67280421310721


class Generator:
    """Generator(device="cpu"): an independent Philox stream (plus a NumPy PCG64 generator)."""

    def __init__(self, device="cpu"):
        self.device = Device("cpu" if device is None else device)
        self._state = random._State(DEFAULT_SEED)

    def manual_seed(self, seed) -> "Generator":
        """Restart the stream from `seed` (an int in [-2**63, 2**64)); returns the generator."""
        self._state = random._State(random._checked_seed(seed))
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed."""
        value = secrets.randbits(63)
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        return self._state.seed

    def get_state(self) -> dict:
        """Everything needed to continue this stream: {"seed", "philox_offset", "numpy"}."""
        return {"seed": self._state.seed, "philox_offset": self._state.philox_offset,
                "numpy": self._state.numpy.bit_generator.state}

    def set_state(self, state) -> "Generator":
        """Continue from a get_state() result (of this or any gpucnn generator)."""
        if not isinstance(state, dict) or not {"seed", "philox_offset", "numpy"} <= set(state):
            raise TypeError(f"Generator.set_state: expected the dict get_state() returns (keys "
                            f"seed, philox_offset, numpy), got {type(state).__name__}")
        offset = state["philox_offset"]
        if isinstance(offset, bool) or not isinstance(offset, int) or \
                not 0 <= offset < 2 ** 64:
            raise ValueError(f"Generator.set_state: philox_offset must be an int in [0, 2**64), "
                             f"got {offset!r}")
        restored = random._State(random._checked_seed(state["seed"]))
        restored.numpy.bit_generator.state = state["numpy"]
        restored.philox_offset = offset
        self._state = restored
        return self

    def philox_counters(self, count: int) -> tuple[int, int]:
        """(seed, offset) for a draw of `count` Philox numbers; the offset moves past them
        (gpucnn's own method, what the calls taking `generator=` use)."""
        offset = self._state.philox_offset
        self._state.philox_offset = (offset + int(count)) % (1 << 64)
        return self._state.seed, offset

    def numpy_generator(self):
        """This stream's NumPy PCG64 generator (for draws made on the host)."""
        return self._state.numpy

    def __repr__(self):
        return f"<gpucnn.Generator device='{self.device}' initial_seed={self.initial_seed()}>"


class _DefaultGenerator(Generator):
    """The global generator of gpucnn/random.py seen through the Generator interface."""

    def __init__(self):
        self.device = Device("cpu")

    def manual_seed(self, seed) -> "Generator":
        random.manual_seed(seed)
        return self

    def seed(self) -> int:
        return random.seed()

    def initial_seed(self) -> int:
        return random.initial_seed()

    def get_state(self) -> dict:
        return random.get_state()

    def set_state(self, state) -> "Generator":
        random.set_state(state)
        return self

    def philox_counters(self, count: int) -> tuple[int, int]:
        return random.philox_counters(count)

    def numpy_generator(self):
        return random.generator()

    def __repr__(self):
        return f"<gpucnn.default_generator initial_seed={self.initial_seed()}>"


default_generator = _DefaultGenerator()


def checked(generator, where: str):
    """`generator` itself when it is a gpucnn Generator or None; TypeError otherwise (a
    torch.Generator, say, whose numbers gpucnn cannot draw)."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{where}: generator must be a gpucnn.Generator or None, got "
                        f"{type(generator).__module__}.{type(generator).__name__}")
    return generator


def philox_counters(generator, count: int, where: str = "random draw") -> tuple[int, int]:
    """(seed, offset) for `count` numbers from `generator`, or from the global generator when
    it is None."""
    if checked(generator, where) is None:
        return random.philox_counters(count)
    return generator.philox_counters(count)


# ---------------------------------------------------------------- draws made on the host
# Philox numbers drawn by the CPU twins of kernels/random.py: for the small per-sample or
# per-epoch draws (sampler orders, crop offsets, flip decisions) that the host needs anyway.
# They equal what the same (seed, offset) gives on "cuda".

def host_uniform(generator, count: int, where: str) -> np.ndarray:
    """`count` float32 numbers uniform on [0, 1)."""
    seed, offset = philox_counters(generator, count, where)
    return backend("cpu").kernels.uniform(np.empty(count, np.float32), seed, offset, 0.0, 1.0)


def host_randint(generator, low: int, high: int, count: int, where: str) -> np.ndarray:
    """`count` int64 numbers uniform on [low, high)."""
    seed, offset = philox_counters(generator, count, where)
    return backend("cpu").kernels.randint(np.empty(count, np.int64), seed, offset, low, high)
