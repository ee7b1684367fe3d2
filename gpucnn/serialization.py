"""`gpucnn.save` / `gpucnn.load`: dicts of arrays in the safetensors format.

safetensors is an 8-byte header length, a JSON header (dtype, shape, byte range of each
tensor, optional string metadata) and the raw little-endian bytes: nothing in it is executed
on load, unlike pickle.

Loading checks before it reads: the file must be a regular file, and safetensors' own parser
(Rust) validates the header against the file's size before any tensor is read (a header
longer than the file, or than safetensors' 100 MB limit, deeply nested JSON, offsets that
overlap, leave gaps or run past the end: all refused), then reads one tensor at a time. Memory
is bounded by the file's size. Every problem with the content is a ValueError naming the file.
bfloat16 tensors load as float32 (exactly: bfloat16 is float32's upper half).

Besides a flat dict of arrays (a state_dict), `save` takes what a training script saves with
torch.save: a nested structure of dicts (string or int keys), lists, tuples, tensors, NumPy
arrays, numbers, strings and None, e.g. {"model": model.state_dict(), "optimizer":
optimizer.state_dict(), "epoch": 3}. Its tensors become the file's arrays (named by their path
in the structure, "model/conv1.weight") and its shape a JSON tree in the metadata; `load`
rebuilds it, tensors as gpucnn Tensors (on `map_location`). Anything else (a model object, a
function) is a TypeError naming where it is: nothing is pickled.

Saving writes a temporary file beside the target, flushes it to disk and renames it over the
target, so an interrupted save never destroys the previous file. The temporary file's name is
fixed per target (`.NAME.partial`), so a killed save leaves at most one file behind, which the
next save of that target replaces. The saved file has the mode a new file gets under the
umask, or keeps the mode of the file it replaces; a target that is a symbolic link is written
through (the link stays, its target gets the new contents).
"""
import json
import os
import stat

import numpy as np
from safetensors import SafetensorError, safe_open

from .tensor import Tensor

_SAVABLE_KINDS = "fiub"
_ORDER_KEY = "gpucnn.key_order"
_TREE_KEY = "gpucnn.tree"
_MAX_DEPTH = 64     # nesting a loaded tree may have (a hostile file cannot exhaust the stack)
_DTYPE_CODES = {"f8": "F64", "f4": "F32", "f2": "F16", "i8": "I64", "i4": "I32", "i2": "I16",
                "i1": "I8", "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8", "b1": "BOOL"}


def _to_numpy(key, value):
    if isinstance(value, Tensor):
        return value.numpy()
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (int, float, bool, np.number, list, tuple)):
        array = np.asarray(value)
    else:
        raise TypeError(f"gpucnn.save: value for {key!r} is a {type(value).__name__}; only arrays, "
                        f"tensors and numbers can be saved")
    if array.dtype.kind not in _SAVABLE_KINDS:
        raise TypeError(f"gpucnn.save: value for {key!r} has dtype {array.dtype}; only numeric "
                        f"arrays can be saved")
    return np.require(array, None, "C")  # keeps 0-d arrays 0-d


def _metadata_text(key, value) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"gpucnn.save: metadata {key!r} is not a string or JSON-serialisable "
                        f"({type(value).__name__}: {error})") from None


def _is_flat(obj) -> bool:
    """A dict of string keys to arrays, tensors or numbers: saved as the arrays themselves."""
    return isinstance(obj, dict) and all(
        isinstance(k, str) and isinstance(v, (Tensor, np.ndarray, int, float, np.number, list,
                                              tuple))
        for k, v in obj.items())


def _flatten(obj, path, arrays, depth=0):
    """The JSON tree of `obj`, its tensors and arrays moved into `arrays` by path."""
    where = f"'{'/'.join(path)}'" if path else "the saved object"
    if depth > _MAX_DEPTH:
        raise TypeError(f"gpucnn.save: {where} is nested more than {_MAX_DEPTH} levels deep")
    if isinstance(obj, (Tensor, np.ndarray)):
        key = "/".join(path)
        arrays[key] = _to_numpy(key, obj)
        return {"t" if isinstance(obj, Tensor) else "a": key}
    if obj is None or isinstance(obj, (bool, str)):
        return {"v": obj}
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
            items.append([key, _flatten(value, (*path, str(key)), arrays, depth + 1)])
        return {"d": items}
    if isinstance(obj, (list, tuple)):
        nodes = [_flatten(v, (*path, str(i)), arrays, depth + 1) for i, v in enumerate(obj)]
        return {"l" if isinstance(obj, list) else "u": nodes}
    raise TypeError(f"gpucnn.save: {where} is a {type(obj).__name__}; gpucnn saves tensors, "
                    f"arrays, numbers, strings, None and dicts/lists/tuples of them (no pickle): "
                    f"save model.state_dict(), not the model")


