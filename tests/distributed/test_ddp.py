"""DistributedDataParallel on 2 and 3 ranks against one process on the same global batches:
the same weights after several SGD-momentum and Adam steps, although every rank starts from
its own random initialisation; identical weights on every rank."""
import numpy as np
import pytest

import gpucnn as gc
from gpucnn.nn.parallel.reducer import FIRST_BUCKET_BYTES, build_buckets

from . import ddp_worker
from .conftest import mpiexec, output, python_module


def _run(tmp_path, scenario, ranks):
    ddp_worker.run(scenario, tmp_path, single=True)
    done, _ = mpiexec(ranks, *python_module("tests.distributed.ddp_worker", scenario, tmp_path))
    assert done.returncode == 0, output(done)
    single = dict(np.load(tmp_path / "single.npz"))
    per_rank = [dict(np.load(tmp_path / f"rank{r}.npz")) for r in range(ranks)]
    return single, per_rank, done.stdout


@pytest.mark.parametrize("scenario, ranks", [
    ("sgd-none", 2), ("adam-none", 2), ("sgd-syncbn", 2), ("adam-syncbn", 2),
    ("adam-syncbn", 3),          # shards of 4, 3 and 3 images
    ("sgd-none-accumulate", 2),  # no_sync() for the first half of each shard
    ("adam-none-buckets", 2),    # many buckets
])
def test_data_parallel_steps_equal_one_process_on_the_global_batch(tmp_path, scenario, ranks):
    single, per_rank, _ = _run(tmp_path, scenario, ranks)
    for key, expected in single.items():
        for r, weights in enumerate(per_rank):
            np.testing.assert_array_equal(weights[key], per_rank[0][key],
                                          err_msg=f"rank {r} differs from rank 0 at {key}")
        np.testing.assert_allclose(per_rank[0][key], expected, rtol=1e-5, atol=2e-6,
                                   err_msg=key)
    # The steps moved the weights: the comparison above compares trained models.
    gc.manual_seed(0)
    initial = ddp_worker.make_model("bn" in scenario).state_dict()
    assert not np.allclose(initial["0.weight"].numpy(), single["0.weight"], atol=1e-3)


def test_plain_batchnorm_keeps_statistics_per_rank(tmp_path):
    single, per_rank, _ = _run(tmp_path, "adam-bn", 2)
    for key in single:
        if "running" not in key and "num_batches" not in key:
            np.testing.assert_array_equal(per_rank[0][key], per_rank[1][key], err_msg=key)
    # Each rank's last batch statistics went into its own running estimate.
    assert not np.array_equal(per_rank[0]["1.running_mean"], per_rank[1]["1.running_mean"])


def test_small_buckets_are_used(tmp_path):
    _, _, stdout = _run(tmp_path, "adam-none-buckets", 2)
    assert "buckets: 4" in stdout, stdout   # one per parameter at a cap of 100 bytes


def test_a_rank_with_another_model_is_refused_naming_the_key(tmp_path):
    done, seconds = mpiexec(2, *python_module("tests.distributed.ddp_worker", "sgd-none-mismatch",
                                              tmp_path))
    assert done.returncode != 0
    assert "rank 1's model differs from rank 0's at parameter '4.weight'" in output(done)
    assert "[6, 36]" in output(done) and "[5, 36]" in output(done)
    assert seconds < 60


def test_buckets_take_parameters_in_reverse_with_a_small_first_bucket():
    params = [gc.nn.Parameter(gc.zeros(n)) for n in (300_000, 300_000, 100, 100_000, 500_000)]
    buckets = build_buckets(params, bucket_cap_mb=2)
    assert [p for b in buckets for p in b.params] == params[::-1]
    # The first bucket closes at 1 MiB (here at once: its one parameter is larger), the
    # others at the cap: 0.4 + 0.0004 + 1.2 MB fit in 2 MiB, a further 1.2 MB does not.
    assert [len(b.params) for b in buckets] == [1, 3, 1]
    assert sum(p.numel() for p in buckets[0].params) * 4 > FIRST_BUCKET_BYTES
    even = [gc.nn.Parameter(gc.zeros(200_000)) for _ in range(3)]   # 0.8 MB each
    assert [len(b.params) for b in build_buckets(even, bucket_cap_mb=25)] == [1, 2]
    assert all(b.flat.shape == (sum(p.numel() for p in b.params),) for b in buckets)
