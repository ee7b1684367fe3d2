"""What a benchmark case is: a named piece of work, its counts, and how to set it up.

A `Case` is cheap to make (a name, a shape, FLOP and byte counts) so that all of them can be
listed and filtered with --case before anything is allocated. `Case.prepare(env)` allocates
the input sets on the device and returns a `Prepared`: the gpucnn call to time, the check to
run first, and the reference calls (torch, CuPy) doing the same work on the same data.
"""
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .reference import relative_l2_error


@dataclass
class Check:
    ok: bool
    error: float | None          # relative error against the reference (see reference.relative_l2_error)
    detail: str                  # what was compared with what
    first_call_s: float | None = None  # the first gpucnn call (JIT compile when it happened here)


@dataclass
class Timed:
    label: str                   # e.g. "torch 2.13.0 oneDNN fp32"
    run: Callable[[int], object]  # one call on input set i % n_sets
    key: tuple | None = None     # equal keys time the same work: measured once per run


@dataclass
class Prepared:
    run: Callable[[int], object]
    check: Callable[[], Check]
    references: list = field(default_factory=list)
    n_sets: int = 1
    extra: dict = field(default_factory=dict)
    clock: object = None         # overrides the device's clock (launch overhead: host time)


@dataclass
class Case:
    suite: str
    name: str                    # the op or model, the JSON "name"
    case_id: str                 # unique; --case matches a substring of it
    shape: str
    flops: int | None
    bytes: int | None
    prepare: Callable[[object], Prepared]
    batch: int | None = None
    version: int | None = None
    images: int | None = None    # images per call, for images/s
    meta: dict = field(default_factory=dict)


def timed_first_call(env, fn):
    """(result, seconds) of one synchronised call."""
    env.clock.sync()
    t0 = time.perf_counter()
    out = fn()
    env.clock.sync()
    return out, time.perf_counter() - t0


def lazy(build):
    """A memoised thunk: reference inputs are built only if the reference is really timed
    (a version ladder shares one timing of torch among its rungs)."""
    box = []

    def get():
        if not box:
            box.append(build())
        return box[0]
    return get


def lazy_sets(hosts, convert):
    """lazy() of the host input sets with each array converted for a reference library
    (env.torch_tensor, env.cupy_array); an absent operand (None) stays None."""
    return lazy(lambda: [tuple(None if a is None else convert(a) for a in h) for h in hosts])


def sets_for(env, set_bytes: int) -> int:
    """How many input sets to cycle through so that together they outgrow the caches.

    Targets: 64 MiB on the CPU (a server's L3 slice many times over), 128 MiB on the GPU
    (2.5x an H100's 50 MB L2), capped so that tiny shapes do not allocate thousands of sets.
    """
    if env.on_gpu:
        target, cap = 128 << 20, 32
    else:
        target, cap = (32 << 20, 8) if env.quick else (64 << 20, 16)
    if env.simulator:
        target, cap = 0, 2
    return int(max(2, min(cap, -(-target // max(1, set_bytes)))))


def check_arrays(env, pairs, detail, first_call_s, tolerance):
    """Compare (name, actual, expected) triples; ok when every error is under `tolerance`."""
    worst, worst_name = 0.0, ""
    for name, actual, expected in pairs:
        actual = env.to_host(actual)
        if np.dtype(actual.dtype).kind in "iu":
            err = 0.0 if actual.shape == expected.shape and np.array_equal(actual, expected) \
                else float("inf")
        else:
            err = relative_l2_error(actual, expected)
        if err >= worst:
            worst, worst_name = err, name
    ok = worst < tolerance
    text = detail if ok else f"{detail}: {worst_name} error {worst:.3g} >= {tolerance:g}"
    return Check(ok, worst, text, first_call_s)
