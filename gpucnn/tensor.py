"""`Tensor`: an array on one device, with an optional gradient and the node that made it."""
import numpy as np

from . import autograd, interop
from .backend import backend
from .device import resolve as resolve_device
from .ops import activation, arithmetic, reduce
from .ops import shape as shape_ops


_INT64_MAX = np.iinfo(np.int64).max


def _as_host_array(data) -> np.ndarray:
    """A new C-contiguous host array with data's values: float becomes float32, integers
    int64 (class labels), bool stays bool. Always a copy, as torch.tensor: the caller's array
    never changes with the tensor (gpucnn.from_numpy is the way to share)."""
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return np.array(array, dtype=np.float32, order="C", copy=True)
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.size and array.max() > _INT64_MAX:
            raise ValueError(f"gpucnn.tensor: {array.dtype} values up to {array.max()} do not fit "
                             f"in int64, the integer type of gpucnn tensors (shape {array.shape})")
        return np.array(array, dtype=np.int64, order="C", copy=True)
    if array.dtype.kind == "b":
        return np.array(array, order="C", copy=True)
    raise TypeError(f"gpucnn.tensor: cannot make a tensor from {array.dtype} data "
                    f"(shape {array.shape}); give float, integer or bool data")


class Tensor:
    __array_priority__ = 1000  # numpy_scalar * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, device=None, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.numpy()
        device = resolve_device(device)
        if not isinstance(data, np.ndarray) and interop.cuda_array_interface(data) is not None:
            # Like torch.tensor, this copies (and converts float64 to float32);
            # gpucnn.from_dlpack is the zero-copy way in.
            data = interop.device_array_from(data).copy_to_host()
        host = _as_host_array(data)
        array = backend(device).from_host(host)
        if device == "cuda" and host.dtype.kind != "f":
            self._labels_on_host = host  # label checks then need no device-to-host copy
        self._init(array, device, requires_grad, None)

    def _init(self, array, device, requires_grad, creator):
        if requires_grad and np.dtype(array.dtype).kind != "f":
            raise TypeError(f"only float tensors can require gradients, got {array.dtype} "
                            f"with shape {tuple(array.shape)}")
        self.data = array
        self.device = device
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._creator = creator

    @staticmethod
    def _from_array(array, device, requires_grad=False, creator=None):
        """A plain Tensor (never a Parameter) around `array`; what every op returns."""
        tensor = Tensor.__new__(Tensor)
        tensor._init(array, device, requires_grad, creator)
        return tensor

    # --- facts ---------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return np.dtype(self.data.dtype)

    @property
    def ndim(self):
        return len(self.data.shape)

    @property
    def size(self):
        return int(self.data.size)

    @property
    def is_leaf(self):
        return self._creator is None

    def numel(self):
        return self.size

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({np.array2string(self.numpy(), precision=4)}, device='{self.device}'{grad})"

    # --- leaving the graph / the device --------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A host NumPy copy (never a view that later ops could change)."""
        host = backend(self.device).to_host(self.data)
        return host.copy() if host is self.data else host

    def _host_copy(self) -> np.ndarray:
        """Host values of an integer tensor, from the copy kept at creation when there is one."""
        cached = getattr(self, "_labels_on_host", None)
        return cached if cached is not None else self.numpy()

    def item(self):
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        return Tensor._from_array(self.data, self.device)

    def to(self, device):
        device = resolve_device(device)
        if device == self.device:
            return self
        return Tensor(self.numpy(), device=device, requires_grad=self.requires_grad)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def requires_grad_(self, flag=True):
        if flag and self.dtype.kind != "f":
            raise TypeError(f"only float tensors can require gradients, got {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def backward(self, grad=None):
        if not self.requires_grad:
            raise RuntimeError(f"backward() on a tensor (shape {self.shape}) that does not "
                               f"require grad and has no graph")
        if grad is None:
            if self.size != 1:
                raise ValueError(f"backward() without a gradient needs a scalar, got shape "
                                 f"{self.shape}; pass grad= of that shape")
            grad_array = backend(self.device).full(self.shape, 1.0)
        else:
            grad = grad if isinstance(grad, Tensor) else Tensor(grad, device=self.device)
            if grad.shape != self.shape or grad.device != self.device:
                raise ValueError(f"backward(): gradient of shape {grad.shape} on {grad.device} "
                                 f"for a tensor of shape {self.shape} on {self.device}")
            grad_array = grad.data
        autograd.backward_pass(self, grad_array)

    # --- interop -------------------------------------------------------------------------
    @property
    def __cuda_array_interface__(self):
        if self.device != "cuda":
            raise AttributeError("__cuda_array_interface__ exists only for 'cuda' tensors")
        return self.data.__cuda_array_interface__

    def __dlpack__(self, *args, **kwargs):
        return interop.to_dlpack_capable(self).__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return interop.to_dlpack_capable(self).__dlpack_device__()

    # --- arithmetic and shape ops (gpucnn.ops): a Tensor or a Python number ----------------
    def __add__(self, other):
        return (arithmetic.add if isinstance(other, Tensor) else arithmetic.add_scalar)(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return (arithmetic.sub if isinstance(other, Tensor) else arithmetic.sub_scalar)(self, other)

    def __rsub__(self, other):
        return arithmetic.rsub_scalar(self, other)

    def __mul__(self, other):
        return (arithmetic.mul if isinstance(other, Tensor) else arithmetic.mul_scalar)(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Tensor):
            raise TypeError("div: dividing by a tensor is not supported; divide by a Python "
                            "number")
        return arithmetic.div_scalar(self, other)

    def __neg__(self):
        return arithmetic.neg(self)

    def sum(self):
        return reduce.sum_all(self)

    def mean(self):
        return reduce.mean_all(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return shape_ops.reshape(self, shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def relu(self):
        return activation.relu(self)

    def argmax(self, dim=None):
        """Host-side argmax (no gradient), for accuracy bookkeeping."""
        values = self.numpy()
        return Tensor(values.argmax() if dim is None else values.argmax(axis=dim))


def tensor(data, device=None, requires_grad=False) -> Tensor:
    """Make a tensor: float data becomes float32, integer data (class labels) int64."""
    return Tensor(data, device=device, requires_grad=requires_grad)


def from_dlpack(obj) -> Tensor:
    """A Tensor sharing memory with `obj` (no copy): a PyTorch tensor, a CuPy or NumPy array,
    anything with __cuda_array_interface__ or __dlpack__ (float32 or int64, C-contiguous)."""
    array, device = interop.shared_array(obj)
    return Tensor._from_array(array, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A "cpu" Tensor sharing `array`'s memory (float32, int64 or bool, C-contiguous): each
    sees the other's changes, as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    if array.dtype not in (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)):
        raise TypeError(f"from_numpy: gpucnn shares float32, int64 or bool arrays, got "
                        f"{array.dtype} (shape {array.shape}); gpucnn.tensor(array) converts "
                        f"a copy")
    if not array.flags.c_contiguous:
        raise ValueError(f"from_numpy: needs a C-contiguous array, got shape {array.shape} with "
                         f"strides {array.strides}; gpucnn.tensor(array) makes a contiguous copy")
    return Tensor._from_array(array, "cpu")
