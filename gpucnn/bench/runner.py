"""Run cases: check first, then time gpucnn and each reference, then derive the rates.

A case that fails its check (or raises while being set up or checked) is reported with
checked=False and is not timed: a fast wrong answer is not a result.
"""
import gc
import traceback
from dataclasses import dataclass

from . import flops as counts
from .timing import TimingPlan, measure, measure_interleaved


@dataclass
class Settings:
    repeat: int
    quick: bool

    def plan(self, env) -> TimingPlan:
        if env.simulator:  # one simulated launch takes seconds: the path, not the numbers
            return TimingPlan(repeats=min(self.repeat, 2), warmup_s=0.0, warmup_calls=1,
                              min_sample_s=0.0, max_inner=1, budget_s=float("inf"))
        if self.quick:
            return TimingPlan(repeats=self.repeat, warmup_s=0.03, warmup_calls=2,
                              min_sample_s=1e-3, max_inner=200, budget_s=1.0)
        return TimingPlan(repeats=self.repeat, warmup_s=0.1, warmup_calls=3,
                          min_sample_s=2e-3, max_inner=1000, budget_s=3.0)


def _base(case, env) -> dict:
    result = {"suite": case.suite, "name": case.name, "case": case.case_id, "shape": case.shape,
              "device": env.device, "checked": False, "status": "not run",
              "gpucnn_ms": None, "jit_s": None, "reference": None, "reference_ms": None,
              "ratio": None, "flops": case.flops, "bytes": case.bytes, "gflops": None,
              "gbs": None, "peak_fraction": None}
    if case.batch is not None:
        result["batch"] = case.batch
    if case.version is not None:
        result["version"] = case.version
    result.update(case.meta)
    return result


def run_case(case, env, settings: Settings, peaks, reference_cache: dict) -> dict:
    result = _base(case, env)
    try:
        prepared = case.prepare(env)
        check = prepared.check()
    except Exception as error:  # a kernel that raises fails its check like a wrong one
        result.update(status="failed", check_error=None,
                      check_detail=f"{type(error).__name__}: {error}",
                      traceback=traceback.format_exc(limit=4))
        return result
    result.update(checked=bool(check.ok), check_error=check.error, check_detail=check.detail,
                  jit_s=check.first_call_s, n_input_sets=prepared.n_sets)
    result.update(prepared.extra)
    if not check.ok:
        result["status"] = "failed"
        return result

    plan = settings.plan(env)
    clock = prepared.clock or env.clock
    # References not timed yet this run get their first call apart (lazy inputs, cuDNN
    # autotuning, library handles), then are sampled in turn with gpucnn.
    measured, pending = {}, []
    for ref in prepared.references:
        if ref.key is not None and ref.key in reference_cache:
            continue
        try:
            ref.run(0)
            clock.sync()
            pending.append(ref)
        except Exception as error:
            measured[id(ref)] = {"name": ref.label, "error": f"{type(error).__name__}: {error}"}
    try:
        stats = _measure_together(clock, prepared.run, pending, plan, measured)
    except Exception as error:
        result.update(status="error", error=f"timing: {type(error).__name__}: {error}")
        return result
    result.update(stats.as_ms("gpucnn"))
    result["status"] = "ok"
    seconds = stats.median
    gflops, gbs = counts.rates(case.flops, case.bytes, seconds)
    result.update(gflops=gflops, gbs=gbs, bound=counts.bound(case.flops, case.bytes, peaks))
    cached = counts.cache_resident(case.bytes, prepared.n_sets, peaks)
    if cached:
        # The roof is DRAM bandwidth; data served from the cache can beat it, and a fraction
        # of it would be above 100% and mean nothing.
        result["roof_note"] = cached
    else:
        result["peak_fraction"] = counts.peak_fraction(gflops, gbs, case.flops, case.bytes, peaks)
    if case.images:
        result["images_per_s"] = case.images / seconds
    if case.meta.get("unit") == "launch":
        result["us_per_launch"] = seconds * 1e6

    references = []
    for ref in prepared.references:
        if id(ref) in measured:
            cached = measured[id(ref)]
            if ref.key is not None:
                reference_cache[ref.key] = cached
        else:
            cached = reference_cache[ref.key]
        entry = dict(cached)
        if entry.get("reference_ms"):
            entry["ratio"] = stats.median * 1e3 / entry["reference_ms"]
            entry["ratio_min"] = stats.min * 1e3 / entry["reference_min_ms"]
            entry["interleaved"] = id(ref) in measured
            if case.meta.get("unit") == "launch":
                entry["us_per_launch"] = entry["reference_ms"] * 1e3
        references.append(entry)
    if references:
        result["references"] = references
        headline = next((r for r in references if r.get("reference_ms")), None)
        if headline is not None:
            result.update(reference=headline["name"], reference_ms=headline["reference_ms"],
                          ratio=headline["ratio"], ratio_min=headline["ratio_min"])
            if case.images:
                result["reference_images_per_s"] = case.images / (headline["reference_ms"] / 1e3)
    del prepared
    gc.collect()
    return result


def _measure_together(clock, run, pending, plan, measured):
    """gpucnn's Stats; each pending reference's timing goes into `measured` by id."""
    try:
        stats = measure_interleaved([run] + [r.run for r in pending], plan, clock)
    except Exception:
        if not pending:
            raise
        # Something failed mid-way: time each alone, so one broken reference costs only itself.
        stats = [measure(clock, run, plan)]
        for ref in pending:
            try:
                stats.append(measure(clock, ref.run, plan))
            except Exception as error:
                stats.append(f"{type(error).__name__}: {error}")
    for ref, ref_stats in zip(pending, stats[1:]):
        measured[id(ref)] = ({"name": ref.label, "error": ref_stats} if isinstance(ref_stats, str)
                             else {"name": ref.label, **ref_stats.as_ms("reference")})
    return stats[0]


def run_all(cases, env, settings, peaks, progress=None, done=None) -> list[dict]:
    """Run every case in order; progress(case) before each, done(results so far) after."""
    cache, results = {}, []
    for case in cases:
        if progress is not None:
            progress(case)
        results.append(run_case(case, env, settings, peaks, cache))
        if done is not None:
            done(results)
    return results
