"""`gpucnn.save` / `gpucnn.load`, torch.save's and torch.load's API over the safetensors format.

safetensors is an 8-byte header length, a JSON header (dtype, shape, byte range of each
tensor, optional string metadata) and the raw little-endian bytes: nothing in it is executed
on load, unlike pickle.

What can be saved is what a PyTorch script saves with torch.save:

* a flat dict of tensors (a state_dict): its tensors are the file's arrays under their keys,
  readable by any safetensors reader; `load` gives back a dict of gpucnn Tensors;
* a nested structure of dicts (string or int keys), lists, tuples, tensors, NumPy arrays,
  numbers, strings, None, dtypes and devices, e.g. {"model": model.state_dict(),
  "optimizer": optimizer.state_dict(), "epoch": 3}, or a list of class names;
* whole modules (`gpucnn.save(model, path)`), also inside such a structure.

The structure is a JSON tree in the metadata, beside a table of what the arrays alone do not
say (a tensor's device, requires_grad, whether it is a Parameter); gpucnn/object_tree.py
describes both. Tensors load on the device they were saved from, or on `map_location`'s (a
CUDA tensor on a machine without CUDA is torch's RuntimeError, which map_location="cpu"
avoids). Anything else (a function, an optimizer object) is a TypeError naming where it is,
raised before the file is touched: nothing is pickled.

A module cannot be pickled here, so it is saved as what its pickle would hold: its class by
name (module and qualified name) and its instance dictionary, laid out as JSON: plain
attributes (JSON-able values, dtypes, devices, tensors, other modules), its parameters (with
requires_grad), its buffers (and which are non-persistent), its children in order. A module
or tensor met twice is stored once and comes back as one object (tied weights stay tied).
Loading must find each class by name, which means importing the module that defines it, and
importing runs code. So, as torch.load since PyTorch 2.6, `load` refuses such a file unless
`weights_only=False` (safe by default; the user opts in for files they trust), with torch's
"Weights only load failed" message; or unless the classes were allowed with
`add_safe_globals` / `safe_globals` (then nothing is imported). With `weights_only=False`
the whole tree is checked first, then each class imported and accepted only if it is a
gpucnn.nn.Module subclass (a file naming os.system is refused), then each module created
with `cls.__new__(cls)` (no __init__ runs) and its dictionary restored, as torch's
Module.__setstate__ does.

Loading checks before it reads: the file must be a regular file, and safetensors' own parser
(Rust) validates the header against the file's size before any tensor is read (a header
longer than the file, or than safetensors' 100 MB limit, deeply nested JSON, offsets that
overlap, leave gaps or run past the end: all refused), then reads one tensor at a time. Memory
is bounded by the file's size. Every problem with the content, the tree and the table
included (a class that does not exist, a reference to a missing tensor, a cycle, nesting
deeper than 64), is a ValueError naming the file. bfloat16 tensors load as float32 (exactly:
bfloat16 is float32's upper half).

Saving writes a temporary file beside the target, flushes it to disk and renames it over the
target, so an interrupted save never destroys the previous file. The temporary file's name is
fixed per target (`.NAME.partial`), so a killed save leaves at most one file behind, which the
next save of that target replaces. The saved file has the mode a new file gets under the
umask, or keeps the mode of the file it replaces; a target that is a symbolic link is written
through (the link stays, its target gets the new contents).
"""
import contextlib
import json
import os
import stat
from pickle import UnpicklingError   # torch.load's exception type only: nothing is unpickled

import numpy as np
from safetensors import SafetensorError, safe_open

from . import cuda
from .devices import parse as parse_device
from .devices import resolve as resolve_device
from .nn.module import Module
from .object_tree import Decoder, Encoder, import_class
from .tensor import Tensor

_ORDER_KEY = "gpucnn.key_order"
_TREE_KEY = "gpucnn.tree"
_TABLE_KEY = "gpucnn.tensors"
_DTYPE_CODES = {"f8": "F64", "f4": "F32", "f2": "F16", "i8": "I64", "i4": "I32", "i2": "I16",
                "i1": "I8", "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8", "b1": "BOOL"}


def _metadata_text(key, value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"gpucnn.save: metadata {key!r} is not a string or JSON-serialisable "
                        f"({type(value).__name__}: {error})") from None


