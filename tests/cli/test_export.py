"""`gpucnn export`: a trained checkpoint as an ONNX model that onnxruntime runs with gpucnn's
results; bad input is one "Error: ..." line that leaves files alone."""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import gpucnn as gc
from gpucnn.models import get_model
from gpucnn.training.checkpoint import model_from_checkpoint

from ..helpers import assert_close
from .conftest import invoke, one_line_error, snapshot


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _expected(checkpoint, x):
    model = model_from_checkpoint(checkpoint, need_dataset=False).model.eval()
    with gc.no_grad():
        return model(gc.tensor(x)).numpy()


def test_export_a_checkpoint(tmp_path, digits_checkpoint):
    out = tmp_path / "digits.onnx"
    result = invoke("export", digits_checkpoint, out)
    assert result.exit_code == 0, result.output
    assert "input [batch, 1, 8, 8] float32 -> logits [batch, 10]" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.onnx"]   # one file
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 20
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["model"] == "digits_cnn" and json.loads(meta["classes"]) == [str(i)
                                                                             for i in range(10)]
    assert len(json.loads(meta["normalize_mean"])) == 1 and json.loads(meta["input_size"]) == [8, 8]
    rng = np.random.default_rng(5)
    for n in (1, 7):
        x = rng.standard_normal((n, 1, 8, 8), dtype=np.float32)
        assert_close(_run(out, x), _expected(digits_checkpoint, x), 1e-5)


def test_fixed_batch_and_opset(tmp_path, digits_checkpoint):
    out = tmp_path / "d.onnx"
    result = invoke("export", digits_checkpoint, out, "--batch-size", 4, "--opset", 13)
    assert result.exit_code == 0, result.output
    model = onnx.load(str(out))
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [4, 1, 8, 8] and model.opset_import[0].version == 13
    x = np.random.default_rng(6).standard_normal((4, 1, 8, 8), dtype=np.float32)
    assert_close(_run(out, x), _expected(digits_checkpoint, x), 1e-5)


def test_a_weights_only_file_with_model(tmp_path):
    gc.manual_seed(3)
    net = get_model("lenet5")
    gc.save(net.state_dict(), tmp_path / "w.st")
    result = invoke("export", tmp_path / "w.st", tmp_path / "w.onnx", "--model", "lenet5")
    assert result.exit_code == 0, result.output
    x = np.random.default_rng(7).standard_normal((3, 1, 28, 28), dtype=np.float32)
    with gc.no_grad():
        assert_close(_run(tmp_path / "w.onnx", x), net.eval()(gc.tensor(x)).numpy(), 1e-5)
    meta = {p.key for p in onnx.load(str(tmp_path / "w.onnx")).metadata_props}
    assert "classes" not in meta and "model" in meta


@pytest.fixture
def workdir(tmp_path, digits_checkpoint):
    (tmp_path / "digits.st").write_bytes(digits_checkpoint.read_bytes())
    (tmp_path / "old.onnx").write_bytes(b"the model exported before")
    (tmp_path / "garbage.st").write_bytes(b"not a safetensors file")
    (tmp_path / "adir").mkdir()
    return tmp_path


@pytest.mark.parametrize("args, match", [
    (("{d}/missing.st", "{d}/old.onnx"), "checkpoint {d}/missing.st: no such file"),
    (("{d}/garbage.st", "{d}/old.onnx"), "checkpoint {d}/garbage.st is unreadable"),
    (("{d}/digits.st", "{d}/adir"), "OUTPUT {d}/adir is a directory; give a file name"),
    (("{d}/digits.st", "{d}/old.onnx", "--opset", "9"), "--opset must lie in 11..23, got 9"),
    (("{d}/digits.st", "{d}/old.onnx", "--batch-size", "0"), "--batch-size must be >= 1, got 0"),
    (("{d}/digits.st", "{d}/old.onnx", "--model", "lenet5"), "does not fit model lenet5"),
])
def test_bad_input(workdir, args, match):
    before = snapshot(workdir)
    line = one_line_error(invoke("export", *(a.format(d=workdir) for a in args)))
    assert match.format(d=workdir) in line, line
    assert snapshot(workdir) == before


def test_weights_only_needs_model(workdir):
    gc.save(get_model("digits_cnn").state_dict(), workdir / "w.st")
    before = snapshot(workdir)
    line = one_line_error(invoke("export", workdir / "w.st", workdir / "old.onnx"))
    assert "holds weights only" in line and "--model" in line
    assert snapshot(workdir) == before


def test_without_onnx(workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)   # makes `import onnx` fail
    before = snapshot(workdir)
    line = one_line_error(invoke("export", workdir / "digits.st", workdir / "old.onnx"))
    assert "needs the onnx package" in line and "pip install 'gpucnn[onnx]'" in line
    assert snapshot(workdir) == before
