"""Hostile files and careless paths at the command line: one "Error: ..." line, a non-zero
exit, no traceback, and nothing the user had on disk lost or changed."""
import hashlib
import json
import struct

import numpy as np
import pytest

import gpucnn
from gpucnn import serialization
from gpucnn.training import trainer

from .conftest import assert_same_arrays, invoke, load_arrays, one_line_error, snapshot

QUICK = ("--quiet", "--device", "cpu")


def refused(*args, match, folder=None):
    before = snapshot(folder) if folder is not None else None
    line = one_line_error(invoke(*args))
    for needle in [match] if isinstance(match, str) else match:
        assert needle in line, line
    if folder is not None:
        assert snapshot(folder) == before, "a refused command changed files on disk"
    return line


# ---------------------------------------------------------------- output paths

class TestOutputPathsAreCheckedBeforeTraining:
    def test_save_under_a_file(self, tmp_path):
        (tmp_path / "plain").write_text("not a folder")
        refused("train", "--epochs", 1, *QUICK, "--save", tmp_path / "plain" / "ck.st",
                match=["--save", "is not a folder"], folder=tmp_path)

    def test_json_in_a_folder_that_takes_no_files(self, tmp_path):
        refused("train", "--epochs", 1, *QUICK, "--json", "/proc/gpucnn-metrics.json",
                "--save", tmp_path / "ck.st", match=["--json", "cannot write to /proc"],
                folder=tmp_path)
        assert not (tmp_path / "ck.st").exists()

    def test_evaluate_png_and_json(self, tmp_path, digits_checkpoint):
        refused("evaluate", digits_checkpoint, "--json", "/proc/e.json",
                match=["--json", "cannot write"])
        (tmp_path / "f").write_text("x")
        refused("evaluate", digits_checkpoint, "--png", tmp_path / "f" / "cm.png",
                match=["--png", "not a folder"])

    def test_predict_json(self, tmp_path, digits_checkpoint):
        np.save(tmp_path / "one.npy", np.zeros((8, 8), np.float32))
        refused("predict", digits_checkpoint, tmp_path / "one.npy", "--json", "/proc/p.json",
                match=["--json", "cannot write"])


class TestASaveThatFailsLater:
    def test_is_one_line_and_keeps_the_previous_checkpoint(self, tmp_path, monkeypatch):
        save = tmp_path / "ck.st"
        real = trainer.save_checkpoint
        calls = {"n": 0}

        def full_disk_on_the_second(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        monkeypatch.setattr(trainer, "save_checkpoint", full_disk_on_the_second)
        result = invoke("train", "--epochs", 3, *QUICK, "--save", save)
        monkeypatch.undo()
        assert result.exit_code == 1 and "Traceback" not in result.output
        # The headline was printed when training started; the failure is one line after it.
        last = result.output.strip().splitlines()[-1]
        for needle in ("Error: cannot write checkpoint", "after epoch 2", "No space left",
                       "keeps the last checkpoint"):
            assert needle in last, last
        kept = load_arrays(save)
        expected = tmp_path / "one.st"
        assert invoke("train", "--epochs", 1, *QUICK, "--save", expected).exit_code == 0
        assert_same_arrays(kept, load_arrays(expected))

    def test_ctrl_c_where_nothing_can_be_written(self, tmp_path, monkeypatch):
        monkeypatch.chdir("/proc")
        calls = {"n": 0}
        real = trainer.forward_backward

        def interrupt_the_third(*args):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return real(*args)

        monkeypatch.setattr(trainer, "forward_backward", interrupt_the_third)
        result = invoke("train", "--epochs", 1, *QUICK)
        assert result.exit_code == 130, result.output
        last = result.output.strip().splitlines()[-1]
        assert "Traceback" not in result.output
        assert last.startswith("Error: interrupted in epoch 1") and "could not be written" in last
        assert "--save PATH" in last


# ---------------------------------------------------------------- damaged checkpoints

def _rewrite_metadata(source, target, change):
    arrays, metadata = gpucnn.load(source, with_metadata=True)
    change(metadata)
    gpucnn.save(arrays, target, metadata=metadata)
    return target


def _edit_json(key, edit):
    def change(metadata):
        value = json.loads(metadata[key])
        edit(value)
        metadata[key] = json.dumps(value)
    return change


DAMAGE = {
    "fewer_class_names": _edit_json("info", lambda info: info.update(classes=["a", "b"])),
    "classes_not_names": _edit_json("info", lambda info: info.update(classes=[1] * 10)),
    "no_normalisation": _edit_json("info", lambda info: info.pop("normalize_mean")),
    "zero_std": _edit_json("info", lambda info: info.update(normalize_std=[0.0])),
    "lr_a_string": _edit_json("config", lambda cfg: cfg.update(lr="fast")),
    "epochs_negative": _edit_json("config", lambda cfg: cfg.update(epochs=-2)),
    "progress_without_history": _edit_json("progress", lambda p: p.pop("history")),
    "info_not_json": lambda m: m.update(info="{not json"),
    "info_deeply_nested": lambda m: m.update(info="[" * 100_000 + "]" * 100_000),
    "info_a_list": lambda m: m.update(info="[1, 2]"),
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("command", ["evaluate", "predict", "resume"])
def test_damaged_checkpoint_metadata(tmp_path, digits_checkpoint, damage, command):
    path = _rewrite_metadata(digits_checkpoint, tmp_path / "damaged.st", DAMAGE[damage])
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.float32))
    args = {"evaluate": ("evaluate", path), "predict": ("predict", path, tmp_path / "x.npy"),
            "resume": ("train", "--resume", path, "--epochs", 9, *QUICK)}[command]
    refused(*args, match=["damaged metadata", str(path)])


