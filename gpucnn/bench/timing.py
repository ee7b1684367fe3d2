"""Clocks and the timing loop: warm-up, first-call time, repeats, median and spread.

A clock measures how long a block of calls takes. On the CPU that is `time.perf_counter`
around the calls (every CPU kernel returns when its work is done). On the GPU it is a pair of
CUDA events recorded on the legacy default stream around the block, read with
`elapsed_time` once the end event has completed: the device's own timeline, free of Python's
jitter, and it orders after work that torch and CuPy queue on their default (null) streams as
well. Under numba's CUDA simulator events report -1 ms; the GPU clock then falls back to
perf_counter around a synchronize, so the same code path runs in CI.

Small calls are timed in blocks of `inner` back-to-back calls (a sample is the block's time
over `inner`), sized so that one sample lasts at least `min_sample_s`: below that, a single
call is mostly clock overhead. The calls cycle through the case's input sets, so repeated
calls do not find their inputs already in cache.
"""
import math
import time
from dataclasses import dataclass

import numpy as np


class CpuClock:
    name = "perf_counter"

    def sync(self):
        pass

    def block(self, fn, start, count) -> float:
        """Seconds for fn(start), fn(start + 1), ..., fn(start + count - 1)."""
        t0 = time.perf_counter()
        for i in range(start, start + count):
            fn(i)
        return time.perf_counter() - t0


class CudaClock:
    """CUDA events through numba; perf_counter + synchronize when events do not work."""

    def __init__(self):
        from numba import cuda
        self._cuda = cuda
        self._start = cuda.event()
        self._end = cuda.event()
        self.name = "cuda events"
        # The simulator's events report -1: detect once, fall back to the host clock.
        self._start.record()
        self._end.record()
        self._end.synchronize()
        if self._start.elapsed_time(self._end) < 0:
            self.name = "perf_counter + synchronize (simulator: no CUDA events)"
            self._events = False
        else:
            self._events = True

    def sync(self):
        self._cuda.synchronize()

    def block(self, fn, start, count) -> float:
        if not self._events:
            self._cuda.synchronize()
            t0 = time.perf_counter()
            for i in range(start, start + count):
                fn(i)
            self._cuda.synchronize()
            return time.perf_counter() - t0
        self._start.record()
        for i in range(start, start + count):
            fn(i)
        self._end.record()
        self._end.synchronize()
        return self._start.elapsed_time(self._end) / 1e3


class HostClock:
    """Host wall time for a block of GPU calls, synchronised before and after.

    For launch overhead: with a tiny kernel the GPU idles between launches, and what limits
    the rate is the host's time to issue each one, which is what this measures.
    """
    name = "perf_counter + synchronize"

    def __init__(self, sync):
        self.sync = sync

    def block(self, fn, start, count) -> float:
        self.sync()
        t0 = time.perf_counter()
        for i in range(start, start + count):
            fn(i)
        self.sync()
        return time.perf_counter() - t0


@dataclass
class Stats:
    """Per-call times in seconds over the repeats."""
    median: float
    q1: float
    q3: float
    min: float
    max: float
    repeats: int
    inner: int
    warmup_calls: int

    def as_ms(self, prefix: str) -> dict:
        return {f"{prefix}_ms": self.median * 1e3,
                f"{prefix}_iqr_ms": [self.q1 * 1e3, self.q3 * 1e3],
                f"{prefix}_min_ms": self.min * 1e3,
                f"{prefix}_max_ms": self.max * 1e3,
                f"{prefix}_repeats": self.repeats,
                f"{prefix}_inner": self.inner}


@dataclass
class TimingPlan:
    repeats: int = 20           # samples taken
    warmup_s: float = 0.05      # warm-up runs at least this long ...
    warmup_calls: int = 2       # ... and at least this many calls
    min_sample_s: float = 1e-3  # a sample lasts at least this long (inner calls per sample)
    max_inner: int = 1000
    budget_s: float = 3.0       # slow calls get fewer repeats (never under min_repeats) ...
    min_repeats: int = 5        # ... so a naive kernel version does not eat the run


def measure(clock, fn, plan: TimingPlan) -> Stats:
    """Warm up, size the samples, then take `plan.repeats` samples of fn(i) with i cycling."""
    return measure_interleaved([fn], plan, clock)[0]


class _Contender:
    """One function being timed: its warm-up, sample size, repeats and samples."""

    def __init__(self, fn, clock, plan):
        self.fn, self.clock, self.calls, self.samples = fn, clock, 0, []
        elapsed = 0.0
        while self.calls < plan.warmup_calls or elapsed < plan.warmup_s:
            elapsed += clock.block(fn, self.calls, 1)
            self.calls += 1
        self.warmup_calls = self.calls
        per_call = max(elapsed / self.calls, 1e-9)
        self.inner = int(min(plan.max_inner, max(1, math.ceil(plan.min_sample_s / per_call))))
        self.repeats = max(1, plan.repeats)
        affordable = plan.budget_s / (per_call * self.inner)
        if affordable < self.repeats:
            self.repeats = max(min(plan.min_repeats, self.repeats), int(affordable))

    def sample(self):
        self.samples.append(self.clock.block(self.fn, self.calls, self.inner) / self.inner)
        self.calls += self.inner

    def stats(self) -> Stats:
        q1, median, q3 = np.percentile(self.samples, [25, 50, 75])
        return Stats(float(median), float(q1), float(q3), float(min(self.samples)),
                     float(max(self.samples)), len(self.samples), self.inner, self.warmup_calls)


def measure_interleaved(fns, plan: TimingPlan, clock, clocks=None) -> list[Stats]:
    """Time several functions doing the same work, their samples taken in turn.

    Round-robin sampling (gpucnn, torch, gpucnn, torch, ...) means a burst of load from
    elsewhere on the machine lands on all of them alike, so their ratio stays meaningful on a
    noisy, shared machine where back-to-back blocks of samples would not be comparable.
    """
    clocks = clocks or [clock] * len(fns)
    contenders = [_Contender(fn, c, plan) for fn, c in zip(fns, clocks)]
    for round_ in range(max(c.repeats for c in contenders)):
        for c in contenders:
            if round_ < c.repeats:
                c.sample()
    return [c.stats() for c in contenders]
