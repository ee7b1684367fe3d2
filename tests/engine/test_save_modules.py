"""Saving as torch scripts do: `gc.save(model)` of a whole module, refused by `gc.load` unless
weights_only=False (as torch 2.13's torch.load), or allowlisted with safe_globals; flat dicts
of tensors load as tensors; lists of strings save. torch itself is the oracle for which files
load by default and what comes back; the round trips are checked against the saved model."""
import json
import pickle
import struct
import sys

import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn.functional as F
from gpucnn.models import MODELS, get_model, model_spec
from gpucnn.serialization import WeightsOnlyLoadError, partial_path


# ---------------------------------------------------------------- modules of this file

class Tied(gc.nn.Module):
    """Everything a module's dictionary may hold: tied parameters, a module under two names,
    persistent and non-persistent buffers, a frozen parameter, a tensor as a plain attribute,
    plain values of every kind, a dtype, a device, a class, modules in a plain list."""

    def __init__(self):
        super().__init__()
        self.encoder = gc.nn.Linear(5, 3)
        self.head = gc.nn.Linear(5, 3, bias=False)
        self.head.weight = self.encoder.weight           # tied
        self.again = self.encoder                        # one module, two names
        self.norm = gc.nn.BatchNorm1d(3)
        self.register_buffer("scale", gc.rand(3) + 0.5)
        self.register_buffer("mask", (gc.rand(3) > 0.3).float(), persistent=False)
        self.register_buffer("absent", None)
        self.frozen = gc.nn.Parameter(gc.randn(3), requires_grad=False)
        self.offset = gc.randn(3)                        # a plain attribute, not a buffer
        self.config = {"mode": "sum", "sizes": (5, 3), "ratio": 0.5, "flags": [True, None],
                       "limit": float("inf"), 7: "int key"}
        self.compute_dtype = gc.float32
        self.where = gc.device("cpu")
        self.norm_class = gc.nn.BatchNorm1d
        self.activations = [gc.nn.ReLU(), gc.nn.Tanh()]  # not registered: a plain list
        self.init_calls = 1

    def forward(self, x):
        h = self.norm(self.encoder(x) + self.head(x)) * self.scale * self.mask
        for act in self.activations:
            h = act(h)
        return h + self.frozen + self.offset


class CountsInit(gc.nn.Module):
    created = 0

    def __init__(self):
        super().__init__()
        CountsInit.created += 1
        self.fc = gc.nn.Linear(2, 2)


def _random(*shape, seed=0):
    return gc.tensor(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))


def _round_trip(obj, tmp_path, name="m.safetensors", **kwargs):
    path = tmp_path / name
    gc.save(obj, path)
    return gc.load(path, weights_only=False, **kwargs)


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and sa[key].shape == sb[key].shape, key
        np.testing.assert_array_equal(sa[key].numpy(), sb[key].numpy(), err_msg=key)


# ---------------------------------------------------------------- round trips

