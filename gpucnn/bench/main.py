"""One bench run, start to end: device, peaks, cases, results, JSON, plot."""
import secrets
import time

from . import distributed, report
from .cases import SUITES, cases_for
from .cases.scaling import parameter_comparison, parameter_comparison_text
from .env import BenchEnv, BenchError, default_json_path, resolve_device
from .peaks import peaks as device_peaks
from .plot import plot, require_matplotlib
from .runner import Settings, run_all

DEFAULT_REPEAT = 20
QUICK_REPEAT = 7


def run(device="auto", suite="all", quick=False, repeat=None, case=None, json_path=None,
        plot_path=None, seed=None, console=None, log=print, measure_peaks=True) -> dict:
    """Run the bench; returns the JSON document (also written to json_path when given).

    json_path "" means the default name, bench/results/<device-slug>-<YYYY-MM-DD>.json.
    """
    started = time.perf_counter()
    load_at_start = report.load_average()
    if plot_path:
        require_matplotlib()  # fail before the run, not after it
    suites = SUITES if suite == "all" else (suite,)
    repeat = repeat or (QUICK_REPEAT if quick else DEFAULT_REPEAT)
    if repeat < 1:
        raise BenchError(f"--repeat must be at least 1, got {repeat}")
    seed = secrets.randbits(32) if seed is None else seed
    env = BenchEnv.create(resolve_device(device), seed, quick)
    selected = cases_for(env, suites, case)
    if not selected and not (suites == ("distributed",) and case is None):
        raise BenchError(f"no case of suite {suite!r} on {env.device} matches --case {case!r}")
    log(f"gpucnn bench on {env.name} ({env.device}): {len(selected)} cases, "
        f"{repeat} repeats{', quick' if quick else ''}")
    t0 = time.perf_counter()
    peaks = device_peaks(env, measure_gpu=measure_peaks)
    peaks["measure_s"] = time.perf_counter() - t0

    extra = {"load_average_start": load_at_start}
    if "scaling" in suites:
        extra["parameter_comparison"] = parameter_comparison()
        extra["parameter_comparison_text"] = parameter_comparison_text()
    settings = {"suite": suite, "quick": quick, "repeat": repeat, "case": case,
                "device_requested": device,
                "command": " ".join(["gpucnn bench", f"--device {device}", f"--suite {suite}"]
                                    + (["--quick"] if quick else []) + [f"--repeat {repeat}"]
                                    + ([f"--case {case}"] if case else []))}
    path = None
    if json_path is not None:
        path = json_path or default_json_path(env.name, env.today())

    def progress(c):
        log(f"  [{time.perf_counter() - started:6.1f} s] {c.case_id}")

    def done(results_so_far):
        # Rewritten after every case, marked partial: a run cut short still leaves its results.
        if path is not None:
            partial = report.document(env, peaks, results_so_far, settings,
                                      time.perf_counter() - started, extra)
            partial["partial"] = True
            report.write_json(partial, path)

    results = run_all(selected, env, Settings(repeat, quick), peaks, progress, done)
    if "distributed" in suites and case is None:
        extra["distributed"] = distributed.measure(env.device, quick, log)
    doc = report.document(env, peaks, results, settings, time.perf_counter() - started, extra)
    report.print_tables(doc, console)
    if path is not None:
        report.write_json(doc, path)
        doc["json_path"] = path
        log(f"wrote {path}")
    if plot_path:
        plot(doc, plot_path)
        log(f"wrote {plot_path}")
    return doc
