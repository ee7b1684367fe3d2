"""`gpucnn evaluate` and `gpucnn predict` on a trained digits checkpoint."""
import json
import sys

import numpy as np
import pytest

from gpucnn.data import load_dataset

from .conftest import invoke, one_line_error, snapshot


@pytest.fixture(scope="module")
def digits_test():
    return load_dataset("digits")[1]


def test_evaluate_prints_accuracy_table_json_and_png(tmp_path, digits_checkpoint):
    result = invoke("evaluate", digits_checkpoint, "--json", tmp_path / "e.json",
                    "--png", tmp_path / "cm.png")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["images"] == 359 and report["dataset"] == "digits"
    assert 0.9 < report["accuracy"] <= 1
    confusion = np.array(report["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 359
    assert np.trace(confusion) == report["correct"]
    assert [c["images"] for c in report["per_class"]] == confusion.sum(axis=1).tolist()
    assert report["per_class"][3]["accuracy"] == pytest.approx(confusion[3, 3] / confusion[3].sum())
    assert f"accuracy {report['accuracy']:.2%} ({report['correct']}/359)" in result.output
    assert "Confusion matrix" in result.output and "accuracy" in result.output
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_agrees_with_training(tmp_path):
    train = invoke("train", "--epochs", 2, "--quiet", "--save", tmp_path / "ck.st",
                   "--json", tmp_path / "t.json")
    assert train.exit_code == 0, train.output
    result = invoke("evaluate", tmp_path / "ck.st", "--json", tmp_path / "e.json")
    assert result.exit_code == 0, result.output
    trained = json.loads((tmp_path / "t.json").read_text())
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["accuracy"] == trained["test_accuracy"]
    assert evaluated["correct"] == trained["test_correct"]


def test_evaluate_png_without_matplotlib(tmp_path, digits_checkpoint, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` fail
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    result = invoke("evaluate", digits_checkpoint, "--png", tmp_path / "cm.png")
    line = one_line_error(result)
    assert "needs matplotlib" in line and "pip install" in line
    assert not (tmp_path / "cm.png").exists()


def test_predict_npy(tmp_path, digits_checkpoint, digits_test):
    np.save(tmp_path / "one.npy", digits_test.images[0])            # (1, 8, 8) float in [0, 1]
    np.save(tmp_path / "plane.npy", digits_test.images[1, 0])       # (8, 8)
    np.save(tmp_path / "stack.npy", digits_test.images[:20])        # (20, 1, 8, 8)
    np.save(tmp_path / "bytes.npy", (digits_test.images[2, 0] * 255).round().astype(np.uint8))
    result = invoke("predict", digits_checkpoint, tmp_path / "one.npy", tmp_path / "plane.npy",
                    tmp_path / "stack.npy", tmp_path / "bytes.npy", "--top-k", 3,
                    "--json", tmp_path / "p.json")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 23
    assert lines[0].startswith(f"{tmp_path / 'one.npy'}: ") and lines[0].count("%") == 3
    report = json.loads((tmp_path / "p.json").read_text())["predictions"]
    stacked = [r for r in report if "stack.npy[" in r["file"]]
    assert len(stacked) == 20
    for r in report:
        probs = [k["probability"] for k in r["top_k"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9
    predicted = np.array([r["top_k"][0]["class"] for r in stacked])
    assert (predicted == digits_test.labels[:20]).mean() >= 0.8
    # one.npy is stack.npy[0] (BLAS may round differently in another batch position)
    assert report[0]["top_k"][0]["class"] == stacked[0]["top_k"][0]["class"]
    assert report[0]["top_k"][0]["probability"] == pytest.approx(
        stacked[0]["top_k"][0]["probability"], rel=1e-5)


def test_predict_image_files(tmp_path, digits_checkpoint, digits_test):
    from PIL import Image
    pixels = (digits_test.images[:2, 0] * 255).round().astype(np.uint8)
    Image.fromarray(pixels[0]).save(tmp_path / "gray.png")
    Image.fromarray(np.stack([pixels[1]] * 3, axis=-1)).save(tmp_path / "gray_rgb.png")
    result = invoke("predict", digits_checkpoint, tmp_path / "gray.png", tmp_path / "gray_rgb.png",
                    "--top-k", 1)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all(line.count("%") == 1 for line in lines)


def _refused_predict(tmp_path, *args):
    before = snapshot(tmp_path)
    line = one_line_error(invoke("predict", *args))
    assert snapshot(tmp_path) == before
    return line


def test_predict_wrong_size_is_refused_unless_resize(tmp_path, digits_checkpoint):
    big = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype(np.float32)
    np.save(tmp_path / "big.npy", big)
    line = _refused_predict(tmp_path, digits_checkpoint, tmp_path / "big.npy")
    assert "expects 8x8 images, this one is 28x28" in line and "--resize" in line
    result = invoke("predict", digits_checkpoint, tmp_path / "big.npy", "--resize")
    assert result.exit_code == 0, result.output


def test_predict_colour_image_for_a_grayscale_model(tmp_path, digits_checkpoint):
    from PIL import Image
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[..., 0] = 255
    Image.fromarray(colour).save(tmp_path / "red.png")
    line = _refused_predict(tmp_path, digits_checkpoint, tmp_path / "red.png")
    assert "colour image" in line and "1-channel" in line


@pytest.mark.parametrize("make, args, match", [
    (None, ("--top-k", 0), "--top-k must lie in 1..10"),
    (None, ("--top-k", 11), "--top-k must lie in 1..10"),
    (lambda d: np.save(d / "x.npy", np.zeros((2, 3, 8, 8), np.float32)), (), "expects 1-channel"),
    (lambda d: np.save(d / "x.npy", np.zeros((2, 2, 1, 8, 8), np.float32)), (), "5-D array"),
    (lambda d: np.save(d / "x.npy", np.full((8, 8), np.nan, np.float32)), (), "NaN"),
    (lambda d: (d / "x.npy").write_bytes(b"not numpy"), (), "not a readable .npy"),
    (lambda d: (d / "x.txt").write_text("hello"), (), "unknown file type .txt"),
])
def test_predict_bad_inputs(tmp_path, digits_checkpoint, make, args, match):
    if make is None:
        np.save(tmp_path / "x.npy", np.zeros((8, 8), np.float32))
    else:
        make(tmp_path)
    target = next(tmp_path.glob("x.*"))
    line = _refused_predict(tmp_path, digits_checkpoint, target, *args)
    assert match in line, line


def test_predict_missing_file_and_weights_only(tmp_path, digits_checkpoint):
    import gpucnn
    assert "no such file" in _refused_predict(tmp_path, digits_checkpoint, tmp_path / "none.npy")
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.float32))
    gpucnn.save(gpucnn.load(digits_checkpoint), tmp_path / "weights.st")
    line = _refused_predict(tmp_path, tmp_path / "weights.st", tmp_path / "x.npy")
    assert "holds weights only" in line
