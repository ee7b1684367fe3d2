"""One rank of the distributed bench (started by gpucnn/bench/distributed.py under mpiexec):
python -m gpucnn.bench.distributed_worker DEVICE QUICK OUT_JSON.

Measures, on this job's ranks, side by side in one process per rank:
  allreduce  the sum of one float32 array over the ranks (25 MB, DDP's bucket size, and 1 MB),
             gpucnn.distributed.all_reduce (MPI, or NCCL on "cuda") and torch.distributed's
             (gloo on the CPU, NCCL on the GPU); the time of a call is the slowest rank's
  lenet5     a DistributedDataParallel training step of LeNet-5, 64 images per rank (weak
             scaling: the global batch grows with the ranks), gpucnn and torch with the same
             weights; images/s of the whole job
Rank 0 writes the medians to OUT_JSON.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time

import numba
import numpy as np

import gpucnn as gc
import gpucnn.distributed as dist
import gpucnn.nn.functional as F
from gpucnn.bench.torch_mirror import mirror
from gpucnn.models import get_model

ALLREDUCE_MB = (1, 25)
PER_RANK_BATCH = 64


def _clock(device):
    return gc.cuda.synchronize if device == "cuda" else (lambda: None)


def _median_seconds(step, repeats, sync, warmup=2):
    """The median over repeats of the slowest rank's time of step()."""
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeats):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    every = [None] * dist.get_world_size()
    dist.all_gather_object(every, times)
    return float(np.median(np.max(np.array(every), axis=0)))


def _torch_group(device, threads):
    """torch.distributed over the same ranks (rendezvous at rank 0's host, a port rank 0 picks
    and sends over MPI), or None without torch."""
    try:
        import torch
        import torch.distributed as tdist
    except ImportError:
        return None
    torch.set_num_threads(threads)
    port = None
    if dist.get_rank() == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    shared = [port, socket.gethostname()]
    dist.broadcast_object_list(shared, src=0)
    os.environ.update(MASTER_ADDR="127.0.0.1" if shared[1] == socket.gethostname() else shared[1],
                      MASTER_PORT=str(shared[0]))
    tdist.init_process_group("nccl" if device == "cuda" else "gloo", rank=dist.get_rank(),
                             world_size=dist.get_world_size())
    if device == "cuda":
        torch.cuda.set_device(gc.cuda.current_device())
    return torch


def _allreduce(device, torch, repeats, sync):
    rows = []
    for mb in ALLREDUCE_MB:
        n = mb * 2 ** 20 // 4
        ours = gc.randn(n, device=device)
        row = {"megabytes": mb,
               "gpucnn_s": _median_seconds(lambda: dist.all_reduce(ours), repeats, sync)}
        if torch is not None:
            theirs = torch.randn(n, device=device)
            torch_sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
            row["torch_s"] = _median_seconds(lambda: torch.distributed.all_reduce(theirs),
                                             repeats, torch_sync)
        rows.append(row)
    return rows


def _train_step(device, torch, repeats, sync):
    rng = np.random.default_rng(dist.get_rank())
    x = rng.standard_normal((PER_RANK_BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, PER_RANK_BATCH)
    gc.manual_seed(0)
    model = get_model("lenet5", 1, 10).to(device)
    ddp = gc.nn.parallel.DistributedDataParallel(model)
    opt = gc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gx, gy = gc.tensor(x, device=device), gc.tensor(y, device=device)

    def step():
        opt.zero_grad()
        F.cross_entropy(ddp(gx), gy).backward()
        opt.step()

    row = {"model": "lenet5", "per_rank_batch": PER_RANK_BATCH,
           "gpucnn_s": _median_seconds(step, repeats, sync, warmup=3)}
    if torch is not None:
        twin = torch.nn.parallel.DistributedDataParallel(mirror(torch, model, device))
        topt = torch.optim.SGD(twin.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        torch_sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

        def torch_step():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(twin(tx), ty).backward()
            topt.step()
        row["torch_s"] = _median_seconds(torch_step, repeats, torch_sync, warmup=3)
    return row


def _share_cores():
    """The machine's cores split among its ranks (a rank per core on the CI's two), for
    gpucnn's kernels and for torch alike: more threads than cores make both crawl."""
    local = [None] * dist.get_world_size()
    dist.all_gather_object(local, socket.gethostname())
    threads = max(1, (os.cpu_count() or 1) // local.count(socket.gethostname()))
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return threads


def main(device: str, quick: bool, out: str):
    dist.init_process_group("nccl" if device == "cuda" else "mpi")
    threads = _share_cores()
    sync = _clock(device)
    torch = _torch_group(device, threads)
    repeats = 7 if quick else 20
    result = {"ranks": dist.get_world_size(), "backend": dist.get_backend(),
              "threads_per_rank": threads,
              "torch_backend": None if torch is None else torch.distributed.get_backend(),
              "allreduce": _allreduce(device, torch, repeats, sync),
              "train_step": _train_step(device, torch, repeats, sync)}
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump(result, f)
    if torch is not None:
        torch.distributed.destroy_process_group()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "quick", sys.argv[3])
