"""The bench's outputs: the JSON document and the terminal tables."""
import os

from .. import jsonfile
from .distributed import table as distributed_table
from .targets import evaluate

SCHEMA_KEYS = ("device", "date", "versions", "peaks", "results")
RESULT_KEYS = ("suite", "name", "shape", "checked", "gpucnn_ms", "jit_s", "reference",
               "reference_ms", "ratio", "gflops", "gbs", "peak_fraction")


def document(env, peaks, results, settings: dict, wall_s: float, extra: dict | None = None) -> dict:
    doc = {
        "device": env.name,
        "date": env.today(),
        "versions": env.versions(),
        "peaks": peaks,
        "results": results,
        "device_kind": env.device,
        "threads": env.threads(),
        "clock": env.clock.name,
        "seed": env.seed,
        "settings": settings,
        "wall_s": wall_s,
        "summary": summary(results),
        "targets": evaluate(results, env.device),
        "notes": list(env.notes),
        "torch_fp32_precision": env.torch_fp32,
        "load_average": load_average(),
    }
    if extra:
        doc.update(extra)
    return doc


def load_average():
    """The 1-, 5- and 15-minute load averages at the end of the run: other work on the
    machine shows up here, and in noisy timings."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def summary(results) -> dict:
    counts = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"cases": len(results), **counts}


def write_json(doc: dict, path: str):
    """Atomically, so a run cut short never leaves half a file (the JSON is rewritten after
    every case)."""
    jsonfile.write_json(path, doc, indent=1)


# ------------------------------------------------------------------------------ terminal

def _num(value, fmt):
    return "-" if value is None else format(value, fmt)


def _ms(value):
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _extra_rate(r):
    if r.get("images_per_s") is not None:
        ref = r.get("reference_images_per_s")
        return f"{r['images_per_s']:,.0f} img/s" + (f" (ref {ref:,.0f})" if ref else "")
    if r.get("us_per_launch") is not None:
        return f"{r['us_per_launch']:.1f} µs/launch"
    return ""


def tables(doc: dict):
    """rich renderables: a header, one table per suite, the failures, the comparison line."""
    from rich.table import Table
    from rich.text import Text
    peaks = doc["peaks"]
    header = Text()
    header.append(f"{doc['device']}  ({doc['device_kind']}, {doc['date']})\n", style="bold")
    header.append("peaks: "
                  + (f"{peaks['fp32_gflops']:.0f} GFLOP/s FP32, {peaks['bandwidth_gbs']:.1f} GB/s"
                     if peaks.get("fp32_gflops") else "unknown")
                  + f" ({peaks['source']})   clock: {doc['clock']}   threads: "
                  + ", ".join(f"{k} {v}" for k, v in doc["threads"].items())
                  + (f"   load average: {doc['load_average'][0]}" if doc.get("load_average") else ""))
    out = [header]
    suites = []
    for r in doc["results"]:
        if r["suite"] not in suites:
            suites.append(r["suite"])
    for suite in suites:
        table = Table(title=f"suite: {suite}", title_justify="left", show_lines=False)
        table.add_column("case")
        table.add_column("check")
        table.add_column("gpucnn ms", justify="right")
        table.add_column("IQR ms", justify="right")
        table.add_column("jit s", justify="right")
        table.add_column("ref ms", justify="right")
        table.add_column("ratio", justify="right")
        table.add_column("GFLOP/s", justify="right")
        table.add_column("GB/s", justify="right")
        table.add_column("% roof", justify="right")
        if any(_extra_rate(r) for r in doc["results"] if r["suite"] == suite):
            table.add_column("throughput", justify="right")
        for r in doc["results"]:
            if r["suite"] != suite:
                continue
            if r["status"] == "ok":
                check = "ok"
            elif r["status"] == "failed":
                check = "[red]FAILED[/red]"
            else:
                check = f"[red]{r['status']}[/red]"
            iqr = r.get("gpucnn_iqr_ms")
            ratio = r.get("ratio")
            ratio_text = _num(ratio, ".2f")
            if ratio is not None:
                ratio_text = f"[green]{ratio_text}[/green]" if ratio <= 1 else ratio_text
            frac = r.get("peak_fraction")
            row = [r["case"], check, _ms(r.get("gpucnn_ms")),
                   f"{_ms(iqr[0])}–{_ms(iqr[1])}" if iqr else "-",
                   _num(r.get("jit_s"), ".2f"), _ms(r.get("reference_ms")), ratio_text,
                   _num(r.get("gflops") or None, ".1f"), _num(r.get("gbs"), ".1f"),
                   ("cache" if r.get("roof_note") else "-") if frac is None
                   else f"{100 * frac:.1f}"]
            if len(table.columns) > len(row):
                row.append(_extra_rate(r))
            table.add_row(*row)
        out.append(table)
    failed = [r for r in doc["results"] if r["status"] != "ok"]
    if failed:
        lines = Text("Not timed:\n", style="bold red")
        for r in failed:
            lines.append(f"  {r['case']}: {r.get('check_detail') or r.get('error')}\n")
        out.append(lines)
    if doc.get("targets"):
        targets = Table(title="targets (shown, not asserted; default kernel versions)",
                        title_justify="left")
        for column in ("target", "goal", "met", "median", "worst", "worst case"):
            targets.add_column(column, justify="right" if column in ("median", "worst") else "left")
        for t in doc["targets"]:
            met = f"{t['met']}/{t['cases']}"
            targets.add_row(t["target"], t["goal"],
                            f"[green]{met}[/green]" if t["all_met"] else f"[red]{met}[/red]",
                            f"{t['median']:.3g}", f"{t['worst']:.3g}", t["worst_case"])
        out.append(targets)
    if doc.get("distributed"):
        out.append(distributed_table(doc["distributed"]))
    if doc.get("parameter_comparison_text"):
        out.append(Text(doc["parameter_comparison_text"]))
    out.append(Text("ratio = gpucnn time / reference time (below 1: gpucnn faster); % roof = "
                    "achieved / min(peak FLOP/s, intensity x peak bandwidth), 'cache' where the "
                    "inputs fit in the last-level cache (the bandwidth roof does not apply)",
                    style="dim"))
    return out


def print_tables(doc: dict, console=None):
    from rich.console import Console
    if console is None:
        console = Console()
        if not console.is_terminal:  # a pipe or a file: wide enough that rows do not wrap
            console = Console(width=170)
    for item in tables(doc):
        console.print(item)
