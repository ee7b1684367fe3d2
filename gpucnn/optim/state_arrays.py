"""An optimizer's state_dict() as flat arrays plus JSON, for files (gpucnn.save takes a flat
dict of arrays and string metadata; torch pickles the nested dict instead).

    arrays, groups = state_dict_to_arrays(optimizer.state_dict())
        arrays  {"<param index>.<name>": host NumPy array}   "0.step", "0.exp_avg", ...
        groups  param_groups as JSON-ready lists and dicts (betas as a list)
    optimizer.load_state_dict(state_dict_from_arrays(arrays, groups))

gpucnn.save(arrays, path, metadata={"param_groups": groups}) writes both in one file; the
training checkpoint stores them the same way under "optimizer." keys.
"""
import numbers

import numpy as np

from ..tensor import Tensor


def state_dict_to_arrays(state_dict):
    """(arrays, groups) from an Optimizer.state_dict()."""
    arrays = {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            arrays[f"{index}.{name}"] = value.numpy() if isinstance(value, Tensor) \
                else np.asarray(value)
    return arrays, [{key: _json_ready(value) for key, value in group.items()}
                    for group in state_dict["param_groups"]]


def state_dict_from_arrays(arrays, groups):
    """The Optimizer.state_dict() that state_dict_to_arrays() flattened (checked for form
    here, for content by load_state_dict)."""
    state = {}
    for key, value in arrays.items():
        head, _, name = str(key).partition(".")
        if not head.isdigit() or not name:
            raise ValueError(f"optimizer state: unexpected key {key!r} (expected "
                             f"'<parameter index>.<name>')")
        state.setdefault(int(head), {})[name] = value
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ValueError(f"optimizer state: param_groups must be a list of dicts, got "
                         f"{groups!r}")
    return {"state": dict(sorted(state.items())), "param_groups": [dict(g) for g in groups]}


def _json_ready(value):
    if isinstance(value, (tuple, list)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, str, numbers.Number)):
        return value
    raise TypeError(f"optimizer state: a group option of type {type(value).__name__} "
                    f"({value!r}) cannot be written as JSON")