def _is_flat(obj) -> bool:
    """A dict of string keys to tensors and arrays (a state_dict): saved as the arrays
    themselves, so that any safetensors reader sees them under their keys."""
    return isinstance(obj, dict) and all(
        isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items())


def save(obj, f, metadata=None):
    """Write `obj` atomically to the file `f` (a path): a dict of tensors (a state_dict), a
    whole module, or a nested structure of tensors, arrays, numbers, strings and modules (see
    the module's docstring). Anything that cannot be saved is a TypeError before the file is
    touched."""
    encoder = Encoder()
    tree = None
    if _is_flat(obj):
        for key, value in obj.items():
            encoder.entry(key, value)
    else:
        tree = encoder.node(obj)
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"gpucnn.save: metadata must be a dict, got {type(metadata).__name__}")
    texts = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"gpucnn.save: metadata keys must be strings, got {key!r}")
        texts[key] = _metadata_text(key, value)
    # The header is sorted; the key order (PyTorch's parameter order) is kept here.
    texts[_ORDER_KEY] = json.dumps(list(encoder.arrays))
    if tree is not None:
        texts[_TREE_KEY] = json.dumps(tree, allow_nan=False)
    if encoder.table:
        texts[_TABLE_KEY] = json.dumps(encoder.table, sort_keys=True)
    write_atomically(f, _safetensors_chunks(encoder.arrays, texts))


def _safetensors_chunks(arrays: dict, metadata: dict) -> list:
    """The file as a list of byte chunks: the header, then each array's little-endian bytes,
    streamed to disk without one big copy. Written here rather than by safetensors' own writer
    because that one orders the metadata by a randomly seeded hash: two saves of the same
    state would differ in bytes. Here the header is sorted, so they do not."""
    header = {"__metadata__": dict(sorted(metadata.items()))}
    data, offset = [], 0
    for key in sorted(arrays):
        array = arrays[key]
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        code = _DTYPE_CODES[f"{little.dtype.kind}{little.dtype.itemsize}"]
        header[key] = {"dtype": code, "shape": list(array.shape),
                       "data_offsets": [offset, offset + little.nbytes]}
        offset += little.nbytes
        if little.size:
            data.append(memoryview(np.require(little, None, "C").reshape(-1)).cast("B"))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)          # the data starts 8-byte aligned, as safetensors'
    return [len(text).to_bytes(8, "little"), text, *data]


def partial_path(path) -> str:
    """The temporary file a save of `path` writes before renaming it over `path`."""
    target = os.path.realpath(os.fspath(path))
    return os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.partial")


def write_atomically(path, payload):
    """Write `payload` (bytes, or a list of byte chunks) to `path` through a temporary file,
    flushed to disk and renamed over it."""
    target = os.path.realpath(os.fspath(path))   # through a symbolic link, to its target
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None                             # a new file: what the umask gives
    tmp = partial_path(target)
    try:
        os.unlink(tmp)                          # what a killed save left behind
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            for chunk in [payload] if isinstance(payload, (bytes, bytearray)) else payload:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _bad(path, what):
    return ValueError(f"gpucnn.load: {path} {what}")


# ================================================================ weights_only

class WeightsOnlyLoadError(UnpicklingError, ValueError):
    """A file holding whole modules, refused by `load(weights_only=True)`: torch.load raises
    pickle.UnpicklingError there (so `except pickle.UnpicklingError` works as with torch),
    and a ValueError naming the file is what gpucnn raises for every file it will not load.
    Nothing is ever unpickled: the class is only torch's exception type."""


_safe_classes = {}   # (module, qualname) -> class: loaded with weights_only=True too


def add_safe_globals(safe_globals):
    """Allow `load(weights_only=True)` to create these gpucnn.nn.Module subclasses, as
    torch.serialization.add_safe_globals: for classes you trust (loading creates them
    without running __init__ and restores their attributes; no module is imported)."""
    classes = list(safe_globals)
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"add_safe_globals: {cls!r} is not a gpucnn.nn.Module subclass; "
                            f"gpucnn files hold tensors, plain values and modules only, so no "
                            f"other object needs allowing")
    for cls in classes:
        _safe_classes[(cls.__module__, cls.__qualname__)] = cls


