"""The object tree of a saved file: how what `gpucnn.save` takes (tensors, arrays, numbers,
strings, containers of them, whole modules) becomes named arrays plus JSON, and how
`gpucnn.load` rebuilds it without running anything but gpucnn's own code (and, for a whole
module, only when the caller opts in).

The file's arrays are the tensors' and arrays' values. Beside them, in the metadata:

* the tree (JSON), one node per object, each a one-key JSON object:

      {"t": key}             a Tensor: its values are the file's array `key`
      {"a": key}             a NumPy array
      {"v": value}           None, a bool, an int, a finite float or a str
      {"f": "nan"}           a float that JSON cannot hold ("nan", "inf", "-inf")
      {"l": [node, ...]}     a list        {"u": [node, ...]}  a tuple
      {"d": [[k, node]]}     a dict (str or int keys, in order)   {"o": ...} an OrderedDict
      {"dtype": "float32"}   a gpucnn dtype         {"device": "cuda:0"}  a gpucnn device
      {"class": [module, qualname]}   a gpucnn.nn.Module subclass itself (not an instance)
      {"m": record}          a Module          {"ref": n}  the module recorded as number n

* the tensor table (JSON): key -> what the array alone does not say, for the arrays that
  are not a plain CPU tensor: {"type": "parameter", "device": "cuda:0", "requires_grad":
  true}, or {"type": "numpy"} for an entry of a flat dict (no tree) saved from a NumPy
  array. Gradients and autograd history are not saved (torch's neither); a tensor that was
  not a leaf comes back a leaf, with its requires_grad, as torch's does.

A module record holds what torch's pickle of a Module holds, its class and its instance
dictionary, laid out so that every part is checked before anything is created:

    {"id": n, "class": [module, qualname], "training": bool,
     "parameters": [[name, {"t": key} or {"v": null}], ...]      in registration order
     "buffers": [[name, {"t": key} or {"v": null}], ...],
     "non_persistent": [buffer name, ...],
     "modules": [[name, {"m": ...} or {"ref": n} or {"v": null}], ...],
     "attributes": [[name, node], ...]}                           every other attribute

Loading creates a module as pickle does, `cls.__new__(cls)` without running `__init__`, and
restores its dictionary (what torch's Module.__setstate__ does); registries a newer
Module.__init__ has and the file lacks (empty hook dicts) come from a fresh Module. Classes
are named, never stored: `gpucnn.load` finds them by module and qualified name and accepts
only gpucnn.nn.Module subclasses (serialization.py decides when it may import them).

Array keys are the object's path: "model/0.weight" in {"model": Sequential(...)}, a module's
parameters and buffers under their state_dict names. A tensor or module met twice (tied
weights, one block used in two places) is stored once and comes back as one object. A module
that contains itself is refused on both sides: a cycle is not a model (its state_dict() never
ends). Anything else, a function, a hook, an optimizer object, is a TypeError naming where it
is, raised before the file is touched.
"""
import importlib
import json
import re
import sys
import types
from collections import OrderedDict

import numpy as np

from . import dtypes
from .backend import backend
from .devices import device as Device
from .devices import parse as parse_device
from .nn.module import Module
from .nn.parameter import Parameter
from .optim.optimizer import Optimizer
from .tensor import Tensor, _host_array

MAX_DEPTH = 64       # nesting a tree may have (a hostile file cannot exhaust the stack)
SAVABLE_KINDS = "fiub"
RECORD_FIELDS = frozenset({"id", "class", "training", "parameters", "buffers",
                           "non_persistent", "modules", "attributes"})
REGISTRIES = frozenset({"training", "_parameters", "_buffers", "_non_persistent_buffers",
                        "_modules"})
TENSOR_TYPES = ("parameter", "numpy")       # a table entry without "type": a Tensor
DTYPE_NAMES = frozenset(d.name for d in dtypes.SUPPORTED) | frozenset(dtypes.UNSUPPORTED)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ENGINE_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.int64, np.int32, np.bool_))
_NO_FACTS = {}          # a table entry's absence: a CPU tensor without requires_grad