def test_every_custom_part_of_a_module_round_trips(tmp_path):
    gc.manual_seed(1)
    model = Tied()
    model(_random(4, 5)).sum().backward()            # batch statistics move the buffers
    model.encoder.eval()                              # mixed train/eval flags
    loaded = _round_trip(model, tmp_path)

    assert type(loaded) is Tied and repr(loaded) == repr(model)
    _same_state(model, loaded)
    assert loaded.head.weight is loaded.encoder.weight      # still tied
    assert loaded.again is loaded.encoder                   # still one module
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert loaded.training and not loaded.encoder.training and loaded.norm.training
    assert loaded._non_persistent_buffers == {"mask"} and "mask" not in loaded.state_dict()
    np.testing.assert_array_equal(loaded.mask.numpy(), model.mask.numpy())
    assert loaded.absent is None and "absent" in loaded._buffers
    assert isinstance(loaded.frozen, gc.nn.Parameter) and not loaded.frozen.requires_grad
    assert all(p.requires_grad for n, p in loaded.named_parameters() if n != "frozen")
    assert isinstance(loaded.encoder.weight, gc.nn.Parameter)
    assert type(loaded.offset) is gc.Tensor and not loaded.offset.requires_grad
    np.testing.assert_array_equal(loaded.offset.numpy(), model.offset.numpy())
    assert loaded.config == model.config and isinstance(loaded.config["sizes"], tuple)
    assert loaded.compute_dtype is gc.float32 and loaded.where == gc.device("cpu")
    assert loaded.norm_class is gc.nn.BatchNorm1d
    assert [type(a) for a in loaded.activations] == [gc.nn.ReLU, gc.nn.Tanh]
    assert all(p.grad is None for p in loaded.parameters())   # as torch: no gradients saved

    # It computes what the saved model computes, forward and backward, and trains on.
    x = _random(6, 5, seed=2)
    for m in (model, loaded):
        m.zero_grad()
        m(x).square().sum().backward()
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    for (name, p), q in zip(model.named_parameters(), loaded.parameters()):
        if p.requires_grad:
            np.testing.assert_array_equal(q.grad.numpy(), p.grad.numpy(), err_msg=name)
    gc.optim.SGD(loaded.parameters(), lr=0.1).step()
    assert not np.array_equal(loaded.encoder.weight.numpy(), model.encoder.weight.numpy())
    np.testing.assert_array_equal(loaded.head.weight.numpy(), loaded.encoder.weight.numpy())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_round_trips(tmp_path, name):
    gc.manual_seed(3)
    model = get_model(name)
    spec = model_spec(name)
    x = _random(2, spec.in_channels, *spec.input_size, seed=4)
    F.cross_entropy(model(x), gc.tensor([1, 7])).backward()
    gc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).step()
    model.eval()
    loaded = _round_trip(model, tmp_path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    _same_state(model, loaded)
    assert not any(m.training for m in loaded.modules())
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("make", [
    lambda: gc.nn.Sequential(gc.nn.Linear(3, 4), gc.nn.ReLU(), gc.nn.Linear(4, 2)),
    lambda: gc.nn.ModuleList([gc.nn.Linear(3, 3), gc.nn.Dropout(0.3), gc.nn.Linear(3, 1)]),
    lambda: gc.nn.ModuleDict({"b": gc.nn.Linear(3, 2), "a": gc.nn.BatchNorm1d(2),
                              "z": gc.nn.Identity()}),
], ids=["Sequential", "ModuleList", "ModuleDict"])
def test_containers_keep_their_order_and_indexing(tmp_path, make):
    gc.manual_seed(5)
    container = make()
    loaded = _round_trip(container, tmp_path)
    assert type(loaded) is type(container) and len(loaded) == len(container)
    assert list(loaded._modules) == list(container._modules)
    _same_state(container, loaded)
    if isinstance(container, gc.nn.ModuleDict):
        assert list(loaded.keys()) == ["b", "a", "z"] and isinstance(loaded["a"],
                                                                     gc.nn.BatchNorm1d)
    else:
        assert type(loaded[-1]) is type(container[-1])
        loaded.append(gc.nn.Identity())                   # still a working container
        assert len(loaded) == len(container) + 1


def test_init_is_not_run_and_modules_nest_in_structures(tmp_path):
    CountsInit.created = 0
    block = CountsInit()
    gc.save({"model": block, "same": block, "epoch": 3, "classes": ["cat", "dog"]},
            tmp_path / "c.safetensors")
    loaded = gc.load(tmp_path / "c.safetensors", weights_only=False)
    assert CountsInit.created == 1                       # created as pickle does: no __init__
    assert loaded["model"] is loaded["same"] and isinstance(loaded["model"], CountsInit)
    assert loaded["epoch"] == 3 and loaded["classes"] == ["cat", "dog"]
    np.testing.assert_array_equal(loaded["model"].fc.bias.numpy(), block.fc.bias.numpy())


def test_a_module_saved_twice_gives_identical_bytes(tmp_path):
    gc.manual_seed(0)
    model = Tied()
    gc.save(model, tmp_path / "one.st")
    gc.save(model, tmp_path / "two.st")
    assert (tmp_path / "one.st").read_bytes() == (tmp_path / "two.st").read_bytes()


def test_saving_a_module_is_atomic(tmp_path, monkeypatch):
    import os
    path = tmp_path / "m.st"
    gc.save(gc.nn.Linear(2, 2), path)
    before = path.read_bytes()
    def disk_full(src, dst):
        raise OSError("full")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="full"):
        gc.save(gc.nn.Linear(3, 3), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.st"]


# ---------------------------------------------------------------- weights_only, as torch 2.13

def _torch_loads(obj, tmp_path, **kwargs):
    path = tmp_path / "oracle.pt"
    torch.save(obj, path)
    try:
        torch.load(path, **kwargs)
    except pickle.UnpicklingError:
        return False
    return True


def _gc_loads(obj, tmp_path, **kwargs):
    path = tmp_path / "ours.safetensors"
    gc.save(obj, path)
    try:
        gc.load(path, **kwargs)
    except pickle.UnpicklingError:
        return False
    return True


@pytest.mark.parametrize("case", ["state_dict", "checkpoint", "strings", "linear", "nested",
                                  "sequential"])
@pytest.mark.parametrize("weights_only", [None, True, False])
def test_which_files_load_by_default_is_torchs(tmp_path, case, weights_only):
    torch.manual_seed(0)
    gc.manual_seed(0)
    made = {
        "state_dict": lambda nn: nn.Linear(3, 2).state_dict(),
        "checkpoint": lambda nn: {"model": nn.Linear(3, 2).state_dict(), "epoch": 4,
                                  "best": 0.5, "history": [0.25, 0.125]},
        "strings": lambda nn: ["cat", "dog", "emu"],
        "linear": lambda nn: nn.Linear(3, 2),
        "nested": lambda nn: {"model": nn.Linear(3, 2), "epoch": 1},
        "sequential": lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten()),
    }[case]
    kwargs = {} if weights_only is None else {"weights_only": weights_only}
    expected = _torch_loads(made(torch.nn), tmp_path, **kwargs)
    assert _gc_loads(made(gc.nn), tmp_path, **kwargs) == expected
    assert expected == (weights_only is False or case in ("state_dict", "checkpoint",
                                                          "strings"))


