"""Small file helpers: JSON written atomically, paths checked before any work starts."""
from pathlib import Path

from ..jsonfile import write_json  # noqa: F401  (the commands write their JSON through it)
from .errors import UserError


def check_output_path(option: str, path):
    """Refuse an output path that is a directory, before training spends any time."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path} is a directory; give a file name")
    return path
