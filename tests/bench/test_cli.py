"""`gpucnn bench` through click's CliRunner on the CPU: JSON schema, failed checks, errors."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from gpucnn.bench import main as bench_main
from gpucnn.bench.report import RESULT_KEYS, SCHEMA_KEYS
from gpucnn.cli import main as cli


def run_cli(*args):
    return CliRunner().invoke(cli, ["bench", *args], catch_exceptions=False)


def test_small_case_writes_valid_json(tmp_path):
    path = tmp_path / "out.json"
    result = run_cli("--device", "cpu", "--suite", "kernels", "--case", "lenet.fc3", "--quick",
                     "--repeat", "3", "--json", str(path))
    assert result.exit_code == 0, result.output
    doc = json.loads(path.read_text())
    for key in SCHEMA_KEYS:
        assert key in doc
    assert set(doc["versions"]) >= {"gpucnn", "numba", "numba_cuda", "torch"}
    assert doc["peaks"]["source"] == "measured"
    assert doc["peaks"]["fp32_gflops"] > 0 and doc["peaks"]["bandwidth_gbs"] > 0
    assert doc["threads"]["torch"] >= 1
    names = {r["name"] for r in doc["results"]}
    assert names == {"matmul_nt", "matmul_nn", "matmul_tn"}
    for r in doc["results"]:
        for key in RESULT_KEYS:
            assert key in r, key
        assert r["suite"] == "kernels" and "lenet.fc3" in r["case"]
        assert r["checked"] is True and r["status"] == "ok"
        assert r["check_error"] < 1e-5
        assert r["gpucnn_ms"] > 0 and r["jit_s"] > 0
        assert r["reference"].startswith("torch") and r["reference_ms"] > 0
        assert r["ratio"] == pytest.approx(r["gpucnn_ms"] / r["reference_ms"])
        assert r["gflops"] > 0 and r["gbs"] > 0
        # 8 input sets of a 64x84x10 product fit in any L2: the DRAM roof does not apply.
        assert r["peak_fraction"] is None and "cache" in r["roof_note"]
    assert "matmul_nt/lenet.fc3/b64" in result.output  # the table
    assert doc["settings"]["command"].startswith("gpucnn bench --device cpu --suite kernels")
    from gpucnn.bench.markdown import tables
    assert "| matmul_tn/lenet.fc3/b64 |" in tables(doc)


def test_json_without_a_path_uses_the_device_and_date_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("--device", "cpu", "--suite", "kernels", "--case", "matmul_nt/lenet.fc3",
                     "--quick", "--repeat", "1", "--json")
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "bench" / "results").glob("*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert files[0].name.endswith(f"-{doc['date']}.json")


def _run_quietly(**kwargs):
    return bench_main.run(device="cpu", suite="kernels", quick=True, repeat=2,
                          log=lambda line: None, **kwargs)


def test_a_wrong_kernel_fails_its_check_and_is_not_timed(monkeypatch):
    from gpucnn import kernels
    honest = kernels.CPU["matmul"]

    def off_by_a_little(*args, **kwargs):
        out = honest(*args, **kwargs)
        out[0, 0] += 1.0  # one wrong element among 640
        return out

    monkeypatch.setitem(kernels.CPU, "matmul", off_by_a_little)
    doc = _run_quietly(case="matmul_nt/lenet.fc3")
    (r,) = doc["results"]
    assert r["checked"] is False and r["status"] == "failed"
    assert r["check_error"] > 1e-4 and "error" in r["check_detail"]
    assert r["gpucnn_ms"] is None and r["reference_ms"] is None and r["ratio"] is None
    assert "gpucnn_repeats" not in r and "references" not in r


def test_a_kernel_that_leaves_outputs_unwritten_fails(monkeypatch):
    from gpucnn import kernels

    def lazy(x, kernel_size, stride, padding, ceil_mode, out=None, indices=None):
        n, c, h, w = x.shape
        shape = (n, c, h // 2, w // 2)
        return (np.empty(shape, np.float32) if out is None else out,
                np.zeros(shape, np.int32) if indices is None else indices)

    monkeypatch.setitem(kernels.CPU, "max_pool2d_forward", lazy)
    doc = _run_quietly(case="max_pool2d_forward/lenet.pool2")
    (r,) = doc["results"]
    assert r["status"] == "failed" and r["gpucnn_ms"] is None


def test_a_kernel_that_raises_is_reported_failed(monkeypatch):
    from gpucnn import kernels

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(kernels.CPU, "matmul", broken)
    doc = _run_quietly(case="matmul_tn/lenet.fc3")
    (r,) = doc["results"]
    assert r["status"] == "failed" and "kaboom" in r["check_detail"]


def test_device_cuda_without_a_gpu_is_a_clean_error():
    import gpucnn.cuda
    if gpucnn.cuda.is_available():
        pytest.skip("a GPU is present")
    result = CliRunner().invoke(cli, ["bench", "--device", "cuda", "--quick"])
    assert result.exit_code != 0
    assert "no CUDA GPU" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_case_is_a_clean_error():
    result = CliRunner().invoke(cli, ["bench", "--device", "cpu", "--case", "no-such-case"])
    assert result.exit_code != 0 and "no case" in result.output


def test_list_names_cases_without_running_them():
    result = run_cli("--device", "cpu", "--suite", "all", "--quick", "--list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("conv2d_backward_weight/convnet.conv3/b64") for line in lines)
    assert any(line.startswith("convnet_train_step/b64") for line in lines)
    assert any("image720x960" in line for line in lines)
    assert not any("launch_overhead" in line for line in lines)  # GPU only


def test_plot_without_matplotlib_is_a_clean_error(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = CliRunner().invoke(cli, ["bench", "--device", "cpu", "--plot", "x.png"])
    assert result.exit_code != 0 and "matplotlib" in result.output


def test_model_training_step_matches_torch_and_is_timed():
    doc = bench_main.run(device="cpu", suite="models", quick=True, repeat=2,
                         case="lenet5_train_step", log=lambda line: None)
    (r,) = doc["results"]
    assert r["status"] == "ok" and r["checked"], r.get("check_detail")
    assert r["check_error"] < 1e-4 and "step 2" in r["check_detail"]
    assert r["images_per_s"] > 0 and r["reference_images_per_s"] > 0
    assert r["reference"].startswith("torch") and r["ratio"] > 0
    assert r["gflops"] > 0 and r["gbs"] is None
