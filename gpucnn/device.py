"""Device names, resolved in one place: "cpu", "cuda", "cuda:N", and "auto" for the commands.

    resolve("cuda:0") -> "cuda"        the engine's name for the device
    resolve("auto", allow_auto=True)   "cuda" when numba sees a GPU, else "cpu"

gpucnn runs on one GPU per process (as a data-parallel rank does): "cuda:N" selects GPU N for
the process the first time "cuda" is used, and naming another one afterwards is an error. An
unknown name, an index beyond the visible GPUs, or "cuda" on a machine without one is refused
with a message that says what exists.
"""
from . import cuda

DEVICES = ("cpu", "cuda")


def parse(name) -> tuple[str, int | None]:
    """("cpu" | "cuda", index or None) from a device name; ValueError for anything else."""
    text = "cpu" if name is None else str(name)
    kind, sep, index = text.partition(":")
    if kind not in DEVICES or (sep and not index.isdigit()):
        raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
    return kind, int(index) if sep else None


def resolve(name, allow_auto: bool = False) -> str:
    """The engine's device name ("cpu" or "cuda") for `name`, checking that it exists."""
    if allow_auto and name == "auto":
        return "cuda" if cuda.is_available() else "cpu"
    try:
        kind, index = parse(name)
    except ValueError:
        choices = "'auto', 'cpu', 'cuda' or 'cuda:N'" if allow_auto else "'cpu', 'cuda' or 'cuda:N'"
        raise ValueError(f"unknown device {name!r}: expected {choices}") from None
    if kind == "cuda":
        if not cuda.is_available():
            raise RuntimeError(f"device {name!r} requested but no CUDA GPU is available "
                               f"(gpucnn.cuda.is_available() is False); use device='cpu'")
        cuda.use_device(0 if index is None else index)
    return kind


def resolve_option(name) -> str:
    """resolve(name, allow_auto=True) for a command's --device option: any problem is a
    ValueError whose message starts with the option, ready to print as one line."""
    try:
        return resolve(name, allow_auto=True)
    except RuntimeError:
        raise ValueError(f"--device {name}: no CUDA GPU is available (numba finds no driver or "
                         f"device); use --device cpu or --device auto") from None
    except ValueError as error:
        raise ValueError(f"--device: {error}") from None