def test_the_refusal_is_torchs_message_and_runs_nothing(tmp_path, monkeypatch):
    source = tmp_path / "plugin_for_gpucnn_test.py"
    source.write_text(
        "import pathlib\n"
        "import gpucnn as gc\n"
        f"pathlib.Path({str(tmp_path / 'imported')!r}).touch()\n"
        "class Plugin(gc.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = gc.nn.Linear(2, 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import plugin_for_gpucnn_test
    path = tmp_path / "plugin.safetensors"
    gc.save(plugin_for_gpucnn_test.Plugin(), path)
    (tmp_path / "imported").unlink()
    monkeypatch.delitem(sys.modules, "plugin_for_gpucnn_test")

    with pytest.raises(WeightsOnlyLoadError) as refused:
        gc.load(path)
    message = str(refused.value)
    for needle in (str(path), "Weights only load failed", "`weights_only` set to `False`",
                   "Do it only if you got the file from a trusted source",
                   "plugin_for_gpucnn_test.Plugin", "add_safe_globals"):
        assert needle in message, needle
    assert isinstance(refused.value, pickle.UnpicklingError)   # torch.load's exception type
    assert isinstance(refused.value, ValueError)               # gpucnn's for a refused file
    assert not (tmp_path / "imported").exists() and "plugin_for_gpucnn_test" not in sys.modules

    loaded = gc.load(path, weights_only=False)                 # the user opts in: imported
    assert (tmp_path / "imported").exists() and type(loaded).__name__ == "Plugin"


def test_safe_globals_allow_classes_without_importing_anything(tmp_path):
    gc.manual_seed(2)
    model = gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.ReLU())
    gc.save(model, tmp_path / "s.st")
    with gc.serialization.safe_globals([gc.nn.Sequential, gc.nn.Linear]):
        with pytest.raises(WeightsOnlyLoadError, match=r"ReLU") as refused:
            gc.load(tmp_path / "s.st")
        assert "Sequential" not in str(refused.value).split("Unsupported global")[1]
    assert gc.serialization.get_safe_globals() == []
    with gc.serialization.safe_globals([gc.nn.Sequential, gc.nn.Linear, gc.nn.ReLU]):
        _same_state(model, gc.load(tmp_path / "s.st"))
    with pytest.raises(WeightsOnlyLoadError):
        gc.load(tmp_path / "s.st")
    with pytest.raises(TypeError, match="not a gpucnn.nn.Module subclass"):
        gc.serialization.add_safe_globals([print])


