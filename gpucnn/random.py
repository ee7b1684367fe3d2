"""The engine's random generator (parameter initialisation), seeded by `gpucnn.manual_seed`."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int):
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _generator


def get_state() -> dict:
    return _generator.bit_generator.state


def set_state(state: dict):
    _generator.bit_generator.state = state
