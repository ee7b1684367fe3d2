"""`gpucnn.save` / `gpucnn.load`: dicts of arrays in the safetensors format.

safetensors is an 8-byte header length, a JSON header (dtype, shape, byte range of each
tensor, optional string metadata) and the raw little-endian bytes: nothing in it is executed
on load, unlike pickle. Files are written to a temporary file beside the target, flushed to
disk, then renamed over it, so an interrupted save never leaves a half-written file under the
final name.
"""
import json
import os
import tempfile

import numpy as np

from .tensor import Tensor

_ALLOWED_KINDS = "fiub"
_ORDER_KEY = "gpucnn.key_order"


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
    if array.dtype.kind not in _ALLOWED_KINDS:
        raise TypeError(f"gpucnn.save: value for {key!r} has dtype {array.dtype}; only numeric "
                        f"arrays can be saved")
    return np.require(array, None, "C")  # keeps 0-d arrays 0-d


def save(state_dict, path, metadata=None):
    """Write a dict of arrays (NumPy arrays, Tensors or numbers) atomically to `path`."""
    from safetensors.numpy import save as to_bytes
    if not isinstance(state_dict, dict):
        raise TypeError(f"gpucnn.save: expected a dict of arrays, got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"gpucnn.save: keys must be strings, got {key!r}")
        arrays[key] = _to_numpy(key, value)
    metadata = {str(k): v if isinstance(v, str) else json.dumps(v)
                for k, v in (metadata or {}).items()}
    # safetensors sorts its header; the key order (PyTorch's parameter order) is kept here.
    metadata[_ORDER_KEY] = json.dumps(list(arrays))
    payload = to_bytes(arrays, metadata=metadata)
    write_atomically(path, payload)


def write_atomically(path, payload: bytes):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path, with_metadata=False):
    """Read a file written by `save`: a dict of NumPy arrays (and its metadata if asked).

    Truncated, corrupt or non-safetensors files raise ValueError naming the file.
    """
    from safetensors.numpy import load as from_bytes
    path = os.fspath(path)
    with open(path, "rb") as f:
        payload = f.read()
    header = _read_header(path, payload)
    try:
        arrays = from_bytes(payload)
    except Exception as error:  # safetensors raises its own error type for bad files
        raise ValueError(f"gpucnn.load: {path} is not a valid safetensors file ({error})") from None
    metadata = dict(header.get("__metadata__") or {})
    order = _key_order(metadata.pop(_ORDER_KEY, None), arrays)
    arrays = {key: arrays[key] for key in order}
    if with_metadata:
        return arrays, metadata
    return arrays


def _key_order(recorded, arrays):
    try:
        order = json.loads(recorded) if recorded else []
    except ValueError:
        order = []
    if sorted(order) != sorted(arrays):  # written by another tool: keep the file's order
        return list(arrays)
    return order


def _read_header(path, payload):
    if len(payload) < 8:
        raise ValueError(f"gpucnn.load: {path} is truncated ({len(payload)} bytes)")
    header_len = int.from_bytes(payload[:8], "little")
    if header_len > len(payload) - 8 or header_len > 100 * 2**20:
        raise ValueError(f"gpucnn.load: {path} is truncated or not a safetensors file "
                         f"(header of {header_len} bytes, file of {len(payload)})")
    try:
        header = json.loads(payload[8:8 + header_len])
    except ValueError:
        raise ValueError(f"gpucnn.load: {path} has a corrupt header") from None
    if not isinstance(header, dict):
        raise ValueError(f"gpucnn.load: {path} has a corrupt header")
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(entry, dict) or "data_offsets" not in entry:
            raise ValueError(f"gpucnn.load: {path}: entry {key!r} is not an array")
        end = max(end, entry["data_offsets"][1])
    if 8 + header_len + end > len(payload):
        raise ValueError(f"gpucnn.load: {path} is truncated ({len(payload)} bytes, the header "
                         f"promises {8 + header_len + end})")
    return header