def save(obj, path, metadata=None):
    """Write `obj` atomically to `path`: a dict of arrays (NumPy arrays, Tensors or numbers),
    or a nested structure of them (see the module's docstring)."""
    tree = None
    if _is_flat(obj):
        arrays = {key: _to_numpy(key, value) for key, value in obj.items()}
    elif isinstance(obj, (dict, list, tuple)):
        arrays = {}
        tree = _flatten(obj, (), arrays)
    else:
        raise TypeError(f"gpucnn.save: expected a dict of arrays (a state_dict) or a dict, "
                        f"list or tuple of them, got {type(obj).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"gpucnn.save: metadata must be a dict, got {type(metadata).__name__}")
    texts = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"gpucnn.save: metadata keys must be strings, got {key!r}")
        texts[key] = _metadata_text(key, value)
    # The header is sorted; the key order (PyTorch's parameter order) is kept here.
    texts[_ORDER_KEY] = json.dumps(list(arrays))
    if tree is not None:
        texts[_TREE_KEY] = json.dumps(tree, allow_nan=False)
    write_atomically(path, _safetensors_chunks(arrays, texts))


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


def load(path, with_metadata=False, map_location=None, weights_only=True):
    """Read a file written by `save` (or by safetensors): a dict of NumPy arrays, in the order
    they were saved, and its metadata if asked. A nested structure saved by `save` comes back
    as saved, its tensors as gpucnn Tensors on `map_location` ("cpu" by default; a device or
    its name). weights_only is accepted for PyTorch's signature: nothing is ever unpickled.

    A missing or unreadable file is an OSError; anything wrong with its content a ValueError
    naming the file.
    """
    path = os.fspath(path)
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
        with safe_open(path, framework="numpy") as f:
            metadata = dict(f.metadata() or {})
            keys = list(f.keys())
            arrays = {key: _read_tensor(path, f, key) for key in keys}
    except SafetensorError as error:
        reason = " ".join(str(error).split())
        if "JSON" in reason:
            raise _bad(path, f"has a corrupt header ({reason})") from None
        if "not fully covered" in reason or "offset" in reason:
            raise _bad(path, f"is truncated or damaged ({reason})") from None
        raise _bad(path, f"is not a valid safetensors file ({reason})") from None
    order = _key_order(metadata.pop(_ORDER_KEY, None), arrays)
    arrays = {key: arrays[key] for key in order}
    tree = metadata.pop(_TREE_KEY, None)
    result = arrays if tree is None else _rebuild(path, tree, arrays, map_location)
    return (result, metadata) if with_metadata else result


def _rebuild(path, text, arrays, map_location):
    """The structure `save` flattened, every node checked (a damaged file is a ValueError)."""
    from .factories import tensor
    device = "cpu" if map_location is None else str(map_location)
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad(path, "has a corrupt structure record (gpucnn.tree)") from None

    def node(item, depth):
        if depth > _MAX_DEPTH or not isinstance(item, dict) or len(item) != 1:
            raise _bad(path, "has a damaged structure record (gpucnn.tree)")
        (kind, value), = item.items()
        if kind in ("t", "a"):
            if not isinstance(value, str) or value not in arrays:
                raise _bad(path, f"names an array {value!r} it does not hold")
            return tensor(arrays[value], device=device) if kind == "t" else arrays[value]
        if kind == "v" and (value is None or isinstance(value, (bool, int, float, str))):
            return value
        if kind == "f" and value in ("nan", "inf", "-inf"):
            return float(value)
        if kind in ("l", "u") and isinstance(value, list):
            items = [node(v, depth + 1) for v in value]
            return items if kind == "l" else tuple(items)
        if kind == "d" and isinstance(value, list) and all(
                isinstance(e, list) and len(e) == 2 and isinstance(e[0], (str, int))
                and not isinstance(e[0], bool) for e in value):
            return {key: node(v, depth + 1) for key, v in value}
        raise _bad(path, "has a damaged structure record (gpucnn.tree)")

    try:
        return node(tree, 0)
    except (TypeError, ValueError) as error:
        if str(error).startswith("gpucnn.load"):
            raise
        raise _bad(path, f"holds a value that cannot be restored ({error})") from None


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
