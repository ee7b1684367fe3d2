"""gpucnn.save / gpucnn.load of "cuda" tensors under the simulator: as torch.load, tensors
come back on the device they were saved from unless map_location says otherwise; a whole
module saved from "cuda" computes there what it computed before."""
import json
import struct

import numpy as np
import pytest

import gpucnn as gc
from tests.cudasim.small_geometry import shrink_engine_blocks


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    shrink_engine_blocks(monkeypatch)


def _tensor_table(path):
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    return json.loads(json.loads(raw[8:8 + size])["__metadata__"]["gpucnn.tensors"])


def _model():
    gc.manual_seed(6)
    return gc.nn.Sequential(gc.nn.Linear(5, 4), gc.nn.BatchNorm1d(4), gc.nn.ReLU(),
                            gc.nn.Linear(4, 3))


def test_a_cuda_state_dict_loads_on_cuda_unless_mapped(tmp_path):
    model = _model().to("cuda")
    path = tmp_path / "w.st"
    gc.save(model.state_dict(), path)
    assert _tensor_table(path)["0.weight"] == {"device": "cuda:0"}
    loaded = gc.load(path)
    assert all(isinstance(v, gc.Tensor) and v.device == "cuda" for v in loaded.values())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy(), err_msg=key)
    for where in ("cpu", {"cuda:0": "cpu"}):
        assert all(v.device == "cpu" for v in gc.load(path, map_location=where).values())
    on_host = _model()
    on_host.load_state_dict(gc.load(path))                 # cuda tensors into a cpu model
    np.testing.assert_array_equal(on_host[0].weight.numpy(), model[0].weight.numpy())


def test_a_whole_module_saved_on_cuda_comes_back_on_cuda(tmp_path):
    model = _model().to("cuda")
    x = gc.tensor(np.random.default_rng(1).uniform(-1, 1, (6, 5)), device="cuda")
    model(x).sum().backward()
    model.eval()
    gc.save(model, tmp_path / "m.st")
    loaded = gc.load(tmp_path / "m.st", weights_only=False)
    assert all(p.device == "cuda" and p.requires_grad for p in loaded.parameters())
    assert all(b.device == "cuda" for b in loaded.buffers())
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    on_cpu = gc.load(tmp_path / "m.st", map_location="cpu", weights_only=False)
    assert all(t.device == "cpu" for t in (*on_cpu.parameters(), *on_cpu.buffers()))
    np.testing.assert_allclose(on_cpu(x.cpu()).detach().numpy(), model(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