def test_load_takes_torchs_arguments(tmp_path):
    gc.save({"w": gc.ones(2)}, tmp_path / "w.st")
    assert gc.load(tmp_path / "w.st", "cpu")["w"].device == "cpu"    # map_location second
    assert gc.load(tmp_path / "w.st", map_location={"cpu": "cpu"}, mmap=True)["w"].sum() == 2
    with pytest.raises(TypeError, match="map_location as a function"):
        gc.load(tmp_path / "w.st", map_location=lambda storage, location: storage)
    with pytest.raises(ValueError, match="map_location"):
        gc.load(tmp_path / "w.st", map_location="gpu")
    with pytest.raises(TypeError, match="pickle_module"):
        gc.load(tmp_path / "w.st", pickle_module=pickle)
    with pytest.raises(TypeError, match="encoding"):
        gc.load(tmp_path / "w.st", encoding="latin1")


# ---------------------------------------------------------------- flat dicts and lists

def test_a_flat_dict_loads_as_tensors_as_torchs_does(tmp_path):
    values = {"f": np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32),
              "i": np.arange(5, dtype=np.int64) - 2, "i32": np.arange(4, dtype=np.int32) * 3,
              "b": np.array([True, False, True])}
    ours = {k: gc.tensor(v, dtype=getattr(gc, str(v.dtype))) for k, v in values.items()}
    ours["p"] = gc.nn.Parameter(_random(2, 2))
    ours["raw"] = np.arange(3.0)                            # a NumPy array stays one
    gc.save(ours, tmp_path / "flat.st")
    loaded = gc.load(tmp_path / "flat.st")

    theirs = {k: torch.from_numpy(v) for k, v in values.items()}
    theirs["p"] = torch.nn.Parameter(torch.from_numpy(ours["p"].numpy()))
    torch.save(theirs, tmp_path / "flat.pt")
    oracle = torch.load(tmp_path / "flat.pt")
    assert list(loaded) == list(ours)
    for key, expected in oracle.items():
        assert isinstance(loaded[key], gc.Tensor), key
        assert loaded[key].dtype.name == str(expected.dtype).split(".")[1], key
        assert isinstance(loaded[key], gc.nn.Parameter) == isinstance(expected,
                                                                      torch.nn.Parameter)
        assert loaded[key].requires_grad == expected.requires_grad, key
        np.testing.assert_array_equal(loaded[key].numpy(), expected.detach().numpy(),
                                      err_msg=key)
    assert isinstance(loaded["raw"], np.ndarray) and loaded["raw"].dtype == np.float64

    model = gc.nn.Linear(2, 2)                               # and load_state_dict takes them
    model.load_state_dict(gc.load(_saved(gc.nn.Linear(2, 2).state_dict(), tmp_path)))


def _saved(obj, tmp_path):
    gc.save(obj, tmp_path / "saved.st")
    return tmp_path / "saved.st"


def test_nested_tensors_load_as_tensors_and_lists_round_trip(tmp_path):
    strings = ["airplane", "automobile", "bird", "", "ünïcode"]
    assert gc.load(_saved(strings, tmp_path)) == strings
    mixed = ["a", 1, 2.5, None, True, (3, "b"), {"k": _random(2)}]
    torch.save([m if not isinstance(m, dict) else {"k": torch.from_numpy(m["k"].numpy())}
                for m in mixed], tmp_path / "mixed.pt")
    oracle = torch.load(tmp_path / "mixed.pt")
    loaded = gc.load(_saved(mixed, tmp_path))
    assert [type(v) for v in loaded[:6]] == [type(v) for v in oracle[:6]]
    assert loaded[:6] == oracle[:6]
    assert isinstance(loaded[6]["k"], gc.Tensor)
    np.testing.assert_array_equal(loaded[6]["k"].numpy(), oracle[6]["k"].numpy())
    assert isinstance(gc.load(_saved(_random(3), tmp_path)), gc.Tensor)   # a bare tensor too


def test_a_cuda_tensor_needs_a_gpu_or_map_location(tmp_path, monkeypatch):
    path = tmp_path / "gpu.st"
    gc.save({"w": gc.ones(2)}, path, metadata={"gpucnn.tensors": json.dumps(
        {"w": {"device": "cuda:0"}})})
    monkeypatch.setattr(gc.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"map_location=gpucnn.device\('cpu'\)"):
        gc.load(path)
    for where in ("cpu", gc.device("cpu"), {"cuda:0": "cpu"}):
        assert gc.load(path, map_location=where)["w"].device == "cpu"