def get_safe_globals() -> list:
    """The classes add_safe_globals allowed."""
    return list(_safe_classes.values())


def clear_safe_globals():
    _safe_classes.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """`with safe_globals([Net]):` add_safe_globals for the block only."""
    before = dict(_safe_classes)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_classes.clear()
        _safe_classes.update(before)


def _weights_only_refusal(path, names) -> WeightsOnlyLoadError:
    """torch 2.13's message for an unsupported global, with gpucnn's names."""
    listed = ", ".join(names)
    return WeightsOnlyLoadError(
        f"gpucnn.load: {path}: Weights only load failed. This file can still be loaded, to do "
        f"so you have two options, do those steps only if you trust the source of the "
        f"checkpoint.\n\t(1) As in PyTorch since 2.6, the default value of the `weights_only` "
        f"argument of `load` is `True`. Re-running `gpucnn.load` with `weights_only` set to "
        f"`False` will likely succeed, but it can result in arbitrary code execution (it "
        f"imports the modules that define the classes the file names). Do it only if you got "
        f"the file from a trusted source.\n\t(2) Alternatively, to load with "
        f"`weights_only=True` please check the recommended steps in the following error "
        f"message.\n\tUnsupported global: the file holds modules of class {listed}, which "
        f"are not allowed by default. Please use `gpucnn.serialization.add_safe_globals("
        f"[{listed}])` or the `gpucnn.serialization.safe_globals([{listed}])` context manager "
        f"to allowlist these classes if you trust them.")


def _classes(path, specs, weights_only) -> dict:
    """(module, qualname) -> class for every class a tree names: allowlisted ones only when
    weights_only, else found by name (importing modules not loaded yet)."""
    if weights_only:
        refused = sorted(".".join(spec) for spec in specs if spec not in _safe_classes)
        if refused:
            raise _weights_only_refusal(path, refused)
        return {spec: _safe_classes[spec] for spec in specs}
    classes = {}
    for spec in sorted(specs):
        try:
            classes[spec] = import_class(spec)
        except ValueError as error:
            raise _bad(path, str(error)) from None
    return classes


# ================================================================ loading

