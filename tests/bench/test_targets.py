"""Targets are evaluated on default-version results only and name their worst case."""
from gpucnn.bench.targets import evaluate


def result(case, name, suite="kernels", **fields):
    return {"case": case, "name": name, "suite": suite, "status": "ok", **fields}


def test_cpu_training_step_targets():
    rows = evaluate([result("lenet5_train_step/b64", "lenet5_train_step", "models", ratio=1.2),
                     result("convnet_train_step/b64", "convnet_train_step", "models", ratio=1.8)],
                    "cpu")
    assert [(r["met"], r["cases"], r["all_met"]) for r in rows] == [(1, 1, True), (0, 1, False)]


def test_gpu_targets_skip_ladder_rungs_and_report_the_worst():
    results = [
        result("conv2d_forward/lenet.conv1/b64/v1", "conv2d_forward", ratio=9.0, default_version=False),
        result("conv2d_forward/lenet.conv1/b64/v2", "conv2d_forward", ratio=1.5, default_version=True),
        result("conv2d_backward_data/lenet.conv1/b64/v2", "conv2d_backward_data", ratio=2.5,
               default_version=True),
        result("max_pool2d_forward/convnet.pool1/b256", "max_pool2d_forward", peak_fraction=0.7),
        result("max_pool2d_forward/lenet.pool2/b64", "max_pool2d_forward", peak_fraction=0.1),
        result("launch_overhead/tensor_op", "launch_overhead", us_per_launch=12.0),
    ]
    rows = {r["target"]: r for r in evaluate(results, "cuda")}
    conv = rows["conv2d vs cuDNN"]
    assert (conv["met"], conv["cases"], conv["worst"]) == (1, 2, 2.5)
    assert conv["worst_case"] == "conv2d_backward_data/lenet.conv1/b64/v2"
    pool = rows["max_pool2d vs memory bandwidth"]
    assert (pool["met"], pool["worst"]) == (1, 0.1)
    assert rows["launch overhead, engine dispatch path"]["all_met"]