def _child(path, name, separator):
    return f"{path}{separator}{name}" if path else str(name)


def _where(path):
    return f"'{path}'" if path else "the saved object"


def _is_device_name(name) -> bool:
    if not isinstance(name, str):
        return False
    try:
        parse_device(name)
    except ValueError:
        return False
    return True


def _device_tag(device) -> str:
    return "cpu" if device.type == "cpu" else f"cuda:{device.index or 0}"


def to_numpy(key, value) -> np.ndarray:
    """The C-contiguous host array a tensor or NumPy array is saved as."""
    array = value.numpy() if isinstance(value, Tensor) else value
    if array.dtype.kind not in SAVABLE_KINDS:
        raise TypeError(f"gpucnn.save: value for {key!r} has dtype {array.dtype}; only numeric "
                        f"arrays can be saved")
    return np.require(array, None, "C")  # keeps 0-d arrays 0-d


# ================================================================ classes by name

def class_spec(cls, where) -> list:
    """[module, qualname] of a Module subclass, checked to lead back to the class itself, so
    a file never names a class that gpucnn.load could not find."""
    module, qualname = cls.__module__, cls.__qualname__
    if "<locals>" in qualname.split("."):
        raise TypeError(f"gpucnn.save: {where} is a {qualname}, a class defined inside a "
                        f"function; gpucnn.load finds classes by name, so define it at the top "
                        f"level of a module")
    found = _find(sys.modules.get(module), qualname)
    if found is not cls:
        raise TypeError(f"gpucnn.save: {where} is a {module}.{qualname}, but that name leads "
                        f"to {'nothing' if found is None else repr(found)}; gpucnn.load finds "
                        f"classes by name, so the class must be reachable under it")
    return [module, qualname]


def _find(namespace, qualname):
    """The object `qualname` names in a module, through dictionaries only (no __getattr__
    hooks, no descriptors run); None where the name leads nowhere."""
    for part in qualname.split("."):
        if not isinstance(namespace, (type, types.ModuleType)):
            return None
        namespace = vars(namespace).get(part)
    return namespace


def import_class(spec):
    """The class [module, qualname] names, importing its module if it is not loaded yet
    (which runs that module's code: serialization.load does this only for weights_only=False).
    Anything but a gpucnn.nn.Module subclass is a ValueError naming it."""
    module_name, qualname = spec
    name = f"{module_name}.{qualname}"
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except Exception as error:   # the module's own code failed: still "cannot import"
            raise ValueError(f"names class {name}, whose module cannot be imported "
                             f"({type(error).__name__}: {error})") from None
    found = _find(module, qualname)
    if found is None:
        raise ValueError(f"names class {name}, which module {module_name} does not define")
    if not (isinstance(found, type) and issubclass(found, Module)):
        raise ValueError(f"names {name}, a {type(found).__name__}, not a gpucnn.nn.Module "
                         f"subclass: refused (gpucnn files hold modules, never other objects)")
    return found


# ================================================================ saving

def _refusal(obj, where) -> TypeError:
    kind = type(obj).__name__
    if isinstance(obj, Optimizer):
        hint = (f"save optimizer.state_dict() instead (the optimizer object holds references to "
                f"the model's parameters; {kind}.load_state_dict reads the state back)")
    elif callable(getattr(obj, "state_dict", None)):
        hint = "save its state_dict() instead, and give that to load_state_dict after loading"
    elif callable(obj):
        hint = "gpucnn files hold no code (no pickle): set it again after loading"
    else:
        hint = ("gpucnn saves tensors, arrays, numbers, strings, None, dtypes, devices, modules "
                "and dicts/lists/tuples of them (no pickle)")
    return TypeError(f"gpucnn.save: {where} is a {kind}; {hint}")