def _placement(map_location):
    """place(tag) -> the device a tensor saved on `tag` ("cpu", "cuda:1") is loaded on, as
    torch.load's map_location: None keeps the saved device, a device (or its name) takes
    every tensor there, a dict maps saved tags to devices (tags it does not name stay).
    gpucnn runs on one GPU per process, so any saved "cuda:N" loads on this process's GPU."""
    if callable(map_location):
        raise TypeError("gpucnn.load: map_location as a function (storage, location) is not "
                        "supported (gpucnn has no storages); give a device, its name, or a dict "
                        "of saved locations to devices, e.g. {'cuda:0': 'cpu'}")
    if map_location is not None and not isinstance(map_location, (str, dict)):
        raise TypeError(f"gpucnn.load: map_location must be a device, its name or a dict, got "
                        f"{type(map_location).__name__}")
    for name in (map_location.values() if isinstance(map_location, dict) else [map_location]):
        if name is not None:
            try:
                parse_device(name)
            except ValueError as error:
                raise ValueError(f"gpucnn.load: map_location: {error}") from None
    chosen = {}

    def place(tag):
        if tag not in chosen:
            target = (map_location.get(tag, tag) if isinstance(map_location, dict)
                      else map_location or tag)
            if target != tag:                  # asked for: that device, checked to exist
                chosen[tag] = resolve_device(target)
            elif parse_device(tag)[0] == "cpu":
                chosen[tag] = resolve_device("cpu")
            elif not cuda.is_available():      # kept from the file: torch's error and advice
                raise RuntimeError(
                    "gpucnn.load: Attempting to deserialize object on a CUDA device but "
                    "gpucnn.cuda.is_available() is False. If you are running on a CPU-only "
                    "machine, please use gpucnn.load with map_location=gpucnn.device('cpu') "
                    "to map your storages to the CPU.")
            else:
                chosen[tag] = resolve_device("cuda")   # this process's GPU
        return chosen[tag]
    return place


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         with_metadata=False, **pickle_load_args):
    """Read a file written by `save` (or by any safetensors writer), torch.load's way: what
    was saved comes back as saved, tensors as gpucnn Tensors on the device they were saved
    from (or `map_location`'s), in the order they were saved; with `with_metadata=True`,
    also the file's metadata (a dict of strings).

    weights_only (default True, as torch.load's since PyTorch 2.6) refuses a file holding
    whole modules, whose classes loading would have to find by name: `weights_only=False`
    loads it, for files you trust (see the module's docstring). Everything else loads either
    way, NumPy arrays too (torch's unpickler refuses those by default): nothing in a gpucnn
    file is code. pickle_module and pickle's own arguments have
    nothing to apply to here (no pickle); mmap is accepted as torch's (safetensors reads
    through a memory map anyway).

    A missing or unreadable file is an OSError; anything wrong with its content a ValueError
    naming the file.
    """
    if pickle_module is not None or pickle_load_args:
        given = ["pickle_module"] * (pickle_module is not None) + sorted(pickle_load_args)
        raise TypeError(f"gpucnn.load: {', '.join(given)} apply to pickled files; gpucnn files "
                        f"are safetensors (no pickle), so they take no unpickling options")
    if weights_only not in (None, True, False) or mmap not in (None, True, False):
        raise TypeError(f"gpucnn.load: weights_only and mmap must be True, False or None, got "
                        f"{weights_only!r} and {mmap!r}")
    weights_only = weights_only is not False
    place = _placement(map_location)
    path = os.fspath(f)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise _bad(path, "is not a regular file")
    if info.st_size < 8:
        raise _bad(path, f"is truncated ({info.st_size} bytes): not a safetensors file")
    with open(path, "rb") as raw:
        header_len = int.from_bytes(raw.read(8), "little")
    if header_len > info.st_size - 8:
        raise _bad(path, f"is truncated or not a safetensors file (a header of {header_len} "
                         f"bytes in a file of {info.st_size})")
    try:
        with safe_open(path, framework="numpy") as opened:
            metadata = dict(opened.metadata() or {})
            keys = list(opened.keys())
            arrays = {key: _read_tensor(path, opened, key) for key in keys}
    except SafetensorError as error:
        reason = " ".join(str(error).split())
        if "JSON" in reason:
            raise _bad(path, f"has a corrupt header ({reason})") from None
        if "not fully covered" in reason or "offset" in reason:
            raise _bad(path, f"is truncated or damaged ({reason})") from None
        raise _bad(path, f"is not a valid safetensors file ({reason})") from None
    order = _key_order(metadata.pop(_ORDER_KEY, None), arrays)
    arrays = {key: arrays[key] for key in order}
    tree_text = metadata.pop(_TREE_KEY, None)
    decoder = Decoder(path, arrays, metadata.pop(_TABLE_KEY, None), place)
    if tree_text is None:
        result = {key: decoder.entry(key) for key in arrays}
    else:
        tree = decoder.parse(tree_text)
        classes = _classes(path, decoder.scan(tree), weights_only)
        result = decoder.build(tree, classes)
    return (result, metadata) if with_metadata else result


def _read_tensor(path, f, key):
    dtype = f.get_slice(key).get_dtype()
    if dtype == "BF16":
        return _bfloat16_as_float32(path, key)
    try:
        return f.get_tensor(key)
    except TypeError as error:  # a dtype NumPy lacks (float8 variants)
        raise _bad(path, f"holds {key!r} as {dtype}, which gpucnn cannot read ({error}); "
                         f"save it as float32") from None


def _bfloat16_as_float32(path, key):
    """A bfloat16 tensor widened to float32: its 16 bits become a float32's upper half. The
    header was validated by safetensors before this reads the offsets it states."""
    with open(path, "rb") as raw:
        header_len = int.from_bytes(raw.read(8), "little")
        entry = json.loads(raw.read(header_len))[key]
        begin, end = entry["data_offsets"]
        raw.seek(8 + header_len + begin)
        bits = np.frombuffer(raw.read(end - begin), dtype="<u2")
    return (bits.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


def _key_order(recorded, arrays):
    try:
        order = json.loads(recorded) if recorded else []
    except ValueError:
        order = []
    if (not isinstance(order, list) or not all(isinstance(k, str) for k in order)
            or sorted(order) != sorted(arrays)):
        return list(arrays)  # written by another tool: keep the file's order
    return order
