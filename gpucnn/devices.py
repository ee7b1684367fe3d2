"""Devices, resolved in one place: "cpu", "cuda", "cuda:N", and "auto" for the commands.

    device("cuda:0")                   PyTorch's device object: .type "cuda", .index 0
    device(0)                          an int is the accelerator's GPU: cuda:0 (an error
                                       without a GPU, as torch's)
    resolve("cuda:0") -> device        the engine's device ("cpu" or "cuda"), checked to exist
    resolve("auto", allow_auto=True)   "cuda" when numba sees a GPU, else "cpu"

A `device` is a str subclass equal to "cpu" or "cuda", so `t.device == "cuda"` and
`t.device.type == "cuda"` both hold, and `t.device == gpucnn.device("cuda:0")` too.

gpucnn runs on one GPU per process (as a data-parallel rank does): "cuda:N" selects GPU N for
the process the first time "cuda" is used, and naming another one afterwards is an error. An
unknown name, an index beyond the visible GPUs, or "cuda" on a machine without one is refused
with a message that says what exists.
"""
from . import cuda

DEVICES = ("cpu", "cuda")


class device(str):  # noqa: N801  (PyTorch's name)
    """device("cuda"), device("cuda:0"), device("cuda", 0), device("cpu"), device(other)."""

    def __new__(cls, spec, index=None):
        if isinstance(spec, device) and index is None:
            return spec
        if isinstance(spec, int) and not isinstance(spec, bool) and index is None:
            spec = _accelerator_index(spec)
        kind, parsed = parse(spec)
        if index is not None:
            if parsed is not None or isinstance(index, bool) or not isinstance(index, int) \
                    or index < 0:
                raise ValueError(f"device({spec!r}, {index!r}): give the index once, as an int "
                                 f">= 0")
            parsed = index
        if kind == "cpu" and parsed not in (None, 0):
            raise ValueError(f"unknown device {spec!r}: 'cpu' has no index")
        made = super().__new__(cls, kind)
        made.type = kind
        made.index = None if kind == "cpu" else parsed
        return made

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other):
        if isinstance(other, device):
            return self.type == other.type and (self.index is None or other.index is None
                                                or self.index == other.index)
        return str.__eq__(self, other)

    __hash__ = str.__hash__

    def __reduce__(self):
        return (device, (self.type, self.index))


def _accelerator_index(index: int) -> str:
    """torch.device(N): GPU N of the accelerator ("cuda:N"); an error without one."""
    if index < 0:
        raise RuntimeError(f"Device index must not be negative (got device({index}))")
    if not cuda.is_available():
        raise RuntimeError(f"Cannot access accelerator device when none is available "
                           f"(device({index}) means cuda:{index}; gpucnn.cuda.is_available() "
                           f"is False)")
    return f"cuda:{index}"


def parse(name) -> tuple[str, int | None]:
    """("cpu" | "cuda", index or None) from a device name; ValueError for anything else."""
    if isinstance(name, device):
        return name.type, name.index
    text = "cpu" if name is None else str(name)
    kind, sep, index = text.partition(":")
    if kind not in DEVICES or (sep and not index.isdigit()):
        raise ValueError(f"unknown device {name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
    return kind, int(index) if sep else None


def cuda_name(index=None):
    """The device that Tensor.cuda(index) and Module.cuda(index) move to: "cuda" (this
    process's GPU) for None, "cuda:N" for an int N, else the device given."""
    if index is None:
        return "cuda"
    return f"cuda:{index}" if isinstance(index, int) else index


def resolve(name, allow_auto: bool = False) -> device:
    """The engine's device ("cpu" or "cuda") for `name`, checking that it exists."""
    if allow_auto and name == "auto":
        name = "cuda" if cuda.is_available() else "cpu"
    if isinstance(name, int) and not isinstance(name, bool):
        name = f"cuda:{name}"   # PyTorch reads an int device as a GPU index
    try:
        kind, index = parse(name)
    except ValueError:
        choices = "'auto', 'cpu', 'cuda' or 'cuda:N'" if allow_auto else "'cpu', 'cuda' or 'cuda:N'"
        raise ValueError(f"unknown device {name!r}: expected {choices}") from None
    if kind == "cuda":
        if not cuda.is_available():
            raise RuntimeError(f"device {name!r} requested but no CUDA GPU is available "
                               f"(gpucnn.cuda.is_available() is False); use device='cpu'")
        # "cuda" is this process's GPU: one chosen before (a rank's, by its local rank), or 0.
        cuda.use_device(cuda.current_device() if index is None else index)
        return device("cuda", cuda.current_device())
    return device("cpu")


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
