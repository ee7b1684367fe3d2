"""Markdown tables from a bench JSON, for bench/README.md.

    python -m gpucnn.bench.markdown bench/results/amd-epyc-2026-11-24.json
"""
import json
import sys


def _f(value, fmt):
    return "–" if value is None else format(value, fmt)


def tables(doc: dict) -> str:
    peaks = doc["peaks"]
    lines = [f"**{doc['device']}** ({doc['device_kind']}), {doc['date']}, "
             f"`{doc['settings'].get('command', doc['settings'])}`; peaks {peaks['fp32_gflops']:.0f} GFLOP/s, "
             f"{peaks['bandwidth_gbs']:.1f} GB/s ({peaks['source']}); threads {doc['threads']}; "
             f"load average {doc.get('load_average_start')} at the start, "
             f"{doc.get('load_average')} at the end; {doc['wall_s']:.0f} s.", ""]
    suites = []
    for r in doc["results"]:
        if r["suite"] not in suites:
            suites.append(r["suite"])
    for suite in suites:
        lines += [f"*{suite}*", "",
                  "| case | gpucnn ms (IQR) | reference ms | ratio | ratio of minima | GFLOP/s | GB/s | % roof |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in doc["results"]:
            if r["suite"] != suite:
                continue
            if r["status"] != "ok":
                lines.append(f"| {r['case']} | **{r['status']}**: {r.get('check_detail')} |"
                             " | | | | | |")
                continue
            iqr = r.get("gpucnn_iqr_ms") or [None, None]
            extra = f" ({r['images_per_s']:,.0f} img/s)" if r.get("images_per_s") else ""
            lines.append(
                f"| {r['case']} | {_f(r['gpucnn_ms'], '.3g')} ({_f(iqr[0], '.3g')}–"
                f"{_f(iqr[1], '.3g')}){extra} | {_f(r.get('reference_ms'), '.3g')} | "
                f"{_f(r.get('ratio'), '.2f')} | {_f(r.get('ratio_min'), '.2f')} | "
                f"{_f(r.get('gflops') or None, '.1f')} | {_f(r.get('gbs'), '.1f')} | "
                f"{_f(100 * r['peak_fraction'] if r.get('peak_fraction') else None, '.1f')} |")
        lines.append("")
    if doc.get("targets"):
        lines += ["| target | goal | met | median | worst (case) |", "|---|---|---|---|---|"]
        for t in doc["targets"]:
            lines.append(f"| {t['target']} | {t['goal']} | {t['met']}/{t['cases']} | "
                         f"{t['median']:.3g} | {t['worst']:.3g} ({t['worst_case']}) |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path) as f:
            print(tables(json.load(f)))
