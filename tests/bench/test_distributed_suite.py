"""`gpucnn bench --suite distributed`: jobs of 1 and 2 ranks, allreduce bandwidth and a DDP
training step against torch.distributed, in the JSON and the table."""
import json
import math

from click.testing import CliRunner

from gpucnn.bench import distributed
from gpucnn.cli import main


def test_distributed_suite_measures_one_and_two_ranks(tmp_path):
    path = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["bench", "--device", "cpu", "--suite", "distributed",
                                       "--quick", "--no-peak-measure", "--json", str(path)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(path.read_text())
    runs = doc["distributed"]["runs"]
    assert [r["ranks"] for r in runs] == [1, 2] and not any("failed" in r for r in runs)
    two = runs[1]
    assert two["backend"] == "mpi" and two["torch_backend"] == "gloo"
    for row in two["allreduce"]:
        assert row["gpucnn_s"] > 0 and row["gpucnn_bus_gbs"] > 0 and row["ratio"] > 0
    step = two["train_step"]
    assert step["gpucnn_images_per_s"] > 0 and step["torch_images_per_s"] > 0
    # A ratio of two timings: positive and finite is what the suite guarantees; its size is
    # the machine's (a loaded machine that slows the 1-rank job more makes it exceed 2). Its
    # formula is checked exactly below.
    assert 0 < step["gpucnn_scaling_efficiency"] < math.inf
    assert "lenet5 DDP step" in result.output and "allreduce 25 MB" in result.output


def test_bus_bandwidth_and_efficiency_follow_their_definitions():
    run = {"ranks": 4, "allreduce": [{"megabytes": 25, "gpucnn_s": 0.01, "torch_s": 0.02}],
           "train_step": {"per_rank_batch": 64, "gpucnn_s": 0.1, "torch_s": 0.05}}
    one = {"ranks": 1, "allreduce": [],
           "train_step": {"per_rank_batch": 64, "gpucnn_s": 0.08, "torch_s": 0.05}}
    runs = [distributed._derived(one), distributed._derived(run)]
    distributed._efficiency(runs)
    row = run["allreduce"][0]
    assert abs(row["gpucnn_bus_gbs"] - 2 * 3 / 4 * 25 * 2 ** 20 / 0.01 / 1e9) < 1e-9
    assert row["ratio"] == 0.5
    step = run["train_step"]
    assert step["gpucnn_images_per_s"] == 256 / 0.1
    assert abs(step["gpucnn_scaling_efficiency"] - (2560 / (4 * 800))) < 1e-12
    assert abs(step["torch_scaling_efficiency"] - 1.0) < 1e-12