# ---------------------------------------------------------------- refused at save time

def _local_class():
    class Local(gc.nn.Module):
        pass
    return Local()


def _with_hook():
    layer = gc.nn.Linear(2, 2)
    layer.register_forward_hook(lambda module, inputs, output: None)
    return layer


def _cycle():
    outer = gc.nn.Sequential(gc.nn.Linear(2, 2))
    outer._modules["back"] = outer
    return outer


def _with_function():
    layer = gc.nn.Linear(2, 2)
    layer.activation = F.relu
    return layer


def _nested_lambda():
    layer = gc.nn.Linear(2, 2)
    layer.options = {"schedule": [lambda step: step]}
    return layer


@pytest.mark.parametrize("make, match", [
    (_with_function, r"'activation' is a function"),
    (_nested_lambda, r"'options/schedule/0' is a function"),
    (_with_hook, r"_forward_hooks"),
    (_local_class, r"defined inside a function"),
    (_cycle, r"contains itself"),
    (lambda: gc.optim.SGD(gc.nn.Linear(2, 2).parameters(), lr=0.1),
     r"save optimizer\.state_dict\(\)"),
    (lambda: {"optimizer": gc.optim.Adam(gc.nn.Linear(2, 2).parameters())},
     r"'optimizer' is a Adam; save optimizer\.state_dict\(\)"),
    (lambda: gc.optim.lr_scheduler.StepLR(gc.optim.SGD(gc.nn.Linear(2, 2).parameters(), lr=1),
                                          step_size=2), r"save its state_dict\(\)"),
], ids=["function", "nested_lambda", "hook", "local_class", "cycle", "optimizer",
        "optimizer_in_dict", "scheduler"])
def test_what_cannot_be_saved_is_refused_before_writing(tmp_path, make, match):
    path = tmp_path / "x.st"
    with pytest.raises(TypeError, match=match):
        gc.save(make(), path)
    assert not path.exists() and not (tmp_path / partial_path(path)).exists()


# ---------------------------------------------------------------- hostile files

def _header(path):
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + size]), raw[8 + size:]


def _rewritten(path, target, change):
    """`path` with its metadata changed by `change(tree, table)` (which may return a new
    tree text), written as `target` with the same arrays."""
    header, data = _header(path)
    metadata = header["__metadata__"]
    tree = json.loads(metadata["gpucnn.tree"])
    table = json.loads(metadata.get("gpucnn.tensors", "{}"))
    replaced = change(tree, table)
    metadata["gpucnn.tree"] = replaced if isinstance(replaced, str) else json.dumps(tree)
    metadata["gpucnn.tensors"] = json.dumps(table)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    target.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return target


def _root(tree):
    return tree["m"]


def _child(tree, index=0):
    return _root(tree)["modules"][index][1]["m"]


def _set_class(spec):
    def change(tree, table):
        _child(tree)["class"] = spec
    return change


def _deep_records(tree, table):
    record = json.dumps(_child(tree))
    leaf = '{"m": ' + record + "}"
    wrap = ('{"m": {"id": %d, "class": ["gpucnn.nn.container", "Sequential"], "training": true,'
            ' "parameters": [], "buffers": [], "non_persistent": [], "modules": [["0", ')
    close = ']], "attributes": []}}'
    return "".join(wrap % (1000 + i) for i in range(5000)) + leaf + close * 5000


