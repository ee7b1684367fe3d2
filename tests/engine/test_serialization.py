import os
import pickle

import numpy as np
import pytest

import gpucnn as gc
from tests.engine.op_cases import lenet_pair


def test_round_trip_state_dict(tmp_path):
    model, _ = lenet_pair()
    path = tmp_path / "lenet.safetensors"
    gc.save(model.state_dict(), path)
    loaded = gc.load(path)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == np.float32
    fresh, _ = lenet_pair(seed=5)
    fresh.load_state_dict(loaded)
    x = gc.tensor(np.random.default_rng(0).uniform(0, 1, (2, 1, 28, 28)))
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_round_trip_mixed_arrays_and_metadata(tmp_path):
    path = tmp_path / "mixed.safetensors"
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(7, np.int64),
              "labels": np.array([1, 2, 3]), "t": gc.tensor([[1.5, -2.0]])}
    gc.save(arrays, path, metadata={"epoch": 3, "model": "lenet5"})
    loaded, meta = gc.load(path, with_metadata=True)
    np.testing.assert_array_equal(loaded["w"], arrays["w"])
    assert loaded["step"].dtype == np.int64 and int(loaded["step"]) == 7
    np.testing.assert_array_equal(loaded["t"], [[1.5, -2.0]])
    assert meta == {"epoch": "3", "model": "lenet5"}


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    gc.save({"a": np.ones(3, np.float32)}, path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        gc.save({"a": np.zeros(3, np.float32)}, path)
    assert path.read_bytes() == before, "a failed save changed the existing file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]


def test_truncated_corrupt_and_pickle_files_are_refused(tmp_path):
    good = tmp_path / "good.safetensors"
    gc.save({"a": np.arange(100, dtype=np.float32)}, good)
    payload = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(payload[: len(payload) - 50])
    with pytest.raises(ValueError, match="truncated"):
        gc.load(truncated)
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(payload[:5])
    with pytest.raises(ValueError, match="truncated"):
        gc.load(tiny)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(payload[:8] + b"{not json" + payload[17:])
    with pytest.raises(ValueError, match="corrupt"):
        gc.load(corrupt)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"a": np.ones(3)}))
    with pytest.raises(ValueError):
        gc.load(pickled)


def test_save_refuses_non_arrays(tmp_path):
    with pytest.raises(TypeError, match="'opt'"):
        gc.save({"opt": object()}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="dtype"):
        gc.save({"s": np.array(["a", "b"])}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
