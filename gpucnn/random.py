"""The engine's random numbers, seeded by `gpucnn.manual_seed`.

Two generators, one seed:
* parameter initialisation draws on the host from NumPy's PCG64 (`uniform`), since weights are
  made on the host and moved with the model;
* tensor ops (`gpucnn.rand`, `randn`, `randint`, `Tensor.uniform_`, dropout masks) draw from a
  counter-based Philox4x32-10 generator (kernels/random.py) on the tensor's device. Its state is
  (seed, offset): a call that draws n numbers takes counters offset .. offset+n-1 and moves the
  offset on, so the same seed gives the same numbers on "cpu" and "cuda", run after run.
"""
import secrets

import numpy as np

_MASK64 = (1 << 64) - 1


class _State:
    def __init__(self, seed: int):
        self.seed = seed
        self.numpy = np.random.default_rng(seed)
        self.philox_offset = 0


_state = _State(secrets.randbits(63))


def _checked_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 64):
        raise ValueError(f"manual_seed: seed {seed} must lie in [-2**63, 2**64)")
    return seed & _MASK64


def manual_seed(seed: int):
    """Seed every generator of gpucnn (both devices), as torch.manual_seed."""
    global _state
    _state = _State(_checked_seed(seed))


def seed() -> int:
    """Seed from the operating system's entropy; returns the seed."""
    value = secrets.randbits(63)
    manual_seed(value)
    return value


def initial_seed() -> int:
    return _state.seed


def generator() -> np.random.Generator:
    return _state.numpy


def uniform(shape, low: float, high: float) -> np.ndarray:
    """A float32 array of `shape` drawn uniformly from [low, high) by the host generator,
    drawn and scaled in place: no float64 temporary, so a layer's weights take their final
    size in memory and no more (a 2,073,600 x 1,000 dense layer: 7.7 GiB, not 23)."""
    return fill_uniform(np.empty(shape, np.float32), low, high)


def fill_uniform(out: np.ndarray, low: float, high: float) -> np.ndarray:
    """uniform() drawn into `out` (a C-contiguous float32 array) in place: the same numbers
    uniform(out.shape, low, high) would give."""
    _state.numpy.random(dtype=np.float32, out=out)
    out *= np.float32(high - low)
    out += np.float32(low)
    return out


def philox_counters(count: int) -> tuple[int, int]:
    """(seed, offset) for a draw of `count` numbers; the offset moves past them."""
    offset = _state.philox_offset
    _state.philox_offset = (offset + int(count)) & _MASK64
    return _state.seed, offset


def get_state() -> dict:
    """Everything needed to continue the same random stream (JSON-serialisable)."""
    return {"seed": _state.seed, "philox_offset": _state.philox_offset,
            "numpy": _state.numpy.bit_generator.state}


def set_state(state: dict):
    """Restore a get_state() result (or a bare NumPy bit-generator state, as older
    checkpoints hold)."""
    if "numpy" not in state:
        _state.numpy.bit_generator.state = state
        return
    seed = _checked_seed(state["seed"])
    offset = state["philox_offset"]
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= _MASK64:
        raise ValueError(f"random state: philox_offset must be an int in [0, 2**64), got "
                         f"{offset!r}")
    numpy_generator = np.random.default_rng()
    numpy_generator.bit_generator.state = state["numpy"]
    _state.seed, _state.philox_offset, _state.numpy = seed, offset, numpy_generator


class forked:  # noqa: N801  (a context manager, named for what holds inside it)
    """Inside this block the generators continue from `state` (a get_state() result); on the
    way out the state from before the block is put back, so what the block draws takes
    nothing from the main stream (torch.random.fork_rng). The host generator object stays
    the same one throughout (its state is set in place)."""

    def __init__(self, state: dict):
        self.state = state

    def __enter__(self):
        self._outer = _state
        self._saved = (_state.seed, _state.philox_offset, _state.numpy.bit_generator.state)
        _state.seed, _state.philox_offset = self.state["seed"], self.state["philox_offset"]
        _state.numpy.bit_generator.state = self.state["numpy"]
        return self

    def __exit__(self, *exc):
        global _state
        _state = self._outer   # also after a manual_seed inside the block
        _state.seed, _state.philox_offset, numpy_state = self._saved
        _state.numpy.bit_generator.state = numpy_state
        return False