HOSTILE = {
    "module_does_not_exist": (_set_class(["gpucnn_no_such_package.layers", "Linear"]),
                              "cannot be imported"),
    "class_does_not_exist": (_set_class(["gpucnn.nn", "NoSuchLayer"]), "does not define"),
    "os_system": (_set_class(["os", "system"]), "os.system, a builtin_function_or_method, "
                                                "not a gpucnn.nn.Module subclass"),
    "builtins_eval": (_set_class(["builtins", "eval"]), "not a gpucnn.nn.Module subclass"),
    "a_class_not_a_module": (_set_class(["collections", "OrderedDict"]),
                             "collections.OrderedDict, a type, not a gpucnn.nn.Module"),
    "class_name_not_a_name": (_set_class(["os; rm -rf", "x"]), "class name"),
    "class_not_a_pair": (_set_class("os.system"), "class name"),
    "training_a_string": (lambda t, _: _child(t).update(training="yes"), "training flag"),
    "missing_tensor": (lambda t, _: _child(t)["parameters"][0].__setitem__(1, {"t": "gone"}),
                       "names an array 'gone' it does not hold"),
    "parameter_not_a_parameter": (lambda t, table: table.pop("0.weight"), "not a Parameter"),
    "parameter_a_number": (lambda t, _: _child(t)["parameters"][0].__setitem__(1, {"v": 3}),
                           "is not a tensor"),
    "child_not_a_module": (lambda t, _: _root(t)["modules"][0].__setitem__(1, {"v": 3}),
                           "is not a module"),
    "cycle": (lambda t, _: _root(t)["modules"][1].__setitem__(1, {"ref": 0}),
              "cyclic reference"),
    "reference_forward": (lambda t, _: _root(t)["modules"][1].__setitem__(1, {"ref": 99}),
                          "which no record before it defines"),
    "id_twice": (lambda t, _: _child(t, 1).update(id=_child(t, 0)["id"]), "defined twice"),
    "registry_as_attribute": (lambda t, _: _child(t)["attributes"].append(
        ["_parameters", {"v": None}]), "has an attribute '_parameters'"),
    "non_persistent_unknown": (lambda t, _: _child(t).update(non_persistent=["nothing"]),
                               "non-persistent buffers"),
    "record_missing_fields": (lambda t, _: _child(t).pop("buffers"), "without its fields"),
    "unknown_dtype": (lambda t, _: _child(t)["attributes"].append(["d", {"dtype": "float128"}]),
                      "unknown dtype"),
    "unknown_device": (lambda t, _: _child(t)["attributes"].append(["d", {"device": "gpu"}]),
                       "unknown device"),
    "attribute_of_unknown_kind": (lambda t, _: _child(t)["attributes"].append(
        ["x", {"pickle": "cos\nsystem\n"}]), "damaged structure record"),
    "deep_attribute": (lambda t, _: _child(t)["attributes"].append(
        ["x", json.loads('{"l": [' * 80 + '{"v": 1}' + "]}" * 80)]), "64 levels deep"),
    "huge_nesting": (_deep_records, "gpucnn.tree"),
    "table_requires_grad_not_a_bool": (lambda t, table: table.update(
        {"0.weight": {"type": "parameter", "requires_grad": "yes"}}), "requires_grad 'yes'"),
    "table_requires_grad_on_ints": (lambda t, table: table.update(
        {"1.num_batches_tracked": {"requires_grad": True}}), "only float tensors"),
    "table_unknown_device": (lambda t, table: table["0.weight"].update(device="tpu:0"),
                             "unknown device"),
    "table_names_a_missing_array": (lambda t, table: table.update(ghost={}),
                                    "naming an array 'ghost'"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_module_records_are_a_value_error_naming_the_file(tmp_path, name):
    gc.manual_seed(0)
    model = gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.BatchNorm1d(2))
    gc.save(model, tmp_path / "good.st")
    change, match = HOSTILE[name]
    path = _rewritten(tmp_path / "good.st", tmp_path / f"{name}.st", change)
    modules_before = set(sys.modules)
    for weights_only in (True, False):
        with pytest.raises(ValueError) as refused:
            gc.load(path, weights_only=weights_only)
        assert str(path) in str(refused.value)
        if not weights_only:
            assert match in str(refused.value), str(refused.value)
    assert not any(m.startswith("gpucnn_no_such") for m in set(sys.modules) - modules_before)


def test_a_hostile_class_is_refused_before_anything_is_imported(tmp_path):
    """The whole tree is checked before the first class is looked up: a damaged record
    after a class that would be imported stops the load with nothing imported."""
    gc.manual_seed(0)
    gc.save(gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.ReLU()), tmp_path / "good.st")

    def change(tree, table):
        _child(tree, 0)["class"] = ["gpucnn_never_imported_module", "Layer"]
        _child(tree, 1)["training"] = None

    path = _rewritten(tmp_path / "good.st", tmp_path / "bad.st", change)
    with pytest.raises(ValueError, match="training flag"):
        gc.load(path, weights_only=False)
    assert "gpucnn_never_imported_module" not in sys.modules
