"""One rank of a data-parallel run, started by the tests with mpiexec (or alone for the
single-process reference): trains a small CNN on a fixed batch sequence and saves its final
weights. Usage: python -m tests.distributed.ddp_worker SCENARIO OUT_DIR [--single] [--cuda]

SCENARIO is OPTIMIZER-NORM[-VARIANT]: sgd|adam, none|bn|syncbn, and a variant: "accumulate"
(each rank's shard in two halves, the first under no_sync()), "buckets" (a bucket per
parameter or so, bucket_cap_mb tiny), "mismatch" (rank 1 builds a wider last layer).

Every rank starts from a different random initialisation (seed = rank): DDP must replace it
by rank 0's. The global batch of step s is the same for every world size; a rank trains on
its contiguous shard of it (shards may differ in size: the loss is weighted so that the
averaged gradient is the global batch's mean, whatever the split).
"""
import contextlib
import sys
from pathlib import Path

import numpy as np

import gpucnn as gc
import gpucnn.distributed as dist
import gpucnn.nn as nn
import gpucnn.nn.functional as F

GLOBAL_BATCH = 10   # 5 + 5 on two ranks, 4 + 3 + 3 on three
STEPS = 4


def make_model(batchnorm: bool, classes: int = 5):
    # No bias before BatchNorm (its gradient is zero but for rounding, which Adam would amplify)
    layers = [nn.Conv2d(2, 4, 3, padding=1, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, classes)]
    return nn.Sequential(*layers)


def batches(steps):
    rng = np.random.default_rng(1234)
    for _ in range(steps):
        x = rng.standard_normal((GLOBAL_BATCH, 2, 6, 6)).astype(np.float32)
        y = rng.integers(0, 5, GLOBAL_BATCH)
        yield x, y


def shard(n, rank, size):
    """Contiguous, as even as possible: the first n % size ranks get one more row."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def run(scenario: str, out: Path, single: bool, device: str = "cpu", steps: int = STEPS):
    optimizer_name, norm, *variant = scenario.split("-")
    variant = variant[0] if variant else None
    rank, size = 0, 1
    if not single:
        dist.init_process_group("mpi")
        rank, size = dist.get_rank(), dist.get_world_size()
    gc.manual_seed(rank)   # different weights on every rank; rank 0 as the single process
    model = make_model(norm != "none", 6 if variant == "mismatch" and rank == 1 else 5).to(device)
    if norm == "syncbn":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    cap = 1e-4 if variant == "buckets" else None
    trained = model if single else nn.parallel.DistributedDataParallel(model,
                                                                       bucket_cap_mb=cap)
    if not single:
        print(f"buckets: {len(trained.reducer.buckets)}", flush=True)
    if optimizer_name == "sgd":
        opt = gc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = gc.optim.Adam(model.parameters(), lr=0.01)
    for x, y in batches(steps):
        start, stop = shard(len(y), rank, size)
        opt.zero_grad()
        parts = [(start, stop)]
        if variant == "accumulate":   # two backward passes, the first not averaged
            middle = (start + stop) // 2
            parts = [(start, middle), (middle, stop)]
        for i, (a, b) in enumerate(parts):
            quiet = trained.no_sync() if i < len(parts) - 1 and not single else _nothing()
            with quiet:
                logits = trained(gc.tensor(x[a:b], device=device))
                loss = F.cross_entropy(logits, gc.tensor(y[a:b], device=device),
                                       reduction="sum")
                (loss * (size / len(y))).backward()   # averaged: the global batch's mean
        opt.step()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(out / f"{'single' if single else f'rank{rank}'}.npz", **state)
    if not single:
        dist.destroy_process_group()


@contextlib.contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    flags = sys.argv[3:]
    # --cuda: on "cuda" (the simulator's steps are slow, so it takes 2)
    run(sys.argv[1], Path(sys.argv[2]), "--single" in flags,
        "cuda" if "--cuda" in flags else "cpu", 2 if "--cuda" in flags else STEPS)
