"""JSON files that other tools read: valid JSON (NaN/inf become null), written atomically."""
import json
import math

from .serialization import write_atomically


def finite(value):
    """JSON has no NaN/inf: write them as null rather than as invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def write_json(path, data: dict, indent: int = 2):
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    payload = json.dumps(finite(data), indent=indent, allow_nan=False) + "\n"
    write_atomically(path, payload.encode())
