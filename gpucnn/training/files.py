"""Small file helpers: JSON written atomically, paths checked before any work starts."""
import json
import math
from pathlib import Path

from ..serialization import write_atomically
from .errors import UserError


def _finite(value):
    """JSON has no NaN/inf: write them as null rather than as invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path, data: dict):
    """Write `data` as indented JSON to a temporary file beside `path`, then rename it over."""
    payload = json.dumps(_finite(data), indent=2, sort_keys=False) + "\n"
    write_atomically(path, payload.encode())


def check_output_path(option: str, path):
    """Refuse an output path that is a directory, before training spends any time."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path} is a directory; give a file name")
    return path