@pytest.mark.parametrize("cut", ["header_length", "half", "metadata_only"])
def test_damaged_checkpoint_bytes(tmp_path, digits_checkpoint, cut):
    payload = digits_checkpoint.read_bytes()
    header_len = struct.unpack("<Q", payload[:8])[0]
    damaged = {"header_length": struct.pack("<Q", 2**40) + payload[8:],
               "half": payload[:len(payload) // 2],
               "metadata_only": payload[:8 + header_len]}[cut]
    path = tmp_path / "cut.st"
    path.write_bytes(damaged)
    for args in (("evaluate", path), ("train", "--resume", path, "--epochs", 9, *QUICK)):
        refused(*args, match=["checkpoint", str(path), "unreadable"])


# ---------------------------------------------------------------- inputs to predict

class TestPredictInputs:
    def test_nan_pixels_in_every_format_are_refused(self, tmp_path, digits_checkpoint):
        image = np.random.default_rng(0).uniform(0, 1, (8, 8)).astype(np.float32)
        image[3, 4] = np.nan
        np.save(tmp_path / "nan.npy", image)
        refused("predict", digits_checkpoint, tmp_path / "nan.npy",
                match=["nan.npy", "NaN or infinite"])
        from PIL import Image
        Image.fromarray(image, mode="F").save(tmp_path / "nan.tiff")
        refused("predict", digits_checkpoint, tmp_path / "nan.tiff",
                match=["nan.tiff", "NaN or infinite"])
        image[3, 4] = np.inf
        np.save(tmp_path / "inf.npy", image)
        refused("predict", digits_checkpoint, tmp_path / "inf.npy", match="NaN or infinite")

    @pytest.mark.parametrize("shape", [(10**12,), (100000, 100000, 100), (2, 8, 9)])
    def test_npy_header_that_lies_about_its_size(self, tmp_path, digits_checkpoint, shape):
        path = tmp_path / "liar.npy"
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f4", "fortran_order": False, "shape": shape})
            f.write(b"\0" * 256)
        refused("predict", digits_checkpoint, path, match=["liar.npy", "header declares"])

    def test_npy_of_python_objects(self, tmp_path, digits_checkpoint):
        np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
        refused("predict", digits_checkpoint, tmp_path / "objects.npy",
                match=["objects.npy", "Python objects"])


class TestIdxFiles:
    @pytest.mark.parametrize("shape", [(0, 28, 28), (5, 0, 28)])
    def test_files_with_no_images(self, tmp_path, shape):
        folder = tmp_path / "mnist"
        folder.mkdir()
        images = struct.pack(">IIII", 2051, *shape)
        labels = struct.pack(">II", 2049, shape[0]) + bytes(shape[0])
        (folder / "t10k-images-idx3-ubyte").write_bytes(images)
        (folder / "t10k-labels-idx1-ubyte").write_bytes(labels)
        refused("train", "--dataset", "mnist", "--data-dir", folder, "--train-size", 1, *QUICK,
                match=["holds no images"])


# ---------------------------------------------------------------- determinism

class TestDeterminism:
    def test_one_thread_and_two_give_the_same_weights(self, tmp_path):
        for threads in (1, 2):
            result = invoke("train", "--epochs", 2, *QUICK, "--threads", threads, "--save",
                            tmp_path / f"t{threads}.st")
            assert result.exit_code == 0, result.output
        assert_same_arrays(load_arrays(tmp_path / "t1.st"), load_arrays(tmp_path / "t2.st"))

    def test_two_identical_runs_write_identical_checkpoints(self, tmp_path):
        digests = []
        for run in (1, 2):
            path = tmp_path / f"run{run}.st"
            assert invoke("train", "--epochs", 2, *QUICK, "--save", path).exit_code == 0
            digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
        assert digests[0] == digests[1]
        metadata = serialization.load(tmp_path / "run1.st", with_metadata=True)[1]
        assert "seconds" not in metadata["progress"]
