"""The `distributed` suite: data-parallel training across processes, against torch.distributed.

Jobs of 1 and 2 ranks on the CPU (on a GPU machine: 1 rank, and one per GPU where there are
several), each started with mpiexec running gpucnn/bench/distributed_worker.py, which times
gpucnn and torch side by side in every rank:

  allreduce   25 MB and 1 MB of float32 summed over the ranks; bus bandwidth = 2 (n - 1) / n
              x bytes / time (NCCL's convention: what each link carries; a job of one rank
              moves nothing, and reports the call's overhead alone)
  train step  LeNet-5 under DistributedDataParallel, 64 images per rank; images/s of the job,
              and its scaling efficiency = images/s at n ranks / (n x images/s at 1 rank)

The machine's cores are shared among the ranks (one each on a 2-core machine), so 1 rank
and n ranks both use every core: the efficiency says what data parallelism adds or costs
over threads on one machine, not what n machines would give.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import cuda

JOB_SECONDS = 300


def mpiexec() -> str | None:
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def rank_counts(device: str) -> tuple[int, ...]:
    if device == "cuda":
        count = cuda.device_count()
        return (1,) if count < 2 else (1, count)
    return (1, 2)


def measure(device: str, quick: bool, log=print) -> dict:
    """The suite's results, or {"not_run": why} without MPI."""
    launcher = mpiexec()
    if launcher is None:
        return {"not_run": "mpiexec not found: pip install 'gpucnn[distributed]'"}
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for ranks in rank_counts(device):
            log(f"  distributed: {ranks} rank(s) on {device}")
            out = Path(folder) / f"ranks{ranks}.json"
            done = subprocess.run([launcher, "-n", str(ranks), sys.executable, "-m",
                                   "gpucnn.bench.distributed_worker", device,
                                   "quick" if quick else "full", str(out)],
                                  capture_output=True, text=True, timeout=JOB_SECONDS)
            if done.returncode != 0 or not out.exists():
                tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
                runs.append({"ranks": ranks, "failed": " | ".join(tail)})
                continue
            runs.append(_derived(json.loads(out.read_text())))
    _efficiency(runs)
    return {"device": device, "runs": runs}


def _derived(run: dict) -> dict:
    n = run["ranks"]
    for row in run["allreduce"]:
        nbytes = row["megabytes"] * 2 ** 20
        for side in ("gpucnn", "torch"):
            seconds = row.get(f"{side}_s")
            if seconds:
                row[f"{side}_bus_gbs"] = 2 * (n - 1) / n * nbytes / seconds / 1e9
        if row.get("torch_s"):
            row["ratio"] = row["gpucnn_s"] / row["torch_s"]
    step = run["train_step"]
    images = step["per_rank_batch"] * n
    for side in ("gpucnn", "torch"):
        if step.get(f"{side}_s"):
            step[f"{side}_images_per_s"] = images / step[f"{side}_s"]
    if step.get("torch_s"):
        step["ratio"] = step["gpucnn_s"] / step["torch_s"]
    return run


def _efficiency(runs):
    ok = [r for r in runs if "failed" not in r]
    one = next((r for r in ok if r["ranks"] == 1), None)
    if one is None:
        return
    for run in ok:
        for side in ("gpucnn", "torch"):
            key = f"{side}_images_per_s"
            if key in run["train_step"] and key in one["train_step"]:
                run["train_step"][f"{side}_scaling_efficiency"] = (
                    run["train_step"][key] / (run["ranks"] * one["train_step"][key]))


def table(result: dict):
    """A rich table of the suite's results (or a line saying why it did not run)."""
    from rich.table import Table
    from rich.text import Text
    if "not_run" in result:
        return Text(f"suite: distributed not run: {result['not_run']}")
    t = Table(title="suite: distributed (mpiexec; torch.distributed side by side)",
              title_justify="left")
    for column in ("ranks", "case", "gpucnn", "torch", "ratio", "efficiency"):
        t.add_column(column, justify="left" if column == "case" else "right")
    for run in result["runs"]:
        if "failed" in run:
            t.add_row(str(run["ranks"]), "[red]job failed[/red]", run["failed"][:80], "", "", "")
            continue
        backends = f"{run['backend']} / {run['torch_backend'] or '-'}"
        for row in run["allreduce"]:
            t.add_row(str(run["ranks"]), f"allreduce {row['megabytes']} MB ({backends})",
                      _rate(row, "gpucnn", "bus_gbs", "GB/s", row["gpucnn_s"]),
                      _rate(row, "torch", "bus_gbs", "GB/s", row.get("torch_s")),
                      _ratio(row.get("ratio")), "")
        step = run["train_step"]
        t.add_row(str(run["ranks"]), f"lenet5 DDP step, {step['per_rank_batch']}/rank",
                  f"{step['gpucnn_images_per_s']:,.0f} img/s",
                  f"{step['torch_images_per_s']:,.0f} img/s" if "torch_images_per_s" in step
                  else "-", _ratio(step.get("ratio")),
                  _percent(step.get("gpucnn_scaling_efficiency")))
    return t


def _rate(row, side, key, unit, seconds):
    if seconds is None:
        return "-"
    value = row.get(f"{side}_{key}")
    return f"{seconds * 1e3:.2f} ms" + (f", {value:.2f} {unit}" if value else "")


def _ratio(value):
    return "-" if value is None else f"{value:.2f}"


def _percent(value):
    return "-" if value is None else f"{100 * value:.0f}%"