class Encoder:
    """Turns objects into tree nodes, collecting the arrays and the tensor table."""

    def __init__(self):
        self.arrays = {}        # file entry -> C-contiguous host array
        self.table = {}         # file entry -> its facts beyond "a CPU tensor"
        self._tensors = {}      # id -> (tensor, key): a tensor met twice is stored once
        self._modules = {}      # id -> (module, number)
        self._open = set()      # ids of the modules being recorded: meeting one is a cycle

    def entry(self, key, value):
        """Store a tensor or NumPy array under `key` itself (a flat dict's entries)."""
        self.arrays[key] = to_numpy(key, value)
        facts = self._facts(value)
        if facts:
            self.table[key] = facts

    @staticmethod
    def _facts(value) -> dict:
        if not isinstance(value, Tensor):
            return {"type": "numpy"}
        facts = {"type": "parameter"} if isinstance(value, Parameter) else {}
        if value.device.type != "cpu":
            facts["device"] = _device_tag(value.device)
        if value.requires_grad:
            facts["requires_grad"] = True
        return facts

    def _key(self, path) -> str:
        key = path or "obj"
        suffix = 1
        while key in self.arrays:          # a path that two objects reach ("a/b" and a: {b})
            key, suffix = f"{path or 'obj'}~{suffix}", suffix + 1
        return key

    def _tensor(self, tensor, path) -> str:
        known = self._tensors.get(id(tensor))
        if known is not None:
            return known[1]
        key = self._key(path)
        self.arrays[key] = to_numpy(key, tensor)
        facts = self._facts(tensor)
        if facts:
            self.table[key] = facts
        self._tensors[id(tensor)] = (tensor, key)   # the tensor kept alive: ids stay unique
        return key

    def node(self, obj, path="", depth=0) -> dict:
        where = _where(path)
        if depth > MAX_DEPTH:
            raise TypeError(f"gpucnn.save: {where} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(obj, Module):
            return self._module(obj, path, depth)
        if isinstance(obj, Tensor):
            return {"t": self._tensor(obj, path)}
        if isinstance(obj, np.ndarray):
            key = self._key(path)
            self.arrays[key] = to_numpy(key, obj)
            return {"a": key}
        if isinstance(obj, dtypes.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, Device):          # a str subclass: before str
            return {"device": _device_tag(obj)}
        if obj is None or isinstance(obj, (bool, str, np.bool_)):
            return {"v": obj if not isinstance(obj, np.bool_) else bool(obj)}
        if isinstance(obj, (int, np.integer)):
            return {"v": int(obj)}
        if isinstance(obj, (float, np.floating)):
            value = float(obj)
            return {"v": value} if np.isfinite(value) else {"f": repr(value)}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"gpucnn.save: {where} has a key {key!r} of type "
                                    f"{type(key).__name__}; keys must be strings or ints")
                items.append([key, self.node(value, _child(path, key, "/"), depth + 1)])
            return {"o" if isinstance(obj, OrderedDict) else "d": items}
        if isinstance(obj, (list, tuple)):
            nodes = [self.node(v, _child(path, i, "/"), depth + 1) for i, v in enumerate(obj)]
            return {"l" if isinstance(obj, list) else "u": nodes}
        if isinstance(obj, type) and issubclass(obj, Module):
            return {"class": class_spec(obj, where)}
        raise _refusal(obj, where)

    def _module(self, module, path, depth) -> dict:
        where = _where(path)
        if id(module) in self._open:
            raise TypeError(f"gpucnn.save: {where} is a {type(module).__name__} that contains "
                            f"itself (a cycle: its state_dict() would never end); gpucnn files "
                            f"hold modules shared between places, not cycles")
        if id(module) in self._modules:
            return {"ref": self._modules[id(module)][1]}
        spec = class_spec(type(module), where)
        number = len(self._modules)
        self._modules[id(module)] = (module, number)
        self._open.add(id(module))
        state = dict(vars(module))
        training = state.pop("training", True)
        if not isinstance(training, bool):
            raise TypeError(f"gpucnn.save: {where}.training is {training!r}, not a bool")
        record = {"id": number, "class": spec, "training": training,
                  "parameters": self._registry(state.pop("_parameters", {}), path, Parameter,
                                               "parameter"),
                  "buffers": self._registry(state.pop("_buffers", {}), path, Tensor, "buffer"),
                  "non_persistent": sorted(state.pop("_non_persistent_buffers", ())),
                  "modules": [[name, {"v": None} if child is None else
                               self.node(child, _child(path, name, "."), depth + 1)]
                              for name, child in state.pop("_modules", {}).items()]}
        for name in vars(Module()):            # the other registries Module.__init__ makes
            if name in state and not state[name]:
                del state[name]                # empty: a fresh one on load
            elif name in state and name.endswith("hooks"):
                raise TypeError(f"gpucnn.save: {where} has {len(state[name])} {name} "
                                f"(functions); gpucnn files hold no code: remove them (the "
                                f"handle's remove()) and register them again after loading")
        attributes = []
        for name, value in state.items():
            if not isinstance(name, str):
                raise TypeError(f"gpucnn.save: {where} has an attribute named {name!r}, not a "
                                f"string")
            attributes.append([name, self.node(value, _child(path, name, "."), depth + 1)])
        record["attributes"] = attributes
        self._open.discard(id(module))
        return {"m": record}

    def _registry(self, registry, path, kind, what) -> list:
        entries = []
        for name, value in registry.items():
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"gpucnn.save: {what} {_child(path, name, '.')!r} is a "
                                f"{type(value).__name__}, not a {kind.__name__}")
            entries.append([name, {"v": None} if value is None else
                            {"t": self._tensor(value, _child(path, name, "."))}])
        return entries


