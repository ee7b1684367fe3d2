"""The bench's GPU path under numba's CUDA simulator: the CUDA clock, the GPU case runner
(check against the CPU twin, then time) for every version of a tiny matmul and convolution,
pooling, the launch-overhead cases, a broken kernel, and the CLI with --device cuda.

The simulator has no CUDA events (they report -1 ms); the clock falls back to perf_counter
around a synchronize, so what runs here is the real code path with meaningless numbers.
With GPUCNN_TEST_GPU=1 on a real GPU the same tests run with CUDA events, torch and CuPy
references and the table of peaks. Models are not run here: a simulated training step takes
minutes.
"""
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from gpucnn import kernels
from gpucnn.bench.cases.common import versions
from gpucnn.kernels import conv2d, matmul
from gpucnn.bench.cases.kernels import conv_case, matmul_case, pool_case
from gpucnn.bench.cases.overhead import cases as overhead_cases
from gpucnn.bench.env import BenchEnv
from gpucnn.bench.flops import ConvShape
from gpucnn.bench.peaks import measure_gpu_bandwidth, peaks
from gpucnn.bench.runner import Settings, run_case


SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


@pytest.fixture(scope="module")
def env():
    return BenchEnv.create("cuda", seed=7, quick=True)


@pytest.fixture(scope="module")
def device_peaks(env):
    return peaks(env, measure_gpu=False)  # cheap under compute-sanitizer on a real GPU


@pytest.fixture
def run(env, device_peaks):
    return lambda case, env: run_case(case, env, Settings(repeat=2, quick=True), device_peaks,
                                      {})


def test_env_and_clock(env, device_peaks):
    assert env.device == "cuda" and env.simulator == SIMULATOR
    seconds = env.clock.block(lambda i: None, 0, 3)
    assert seconds >= 0
    assert measure_gpu_bandwidth(env, words=1 << 16) > 0
    if SIMULATOR:
        assert env.name == "CUDA simulator"
        assert "simulator" in env.clock.name
        assert device_peaks["source"] == "unknown"
    else:
        assert env.clock.name == "cuda events"
        assert device_peaks["source"] in ("table", "measured")
        assert device_peaks["fp32_gflops"] > 0 and device_peaks["bandwidth_gbs"] > 0


@pytest.mark.parametrize("trans", ["matmul_nt", "matmul_nn", "matmul_tn"])
def test_matmul_every_version(env, run, trans):
    ladder, default = versions(matmul)
    assert len(ladder) >= 2 and default in ladder
    for version in ladder:
        r = run(matmul_case(trans, "tiny", 5, 7, 9, trans == "matmul_nt", 5, version, default),
                env)
        assert r["status"] == "ok", r.get("check_detail")
        assert r["checked"] and r["check_error"] < 1e-5 and r["check_detail"] == "vs the CPU twin"
        assert r["version"] == version and r["default_version"] == (version == default)
        assert r["gpucnn_ms"] > 0 and r["jit_s"] > 0 and r["gflops"] > 0


@pytest.mark.parametrize("op", ["conv2d_forward", "conv2d_backward_data",
                                "conv2d_backward_weight"])
def test_conv_every_version(env, run, op):
    ladder, default = versions(conv2d)
    assert len(ladder) >= 2
    cs = ConvShape(2, 3, 6, 5, 4, 3, 3, 1, 1)  # odd width: partial tiles, padding
    for version in ladder:
        r = run(conv_case(op, "tiny", cs, version, default), env)
        assert r["status"] == "ok", r.get("check_detail")
        assert r["checked"] and r["gpucnn_ms"] > 0


@pytest.mark.parametrize("op", ["max_pool2d_forward", "max_pool2d_backward"])
def test_pool(env, run, op):
    r = run(pool_case(op, "tiny", (2, 3, 6, 4), 2, 2), env)
    assert r["status"] == "ok", r.get("check_detail")
    assert r["gbs"] > 0 and r["flops"] == 0


def test_launch_overhead(env, run):
    results = [run(c, env) for c in overhead_cases(env)]
    assert [r["depth"] for r in results] == ["kernel", "launcher", "tensor_op"]
    for r in results:
        assert r["status"] == "ok", r.get("check_detail")
        assert r["us_per_launch"] > 0


def test_a_wrong_gpu_kernel_fails_its_check(env, run, monkeypatch):
    honest = kernels.CUDA["matmul"]

    def wrong(*args, **kwargs):
        out = honest(*args, **kwargs)
        host = out.copy_to_host()
        host[-1, -1] *= 2.0
        out.copy_to_device(host)
        return out

    monkeypatch.setitem(kernels.CUDA, "matmul", wrong)
    r = run(matmul_case("matmul_nn", "tiny", 5, 7, 9, False, 5, None, None), env)
    assert r["status"] == "failed" and not r["checked"] and r["gpucnn_ms"] is None


def test_cli_on_the_simulated_gpu(tmp_path):
    from gpucnn.cli import main as cli
    path = tmp_path / "gpu.json"
    result = CliRunner().invoke(cli, ["bench", "--device", "cuda", "--suite", "kernels",
                                      "--case", "matmul_nt/lenet.fc3/b64/v3",
                                      "--repeat", "1", "--no-peak-measure", "--json", str(path)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(path.read_text())
    assert doc["device_kind"] == "cuda"
    assert (doc["device"] == "CUDA simulator") == SIMULATOR
    (r,) = doc["results"]
    assert r["checked"] and r["version"] == 3 and np.isfinite(r["gpucnn_ms"])
    if not SIMULATOR and doc["versions"]["torch"]:
        assert r["reference"].startswith("torch") and r["ratio"] > 0


def test_quick_gpu_run_times_each_ladder_at_one_shape():
    from gpucnn.bench.cases import SUITES, cases_for
    quick = BenchEnv.create("cuda", seed=0, quick=True, use_torch=False, use_cupy=False)
    ids = [c.case_id for c in cases_for(quick, SUITES)]
    lower_rungs = sorted(i for i in ids if i.endswith("/v1"))
    assert lower_rungs == sorted(
        [f"{op}/convnet.conv2/b256/v1" for op in ("conv2d_forward", "conv2d_backward_data",
                                                  "conv2d_backward_weight")]
        + [f"{form}/square1024/v1" for form in ("matmul_nt", "matmul_nn", "matmul_tn")])
    assert "launch_overhead/tensor_op" in ids and "convnet_train_step/b256" in ids
    assert all("/b64/" not in i for i in ids if not i.startswith("scaling/"))
