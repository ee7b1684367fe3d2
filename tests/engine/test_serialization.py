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
        assert isinstance(loaded[key], gc.Tensor) and loaded[key].dtype == gc.float32
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


# ---------------------------------------------------------------- nested objects (torch.save's)

def test_a_training_checkpoint_dict_round_trips(tmp_path):
    model = gc.nn.Sequential(gc.nn.Linear(3, 4), gc.nn.BatchNorm1d(4), gc.nn.Linear(4, 2))
    opt = gc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = gc.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4])
    model(gc.ones(5, 3)).sum().backward()
    opt.step()
    sched.step()
    saved = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": 7, "best": float("inf"),
             "history": [0.5, 0.25], "note": None, "shape": (2, 3), "raw": np.arange(4)}
    gc.save(saved, tmp_path / "ck.safetensors")
    loaded = gc.load(tmp_path / "ck.safetensors")
    assert loaded["epoch"] == 7 and loaded["best"] == float("inf") and loaded["note"] is None
    assert loaded["history"] == [0.5, 0.25] and loaded["shape"] == (2, 3)
    assert isinstance(loaded["raw"], np.ndarray) and loaded["raw"].tolist() == [0, 1, 2, 3]
    assert list(loaded["model"]) == list(saved["model"])
    assert isinstance(loaded["model"]["1.num_batches_tracked"], gc.Tensor)
    assert loaded["model"]["1.num_batches_tracked"].dtype == gc.int64
    twin = gc.nn.Sequential(gc.nn.Linear(3, 4), gc.nn.BatchNorm1d(4), gc.nn.Linear(4, 2))
    twin.load_state_dict(loaded["model"])
    twin_opt = gc.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    twin_opt.load_state_dict(loaded["optimizer"])
    twin_sched = gc.optim.lr_scheduler.MultiStepLR(twin_opt, milestones=[2, 4])
    twin_sched.load_state_dict(loaded["scheduler"])
    assert twin_sched.get_last_lr() == sched.get_last_lr()
    np.testing.assert_array_equal(
        twin_opt.state_dict()["state"][0]["momentum_buffer"].numpy(),
        opt.state_dict()["state"][0]["momentum_buffer"].numpy())


@pytest.mark.parametrize("bad", [lambda: None, object(), {"k": {1.5: 2}}, [set()]])
def test_objects_that_would_need_pickle_are_refused(tmp_path, bad):
    with pytest.raises(TypeError, match="gpucnn.save"):
        gc.save({"model": gc.nn.Linear(2, 2)} if bad is None else {"x": bad},
                tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_a_module_in_a_dict_saves_and_an_optimizer_names_state_dict(tmp_path):
    # torch.save takes a whole module anywhere in the structure; torch.load(weights_only=True)
    # refuses it, and so does gc.load until weights_only=False (tests/engine/test_save_modules.py).
    layer = gc.nn.Linear(2, 2)
    gc.save({"model": layer, "epoch": 1}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="weights_only"):
        gc.load(tmp_path / "x.safetensors")
    loaded = gc.load(tmp_path / "x.safetensors", weights_only=False)
    assert loaded["epoch"] == 1 and isinstance(loaded["model"], gc.nn.Linear)
    np.testing.assert_array_equal(loaded["model"].weight.numpy(), layer.weight.numpy())
    with pytest.raises(TypeError, match=r"optimizer\.state_dict\(\)"):
        gc.save({"opt": gc.optim.SGD(layer.parameters(), lr=0.1)}, tmp_path / "o.safetensors")
    assert not (tmp_path / "o.safetensors").exists()


@pytest.mark.parametrize("tree", [
    "{not json", '{"t": "missing"}', '{"x": 1}', '{"d": [[1.5, {"v": 1}]]}',
    '{"l": 5}', '{"v": {"a": 1}}', '{"f": "1e999"}', "[" * 100000 + "]" * 100000,
    '{"l": ' * 200 + '{"v": 1}' + "}" * 200])
def test_a_damaged_structure_record_is_a_value_error(tmp_path, tree):
    path = tmp_path / "bad.safetensors"
    gc.save({"w": np.ones(2, np.float32)}, path, metadata={"gpucnn.tree": tree})
    with pytest.raises(ValueError, match="bad.safetensors"):
        gc.load(path)


def test_map_location_places_the_tensors(tmp_path):
    gc.save({"w": {"a": gc.ones(2)}}, tmp_path / "m.safetensors")
    loaded = gc.load(tmp_path / "m.safetensors", map_location=gc.device("cpu"), weights_only=True)
    assert loaded["w"]["a"].device == "cpu"