# ================================================================ loading

class Decoder:
    """Checks a tree against the file's arrays and table (`scan`), then rebuilds it (`build`).
    Every problem is a ValueError naming the file. `place(tag)` is the device a tensor saved
    on `tag` ("cpu", "cuda:0") goes to."""

    def __init__(self, path, arrays, table_text, place):
        self.path, self.arrays, self.place = path, arrays, place
        self.table = self._table(table_text)
        self._built_tensors = {}
        self._built_modules = {}

    def bad(self, what) -> ValueError:
        return ValueError(f"gpucnn.load: {self.path} {what}")

    def _table(self, text) -> dict:
        if text is None:
            return {}
        try:
            table = json.loads(text)
        except (ValueError, RecursionError):
            raise self.bad("has a corrupt tensor table (gpucnn.tensors)") from None
        if not isinstance(table, dict):
            raise self.bad("has a damaged tensor table (gpucnn.tensors): not a dict")
        for key, facts in table.items():
            if key not in self.arrays:
                raise self.bad(f"has a tensor table naming an array {key!r} it does not hold")
            if not isinstance(facts, dict) or not set(facts) <= {"type", "device",
                                                                 "requires_grad"}:
                raise self.bad(f"has a damaged tensor table entry for {key!r}: {facts!r}")
            kind, grad = facts.get("type"), facts.get("requires_grad", False)
            if kind is not None and kind not in TENSOR_TYPES:
                raise self.bad(f"has a tensor table entry for {key!r} of unknown type {kind!r}")
            if grad not in (True, False) or (grad and (kind == "numpy" or
                                                       self.arrays[key].dtype.kind != "f")):
                raise self.bad(f"has a tensor table entry for {key!r} with requires_grad "
                               f"{grad!r} (only float tensors can require gradients)")
            if "device" in facts and not _is_device_name(facts["device"]):
                raise self.bad(f"has a tensor table entry for {key!r} on an unknown device "
                               f"{facts['device']!r}")
        return table

    # ---------------------------------------------------------------- flat files
    def entry(self, key):
        """One array of a flat file: a Tensor, or a NumPy array where one was saved."""
        if self.table.get(key, {}).get("type") == "numpy":
            return self.arrays[key]
        return self._tensor(key)

    def _tensor(self, key):
        built = self._built_tensors.get(key)
        if built is not None:
            return built
        facts = self.table.get(key, _NO_FACTS)
        array = self.arrays[key]
        if array.dtype not in _ENGINE_DTYPES:   # written by another tool: gpucnn.tensor's rules
            array = self._engine_array(key, array)
        device = self.place(facts.get("device", "cpu"))
        cls = Parameter if facts.get("type") == "parameter" else Tensor
        tensor = cls.__new__(cls)
        tensor._init(array if device.type == "cpu" else backend(device).from_host(array),
                     device, facts.get("requires_grad", False), None)
        self._built_tensors[key] = tensor
        return tensor

    def _engine_array(self, key, array):
        """An array of a dtype gpucnn does not compute in, as gpucnn.tensor converts it:
        floats to float32, integers to int64 (uint64 checked to fit)."""
        kind, size = array.dtype.kind, array.dtype.itemsize
        if kind == "f":
            return array.astype(np.float32)
        if kind == "i" or (kind == "u" and size < 8):
            return array.astype(np.int64)
        try:
            return _host_array(array, where=f"gpucnn.load: {self.path}: array {key!r}")
        except (TypeError, ValueError) as error:
            raise self.bad(f"holds {key!r}, which cannot be a tensor ({error})") from None

    # ---------------------------------------------------------------- trees: checking
    def parse(self, text):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            raise self.bad("has a corrupt structure record (gpucnn.tree)") from None

    def scan(self, tree) -> set:
        """Check every node of `tree` (nothing is created, nothing imported); the classes of
        its modules, as (module, qualname) pairs."""
        self._classes, self._ids = set(), {}
        try:
            self._scan(tree, 0)
        except RecursionError:
            raise self.bad("has a structure record nested too deeply") from None
        return self._classes

    def _damaged(self, what="") -> ValueError:
        return self.bad(f"has a damaged structure record (gpucnn.tree){what}")

    def _kind(self, item):
        if not isinstance(item, dict) or len(item) != 1:
            raise self._damaged()
        (kind, value), = item.items()
        return kind, value

    def _array_key(self, key, kind):
        if not isinstance(key, str) or key not in self.arrays:
            raise self.bad(f"names an array {key!r} it does not hold")
        if kind == "t" and self.table.get(key, {}).get("type") == "numpy":
            raise self._damaged(f": {key!r} is recorded as both a tensor and an array")

    def _scan(self, item, depth):
        if depth > MAX_DEPTH:
            raise self._damaged(f": nested more than {MAX_DEPTH} levels deep")
        kind, value = self._kind(item)
        if kind in ("t", "a"):
            self._array_key(value, kind)
        elif kind == "v":
            if not (value is None or isinstance(value, (bool, int, float, str))):
                raise self._damaged()
        elif kind == "f":
            if value not in ("nan", "inf", "-inf"):
                raise self._damaged()
        elif kind in ("l", "u"):
            if not isinstance(value, list):
                raise self._damaged()
            for v in value:
                self._scan(v, depth + 1)
        elif kind in ("d", "o"):
            for _, v in self._pairs(value, int):
                self._scan(v, depth + 1)
        elif kind == "dtype":
            if value not in DTYPE_NAMES:
                raise self._damaged(f": unknown dtype {value!r}")
        elif kind == "device":
            if not _is_device_name(value):
                raise self._damaged(f": unknown device {value!r}")
        elif kind == "class":
            self._class(value)
        elif kind == "m":
            self._record(value, depth)
        elif kind == "ref":
            self._reference(value)
        else:
            raise self._damaged()

    def _pairs(self, value, keys=None) -> list:
        """[[key, node], ...] with distinct keys: strings, or ints too where `keys` is int."""
        if not isinstance(value, list):
            raise self._damaged()
        seen = set()
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2 and not isinstance(pair[0], bool)
                    and isinstance(pair[0], (str, keys or str)) and pair[0] not in seen):
                raise self._damaged()
            seen.add(pair[0])
        return value

    def _class(self, spec):
        if not (isinstance(spec, list) and len(spec) == 2 and all(isinstance(s, str) for s in spec)
                and all(_NAME.match(p) for s in spec for p in s.split("."))):
            raise self._damaged(f": a class name {spec!r}")
        self._classes.add(tuple(spec))

    def _reference(self, number):
        state = self._ids.get(number) if isinstance(number, int) else None
        if state == "open":
            raise self.bad(f"has a cyclic reference: module {number} contains itself")
        if state is None:
            raise self._damaged(f": a reference to module {number!r}, which no record before "
                                f"it defines")

    def _record(self, record, depth):
        if not isinstance(record, dict) or set(record) != RECORD_FIELDS:
            raise self._damaged(": a module record without its fields")
        number = record["id"]
        if isinstance(number, bool) or not isinstance(number, int) or number in self._ids:
            raise self._damaged(f": module number {number!r} defined twice or not an int")
        self._class(record["class"])
        if not isinstance(record["training"], bool):
            raise self._damaged(f": module {number}'s training flag is {record['training']!r}")
        self._ids[number] = "open"
        for field in ("parameters", "buffers"):
            for name, node in self._pairs(record[field]):
                if node == {"v": None}:
                    continue
                kind, key = self._kind(node)
                if kind != "t":
                    raise self._damaged(f": module {number}'s {field} {name!r} is not a tensor")
                self._array_key(key, "t")
                if field == "parameters" and self.table.get(key, {}).get("type") != "parameter":
                    raise self._damaged(f": module {number}'s parameter {name!r} is not a "
                                        f"Parameter")
        buffers = {name for name, _ in record["buffers"]}
        hidden = record["non_persistent"]
        if not isinstance(hidden, list) or not all(isinstance(n, str) and n in buffers
                                                   for n in hidden):
            raise self._damaged(f": module {number}'s non-persistent buffers {hidden!r}")
        for name, node in self._pairs(record["modules"]):
            if node != {"v": None} and self._kind(node)[0] not in ("m", "ref"):
                raise self._damaged(f": module {number}'s child {name!r} is not a module")
            self._scan(node, depth + 1)
        for name, node in self._pairs(record["attributes"]):
            if name in REGISTRIES:
                raise self._damaged(f": module {number} has an attribute {name!r}")
            self._scan(node, depth + 1)
        self._ids[number] = "done"

    # ---------------------------------------------------------------- trees: building
    def build(self, tree, classes):
        """The objects of a scanned tree; `classes` maps each (module, qualname) to its class."""
        self._classes_by_spec = classes
        return self._build(tree)

    def _build(self, item):
        (kind, value), = item.items()
        if kind == "t":
            return self._tensor(value)
        if kind == "a":
            return self.arrays[value]
        if kind == "v":
            return value
        if kind == "f":
            return float(value)
        if kind == "l":
            return [self._build(v) for v in value]
        if kind == "u":
            return tuple(self._build(v) for v in value)
        if kind == "d":
            return {key: self._build(v) for key, v in value}
        if kind == "o":
            return OrderedDict((key, self._build(v)) for key, v in value)
        if kind == "dtype":
            return getattr(dtypes, value)
        if kind == "device":
            return Device(value)
        if kind == "class":
            return self._classes_by_spec[tuple(value)]
        if kind == "ref":
            return self._built_modules[value]
        return self._build_module(value)

    def _build_module(self, record):
        cls = self._classes_by_spec[tuple(record["class"])]
        try:
            module = cls.__new__(cls)
        except Exception as error:
            raise self.bad(f"holds a {cls.__qualname__} that cannot be created without "
                           f"arguments ({type(error).__name__}: {error})") from None
        state = vars(Module())               # fresh registries (hooks), then the file's
        state["training"] = record["training"]
        state["_parameters"] = OrderedDict((name, self._build(node))
                                           for name, node in record["parameters"])
        state["_buffers"] = OrderedDict((name, self._build(node))
                                        for name, node in record["buffers"])
        state["_non_persistent_buffers"] = set(record["non_persistent"])
        state["_modules"] = OrderedDict((name, self._build(node))
                                        for name, node in record["modules"])
        for name, node in record["attributes"]:
            state[name] = self._build(node)
        module.__dict__.update(state)
        self._built_modules[record["id"]] = module
        return module
