"""`Tensor`: an array on one device, with an optional gradient and the node that made it.

A tensor holds `_array`, a NumPy array ("cpu") or a numba device array ("cuda") that may be a
view of another tensor's memory with any non-negative strides: transpose, permute, expand,
slicing and squeeze share memory, as in PyTorch, and elementwise ops read such views in place;
ops whose kernels need C-contiguous arrays get copies (autograd.Function.apply). Tensors that
share memory share one version counter, which every in-place op bumps (see autograd.py;
inplace.py records in-place ops inside autograd).

Operators decide "tensor or Python number" here, then call the op for that case from
gpucnn.ops; the ops never see anything but tensors, arrays and numbers.
"""
import builtins
import copy
import numbers
import warnings
from collections import OrderedDict
from types import MappingProxyType

import numpy as np

from . import autograd, dtypes, hooks, inplace, interop
from . import memory_formats
from .backend import backend
from .devices import cuda_name, device as Device
from .devices import resolve as resolve_device
from .errors import InputError, InputTypeError
from .ops import _arrays, activation, arithmetic, compare, index, linear, reduce, reorder
from .ops import shape as shape_ops
from .size import Size
from .tensor_flags import TensorFlags

_INT64_MAX = np.iinfo(np.int64).max


def _host_array(data, dtype=None, where="gpucnn.tensor") -> np.ndarray:
    """A new C-contiguous host array with data's values, of `dtype` or else the type PyTorch
    infers: float data float32, integers int64, bools bool. Always a copy, as torch.tensor:
    the caller's array never changes with the tensor (from_numpy is the way to share)."""
    if isinstance(data, Tensor):
        data = data.numpy()
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _leaves(data)):
        data = _nested_values(data)
    array = np.asarray(data)
    if dtype is not None:
        target = dtypes.resolve(dtype, where).numpy
        if array.dtype.kind not in "fiub":
            raise TypeError(f"{where}: cannot make a tensor from {array.dtype} data "
                            f"(shape {array.shape})")
        if target.kind in "iu" and array.dtype.kind == "f" and array.size \
                and not np.all(np.isfinite(array)):
            raise ValueError(f"{where}: cannot convert non-finite float data to {target}")
        return np.array(array, dtype=target, order="C", copy=True)
    if array.dtype.kind == "f":
        return np.array(array, dtype=np.float32, order="C", copy=True)
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.size and array.max() > _INT64_MAX:
            raise ValueError(f"{where}: {array.dtype} values up to {array.max()} do not fit "
                             f"in int64, the integer type of gpucnn tensors (shape {array.shape})")
        return np.array(array, dtype=np.int64, order="C", copy=True)
    if array.dtype.kind == "b":
        return np.array(array, order="C", copy=True)
    raise TypeError(f"{where}: cannot make a tensor from {array.dtype} data "
                    f"(shape {array.shape}); give float, integer or bool data")


def _leaves(nested):
    for item in nested:
        if isinstance(item, (list, tuple)):
            yield from _leaves(item)
        else:
            yield item


def _nested_values(nested):
    """A nested list of tensors (gpucnn.tensor([t1, t2])) as nested host values."""
    return [_nested_values(x) if isinstance(x, (list, tuple)) else
            (x.numpy() if isinstance(x, Tensor) else x) for x in nested]


def _axis(dim, axis):
    """PyTorch takes NumPy's `axis=` for `dim=` in its reductions (d2l's argmax(axis=1))."""
    if axis is not None and dim is not None:
        raise TypeError("give dim or axis, not both")
    return dim if axis is None else axis


def _dims(args, name):
    """Dims given as f(0, 1), f((0, 1)) or f([0, 1])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    for a in args:
        if isinstance(a, bool) or not isinstance(a, (numbers.Integral, Tensor)):
            raise TypeError(f"{name}: expected ints, got {a!r}")
    return tuple(int(a) for a in args)


def _tensor_argument(value, op, name):
    """value, which must be a Tensor (PyTorch's TypeError names the function and argument)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    return value


def _check_lerp(start, end, weight):
    """torch.lerp's dtype rules: float tensors, end (and a tensor weight) of start's dtype."""
    if not start.dtype.is_floating_point:
        raise InputTypeError(f"lerp: not implemented for {start.dtype.name} (input of shape "
                             f"{list(start.shape)}); lerp takes float32 tensors")
    for name, t in (("end", end), ("weight", weight)):
        if t is not None and t.dtype is not start.dtype:
            raise InputTypeError(f"lerp: expected dtype {start.dtype.name} for `{name}` but got "
                                 f"dtype {t.dtype.name} (shape {list(t.shape)})")


def _sequence_as_tuple(key) -> bool:
    """PyTorch's (and old NumPy's) test for reading a list index as a tuple of indices: a short
    list holding a sequence, slice, tensor, None or Ellipsis."""
    return len(key) < 32 and builtins.any(
        isinstance(k, (Tensor, list, tuple, range, np.ndarray, slice)) or k is None or
        k is Ellipsis for k in key)


def _index_tensor(values, device):
    """A list or range used as an index, as torch's indexing_tensor_from_data makes it: a bool
    mask when every element is a bool, else int64 (float elements truncated; [] is empty)."""
    host = np.arange(values.start, values.stop, values.step, dtype=np.int64) \
        if isinstance(values, range) else _host_array(values, where="indexing")
    if host.dtype.kind == "f":
        host = _host_array(values, dtypes.int64, where="indexing")
    return Tensor._from_array(backend(device).from_host(host), device)


def unsupported_conversion(method, dtype_name, owner=""):
    """PyTorch's double() and half() (Tensor's and Module's): gpucnn has no float64 or float16,
    so they raise, naming the method as `owner` + method + "()"."""
    def convert(self):
        raise dtypes.unsupported_error(dtype_name, f"{owner}{method}()")
    convert.__name__ = method
    return convert


def _unary_inplace(name):
    """Tensor.<name>_(): self.<name>() written into self's memory, after the in-place checks."""
    def method(self):
        return self._inplace(f"{name}_", getattr(self, name))
    method.__name__, method.__qualname__ = f"{name}_", f"Tensor.{name}_"
    return method


def _comparison(op):
    """Tensor.eq, ne, lt, le, gt, ge: self OP other, elementwise, as a bool tensor."""
    def method(self, other):
        if isinstance(other, numbers.Number) and not isinstance(other, complex):
            return compare.compare_scalar(op, self, other)
        return compare.compare(op, self, self._operand(other, op))
    method.__name__, method.__qualname__ = op, f"Tensor.{op}"
    return method


def _reflected(name, tensor_op, scalar_op):
    """Tensor.__rOP__: other OP self, which Python asks of self when `other` (a number, an
    array, a list) has no OP for tensors; scalar_op(self, number) is the reflected scalar op."""
    def method(self, other):
        if isinstance(other, numbers.Number) and not isinstance(other, complex):
            return scalar_op(self, other)
        return tensor_op(self._operand(other, name), self)
    dunder = {"div": "truediv", "floor_divide": "floordiv", "remainder": "mod"}.get(name, name)
    method.__name__, method.__qualname__ = f"__r{dunder}__", f"Tensor.__r{dunder}__"
    return method


def to_arguments(where, args, kwargs):
    """(device, dtype) from PyTorch's to() arguments (Tensor's and Module's): a device, a dtype
    or a tensor (its device and dtype) positionally, device= and dtype=, non_blocking= (ignored);
    any other keyword left in kwargs is a TypeError naming `where`."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"{where}: unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (dtypes.dtype, type, np.dtype)):
            dtype = arg
        elif arg is not None:
            device = arg
    return device, dtype


class Tensor(TensorFlags):
    __array_priority__ = 1000  # numpy_scalar * tensor dispatches to Tensor.__rmul__
    __hash__ = object.__hash__  # == is elementwise; tensors stay usable as dict keys

    def __init__(self, data, device=None, requires_grad=False, dtype=None):
        device = resolve_device(device)
        if not isinstance(data, (np.ndarray, Tensor)) and \
                interop.cuda_array_interface(data) is not None:
            # Like torch.tensor, this copies; gpucnn.from_dlpack is the zero-copy way in.
            data = interop.device_array_from(data).copy_to_host()
        host = _host_array(data, dtype)
        self._init(backend(device).from_host(host), device, requires_grad, None)

    def _init(self, array, device, requires_grad, creator, version=None):
        if requires_grad and np.dtype(array.dtype) != np.float32:
            raise InputTypeError(f"only float tensors can require gradients, got "
                               f"{dtypes.of_array(array).name} with shape {tuple(array.shape)}")
        self._array = array
        self.device = Device(device)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._creator = creator
        self._version = version if version is not None else autograd.Version()
        self._retains_grad = False

    @staticmethod
    def _from_array(array, device, requires_grad=False, creator=None, version=None):
        """A plain Tensor (never a Parameter) around `array`; what every op returns."""
        tensor = Tensor.__new__(Tensor)
        tensor._init(array, device, requires_grad, creator, version)
        return tensor

    def _like(self, array):
        """A tensor on this tensor's device around a new array (no history)."""
        return Tensor._from_array(array, self.device)

    @property
    def _kernels(self):
        return backend(self.device).kernels

    # ================================================================ facts
    @property
    def shape(self) -> Size:
        return Size(int(n) for n in self._array.shape)

    def size(self, dim=None):
        """The shape (a gpucnn.Size), or the size of one dimension."""
        if dim is None:
            return self.shape
        return self.shape[self._dim(dim, "size")]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of_array(self._array)

    @property
    def ndim(self) -> int:
        return len(self._array.shape)

    def dim(self) -> int:
        return self.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._array.size)

    nelement = numel

    def element_size(self) -> int:
        return self.dtype.itemsize

    def stride(self, dim=None):
        strides = _arrays.strides(self._array)
        return strides if dim is None else strides[self._dim(dim, "stride")]

    def is_contiguous(self, *, memory_format=memory_formats.contiguous_format) -> bool:
        """C-contiguous; for a channels-last format, PyTorch's answer for the strides gpucnn
        holds (its ops make NCHW results: gpucnn/memory_formats.py)."""
        memory_formats.check("is_contiguous", memory_format)
        if memory_format.rank is None:
            return _arrays.is_contiguous(self._array)
        return memory_formats.is_contiguous(memory_format, self.shape, self.stride())

    # is_cuda, is_cpu, is_floating_point() and the other is_* flags: TensorFlags.

    @property
    def is_leaf(self) -> bool:
        self._refresh_history()
        return self._creator is None or not self.requires_grad

    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves), with its name."""
        self._refresh_history()
        creator = self._creator
        return None if creator is None or creator is autograd.FREED else creator

    def _dim(self, dim, op):
        """dim as an index in [0, ndim), negative counting from the end; IndexError else."""
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"{op}: dim must be an int, got {dim!r}")
        ndim = builtins.max(self.ndim, 1)
        if not -ndim <= dim < ndim:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {dim})")
        return int(dim) % ndim

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        values = np.array2string(self.numpy(), precision=4, separator=", ", prefix="tensor(")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device.type}:{self.device.index or 0}'")
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool):
            extras.append(f"dtype=gpucnn.{self.dtype.name}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({values}{''.join(', ' + e for e in extras)})"

    __str__ = __repr__

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self.item(), spec)
        return repr(self) if not spec else object.__format__(self, spec)

    # ================================================================ leaving the device
    def numpy(self, force: bool = False) -> np.ndarray:
        """A host NumPy copy (never a view that later ops could change). On "cuda" this is
        the one call that copies to the host; PyTorch refuses it there (use .cpu() first):
        gpucnn allows it, as tensor.cpu().numpy()."""
        if isinstance(self._array, np.ndarray):
            return np.array(self._array, order="C", copy=True)
        return backend(self.device).to_host(self._contiguous_array())

    def __array__(self, dtype=None, copy=None):
        values = self.numpy()
        return values if dtype is None else values.astype(dtype)

    def _host_values(self) -> np.ndarray:
        """Host values, from the copy kept for an integer tensor made from host data when it
        has not been changed since (class labels are checked every step without a device
        round trip)."""
        cached = getattr(self, "_host_cache", None)
        if cached is not None and cached[0] is self._version and cached[1] == self._version.value:
            return cached[2]
        values = self.numpy()
        if self.dtype is not dtypes.float32:
            self._host_cache = (self._version, self._version.value, values)
        return values

    def item(self):
        if self.numel() != 1:
            raise InputError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               f"Scalar (item() needs exactly one element; shape {tuple(self.shape)})")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise InputError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return builtins.bool(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (got {self.dtype.name}, shape {tuple(self.shape)})")
        return builtins.int(self.item())

    def __complex__(self):
        return complex(self.item())

    # ================================================================ devices and dtypes
    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(other_tensor); non_blocking and copy
        accepted. Returns self when nothing changes (copy=False), as PyTorch. memory_format=
        has PyTorch's checks, and returns self where PyTorch's would (the format its strides
        suggest), else a new tensor, C-contiguous (NCHW, gpucnn's layout:
        gpucnn/memory_formats.py)."""
        copy = kwargs.pop("copy", False)
        memory_format = kwargs.pop("memory_format", None)
        if memory_format is not None:
            memory_formats.check("to", memory_format)
            memory_formats.check_rank(memory_format, self.ndim)
        device, dtype = to_arguments("to()", args, kwargs)
        result = self
        if dtype is not None:
            result = result._cast(dtypes.resolve(dtype, "to"))
        if device is not None:
            result = result._move(resolve_device(device))
        if copy and result is self:
            result = self.clone()
        if result is self and memory_format not in (None, memory_formats.preserve_format) \
                and memory_formats.suggested(self.shape, self.stride()) is not memory_format:
            result = self.clone()
        return result

    def _move(self, device):
        if device == self.device:
            return self
        moved = Tensor._from_array(backend(device).from_host(self.numpy()), device)
        return shape_ops.attach_copy(self, moved)

    def _cast(self, dtype):
        if dtype is self.dtype:
            return self
        return arithmetic.cast(self, dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to(cuda_name(device))

    def float(self):
        return self._cast(dtypes.float32)

    def long(self):
        return self._cast(dtypes.int64)

    def int(self):
        return self._cast(dtypes.int32)

    def bool(self):
        return self._cast(dtypes.bool)

    double = unsupported_conversion("double", "float64")
    half = unsupported_conversion("half", "float16")

    def type(self, dtype=None, non_blocking=False):
        """type() names the type ('gpucnn.FloatTensor'); type(dtype) converts."""
        if dtype is None:
            names = {dtypes.float32: "FloatTensor", dtypes.int64: "LongTensor",
                     dtypes.int32: "IntTensor", dtypes.bool: "BoolTensor"}
            prefix = "gpucnn.cuda." if self.is_cuda else "gpucnn."
            return prefix + names[self.dtype]
        if isinstance(dtype, str):
            dtype = {"torch.FloatTensor": dtypes.float32, "torch.LongTensor": dtypes.int64,
                     "torch.IntTensor": dtypes.int32, "torch.BoolTensor": dtypes.bool,
                     "gpucnn.FloatTensor": dtypes.float32, "gpucnn.LongTensor": dtypes.int64,
                     "gpucnn.IntTensor": dtypes.int32,
                     "gpucnn.BoolTensor": dtypes.bool}.get(dtype, dtype)
        return self._cast(dtypes.resolve(dtype, "type"))

    def type_as(self, other):
        return self._cast(other.dtype)

    # ================================================================ autograd
    @property
    def data(self):
        """This tensor's memory as a tensor with no history (and its own version counter:
        changes made through .data are not seen by autograd, as in PyTorch)."""
        return Tensor._from_array(self._array, self.device)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        if self.requires_grad and value.dtype is not dtypes.float32:
            raise TypeError(f"data: a tensor that requires grad holds float32, got "
                            f"{value.dtype.name}")
        self._array, self.device = value._array, value.device

    def detach(self):
        """The same memory (and version counter) without history."""
        return Tensor._from_array(self._array, self.device, version=self._version)

    def detach_(self):
        self._creator, self.requires_grad = None, False
        return self

    def __deepcopy__(self, memo):
        """copy.deepcopy (of a model, say), as PyTorch's: graph leaves only; new memory on the
        same device (a numba device array cannot be deep-copied itself); the class (a
        Parameter stays one), requires_grad, grad and the attributes set on the tensor
        (nn.Buffer's marks) kept. A view's copy is a tensor of its own."""
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new._init(shape_ops.clone(self.detach())._array, self.device, self.requires_grad, None)
        new.grad = copy.deepcopy(self.grad, memo)
        for key, value in self.__dict__.items():   # not the memory, history or view internals
            if key not in new.__dict__ and (not key.startswith("_") or key == "_is_buffer"):
                new.__dict__[key] = copy.deepcopy(value, memo)
        return new

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype is not dtypes.float32:
            raise InputTypeError(f"only float tensors can require gradients, got "
                               f"{self.dtype.name}")
        if not requires_grad and not self.is_leaf:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use .detach() for a copy without history")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward()."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that does not require grad")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): gpucnn does not build "
                                      "graphs of gradients (no higher-order derivatives)")
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not supported; gradients reach "
                                      "every leaf that requires grad")
        self._refresh_history()
        if not self.requires_grad:
            raise RuntimeError(f"element 0 of tensors does not require grad and does not have a "
                               f"grad_fn (backward() on a tensor of shape {tuple(self.shape)} "
                               f"made without gradients)")
        if gradient is None:
            if self.numel() != 1:
                raise InputError(f"grad can be implicitly created only for scalar outputs "
                                   f"(shape {tuple(self.shape)}); pass gradient= of that shape")
            grad_array = backend(self.device).full(self.shape, 1.0)
        else:
            gradient = gradient if isinstance(gradient, Tensor) else \
                Tensor(gradient, device=self.device)
            if gradient.shape != self.shape or gradient.device != self.device:
                raise InputError(f"backward(): gradient of shape {tuple(gradient.shape)} on "
                                   f"{gradient.device} for a tensor of shape "
                                   f"{tuple(self.shape)} on {self.device}")
            grad_array = gradient.float()._array
        autograd.backward_pass(self, grad_array, builtins.bool(retain_graph))

    def register_hook(self, hook):
        raise NotImplementedError("Tensor.register_hook is not supported; use "
                                  "register_post_accumulate_grad_hook on a leaf, "
                                  "Module.register_forward_hook, or read .grad after "
                                  "backward() (retain_grad() for non-leaf tensors)")

    # No hooks: a class-level empty mapping, so that tensors made by ops carry no dict.
    _post_accumulate_grad_hooks = MappingProxyType({})

    # Views and in-place history (autograd.Function.apply, gpucnn/inplace.py): a view's base
    # (the tensor that is no view) and the view ops from it; how many times an in-place op
    # gave this tensor a new history, and the base's count when the view's history was made.
    _base = None
    _view_chain = ()
    _multi_view = None   # (output index, function) of split / chunk / unbind outputs
    _rebases = 0
    _view_rebases = 0

    def _refresh_history(self):
        """A view whose base an in-place op changed since takes the base's new history."""
        if self._base is not None and self._view_rebases != self._base._rebases:
            inplace.replay_view(self)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(tensor) once this leaf's .grad holds its gradient of a backward pass
        (what DistributedDataParallel starts a bucket's reduction from); returns a handle."""
        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if "_post_accumulate_grad_hooks" not in self.__dict__:
            self._post_accumulate_grad_hooks = OrderedDict()
        return hooks.add_hook(self._post_accumulate_grad_hooks, hook,
                              "post accumulate grad hook")

    # ================================================================ interop
    @property
    def __cuda_array_interface__(self):
        if self.device.type != "cuda":
            raise AttributeError("__cuda_array_interface__ exists only for 'cuda' tensors")
        return self._array.__cuda_array_interface__

    def __dlpack__(self, *args, **kwargs):
        return interop.to_dlpack_capable(self).__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return interop.to_dlpack_capable(self).__dlpack_device__()

    # ================================================================ in place
    def _check_inplace(self, op, other_requires_grad=False):
        """The checks of an in-place op that writes self's memory only outside autograd (one
        that joins the graph goes through _inplace)."""
        if self._inplace_records(op, other_requires_grad):
            raise RuntimeError(f"{op}: this in-place op is not recorded in the autograd graph; "
                               f"use its out-of-place form (y = y.{op.rstrip('_')}(...)), or "
                               f"run it under gpucnn.no_grad()")

    def _inplace_records(self, op, other_requires_grad=False) -> builtins.bool:
        """PyTorch's checks before an in-place op; True when it must join the autograd graph
        (grad mode on, and self or the other operand requires grad: gpucnn/inplace.py)."""
        autograd.refresh_stale_views((self,))
        records = autograd.is_grad_enabled() and (self.requires_grad or other_requires_grad)
        if records and self.requires_grad and self._creator is None:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               f"in-place operation (wrap it in `with gpucnn.no_grad():` for "
                               f"an update outside autograd)")
        if records and self._multi_view is not None:
            raise RuntimeError(f"{op}: Output {self._multi_view[0]} of {self._multi_view[1]} is "
                               f"a view and is being modified inplace. This view is the output "
                               f"of a function that returns multiple views. Such functions do "
                               f"not allow the output views to be modified inplace. You should "
                               f"replace the inplace operation by an out-of-place one.")
        base = self._base
        if records and base is not None and base.requires_grad and base._creator is None:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being "
                               f"used in an in-place operation (wrap it in `with "
                               f"gpucnn.no_grad():` for an update outside autograd)")
        if any(s == 0 and n > 1 for s, n in zip(self.stride(), self.shape)):
            raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                               f"written-to tensor (shape {tuple(self.shape)}, strides "
                               f"{self.stride()}) refers to a single memory location. Please "
                               f"clone() the tensor before performing the operation.")
        return records

    def _assign(self, result, op):
        """Write `result` (a tensor broadcastable to self, of a dtype castable to self's) into
        self's memory; bump the version; return self."""
        if result.dtype.category > self.dtype.category:
            raise InputTypeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                               f"desired output type {self.dtype.name}")
        if _arrays.broadcast_shapes(op, result.shape, self.shape) != tuple(self.shape):
            raise InputError(f"{op}: output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(_arrays.broadcast_shapes(op, result.shape, self.shape))}")
        if result.device != self.device:
            result = result.to(self.device)
        source = _arrays.expand(result._array, self.shape)
        if _arrays.overlaps(source, self._array):   # x.copy_(x.t()): read all, then write
            source = _arrays.contiguous(self._kernels, result.clone()._array)
            source = _arrays.expand(source, self.shape)
        self._kernels.cast(source, self._array)
        self._version.value += 1
        if autograd.tracer is not None:   # an exported forward pass: self now holds result
            autograd.tracer.assigned(self, result, op)
        return self

    def _inplace(self, op, compute, other=None, overwrite=False):
        """self = compute(), checked first; `other` is the other operand (a tensor, a number
        or a tuple of them: whether one requires grad). Inside autograd the op joins the
        graph (inplace.record); `overwrite`: compute() does not read self (copy_, fill_)."""
        others = other if isinstance(other, tuple) else (other,)
        if self._inplace_records(op, builtins.any(isinstance(t, Tensor) and t.requires_grad
                                                  for t in others)):
            return inplace.record(self, op, compute, overwrite)
        with autograd.no_grad():
            return self._assign(compute(), op)

    def _filled(self, op, fill, *args):
        """fill(self, *args), a kernel that writes self's memory itself, checked first."""
        if self._inplace_records(op):   # new values in a new tensor, recorded (zero gradient)
            fresh = Tensor._from_array(_arrays.empty(self._kernels, self.shape,
                                                     self._array.dtype), self.device)
            return inplace.record(self, op, lambda: fill(fresh, *args), overwrite=True)
        fill(self, *args)
        self._version.value += 1
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda: self.add(other, alpha=alpha), other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda: self.sub(other, alpha=alpha), other)

    def mul_(self, other):
        return self._inplace("mul_", lambda: self * other, other)

    def div_(self, other, rounding_mode=None):
        return self._inplace("div_", lambda: self.div(other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda: self ** exponent, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda: self.clamp(min, max))

    clip_ = clamp_

    neg_ = _unary_inplace("neg")
    abs_ = _unary_inplace("abs")
    exp_ = _unary_inplace("exp")
    log_ = _unary_inplace("log")
    sqrt_ = _unary_inplace("sqrt")
    relu_ = _unary_inplace("relu")
    sigmoid_ = _unary_inplace("sigmoid")
    tanh_ = _unary_inplace("tanh")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise InputError(f"fill_ only supports 0-dimension value tensor but got "
                                   f"tensor with {value.ndim} dimensions")
            return self._inplace("fill_", lambda: value.reshape(()), value, overwrite=True)
        return self._filled("fill_", arithmetic.fill, value)

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            src = Tensor(src, device=self.device)
        return self._inplace("copy_", lambda: src.to(self.device), src, overwrite=True)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda: self.masked_fill(mask, value), value)

    def lerp_(self, end, weight):
        """self += weight * (end - self), in place (an EMA of parameters under no_grad)."""
        return self._inplace("lerp_", lambda: self.lerp(end, weight), (end, weight))

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        linear.check_inplace_baddbmm(self, _tensor_argument(batch1, "baddbmm_", "batch1"),
                                     _tensor_argument(batch2, "baddbmm_", "batch2"))
        return self._inplace("baddbmm_", lambda: self.baddbmm(batch1, batch2, beta=beta,
                                                              alpha=alpha), (batch1, batch2))

    def uniform_(self, a=0.0, b=1.0):
        return self._filled("uniform_", arithmetic.random_fill, "uniform", a, b)

    def normal_(self, mean=0.0, std=1.0):
        return self._filled("normal_", arithmetic.random_fill, "normal", mean, std)

    def __setitem__(self, key, value):
        if not isinstance(value, Tensor):
            value = self._operand(value, "__setitem__") if isinstance(value, numbers.Number) \
                else Tensor(value, device=self.device)
        value, key = value.to(self.device), self._index_key(key)
        autograd.refresh_stale_views((self,))
        if autograd.is_grad_enabled() and (self.requires_grad or value.requires_grad):
            inplace.setitem(self, key, value)   # PyTorch's checks there, on what it writes
            return
        self._check_inplace("__setitem__")
        index.setitem(self, key, value)
        self._version.value += 1

    # x += y is x.add_(y), as PyTorch's, inside autograd too (a residual block's
    # `out += identity` records the add as out's new history).
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ================================================================ operands
    def _operand(self, other, op):
        """other as a tensor on this device: a Tensor as is (a 0-dim "cpu" tensor moves, as
        PyTorch lets CPU scalars meet CUDA tensors), an array or list copied in."""
        if isinstance(other, Tensor):
            if other.device != self.device and other.ndim == 0 and other.device.type == "cpu":
                return other.to(self.device)
            return other
        if isinstance(other, (np.ndarray, list, tuple)):
            return Tensor(other, device=self.device)
        if isinstance(other, numbers.Number):
            return Tensor(other, device=self.device)
        raise TypeError(f"{op}: unsupported operand type {type(other).__name__}")

    def _binary(self, other, tensor_op, scalar_op, name):
        if isinstance(other, numbers.Number) and not isinstance(other, complex):
            return scalar_op(self, other)
        return tensor_op(self, self._operand(other, name))

    # ================================================================ arithmetic
    def add(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._binary(other, arithmetic.add, arithmetic.add_scalar, "add")

    def sub(self, other, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._binary(other, arithmetic.sub, arithmetic.sub_scalar, "sub")

    subtract = sub

    def mul(self, other):
        return self._binary(other, arithmetic.mul, arithmetic.mul_scalar, "mul")

    multiply = mul

    def div(self, other, rounding_mode=None):
        if rounding_mode is None:
            return self._binary(other, arithmetic.div, arithmetic.div_scalar, "div")
        if rounding_mode == "floor":
            return self.floor_divide(other)
        if rounding_mode == "trunc":
            return arithmetic.trunc(self.div(other)) if self.dtype.is_floating_point or (
                isinstance(other, Tensor) and other.dtype.is_floating_point) or \
                isinstance(other, builtins.float) else arithmetic.trunc_divide(self, other)
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")

    divide = true_divide = div

    def floor_divide(self, other):
        return self._binary(other, arithmetic.floor_divide, arithmetic.floor_divide_scalar,
                            "floor_divide")

    def remainder(self, other):
        return self._binary(other, arithmetic.remainder, arithmetic.remainder_scalar,
                            "remainder")

    def pow(self, exponent):
        return self._binary(exponent, arithmetic.pow, arithmetic.pow_scalar, "pow")

    def maximum(self, other):
        return arithmetic.maximum(self, self._operand(other, "maximum"))

    def minimum(self, other):
        return arithmetic.minimum(self, self._operand(other, "minimum"))

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise InputError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            result = self
            if min is not None:
                result = result.maximum(min)
            if max is not None:
                result = result.minimum(max)
            return result
        return arithmetic.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def matmul(self, other):
        return linear.matmul(self, self._operand(other, "matmul"))

    def mm(self, other):
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise InputError(f"mm: self and mat2 must be 2-D, got {tuple(self.shape)} and "
                               f"{tuple(getattr(other, 'shape', ()))}")
        return self.matmul(other)

    def dot(self, other):
        if self.ndim != 1 or getattr(other, "ndim", 0) != 1:
            raise InputError("dot: 1D tensors expected")
        return self.matmul(other)

    def bmm(self, mat2):
        return linear.bmm(self, _tensor_argument(mat2, "bmm", "mat2"))

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return linear.baddbmm(self, _tensor_argument(batch1, "baddbmm", "batch1"),
                              _tensor_argument(batch2, "baddbmm", "batch2"), beta, alpha)

    def lerp(self, end, weight):
        """self + weight * (end - self) as torch computes it: from end's side, end - (end -
        self) * (1 - weight), where |weight| >= 0.5, so that weight 1 gives end exactly."""
        end = _tensor_argument(end, "lerp", "end")
        if isinstance(weight, numbers.Real):
            _check_lerp(self, end, None)
            w = np.float32(weight)   # torch's float32 arithmetic: 1 - w in float32 too
            diff = end - self
            if builtins.abs(w) < 0.5:
                return self + diff * builtins.float(w)
            return end - diff * builtins.float(np.float32(1) - w)
        weight = _tensor_argument(weight, "lerp", "weight")
        _check_lerp(self, end, weight)
        diff = end - self
        small = weight.abs() < 0.5
        return compare.where(small, self + diff * weight, end - diff * (1 - weight))

    # The operators are the named methods themselves (as torch.Tensor's are), so the two
    # can never disagree.
    __add__, __sub__, __mul__, __truediv__ = add, sub, mul, div
    __floordiv__, __mod__, __pow__, __matmul__ = floor_divide, remainder, pow, matmul

    __radd__ = _reflected("add", arithmetic.add, arithmetic.add_scalar)
    __rsub__ = _reflected("sub", arithmetic.sub, arithmetic.rsub_scalar)
    __rmul__ = _reflected("mul", arithmetic.mul, arithmetic.mul_scalar)
    __rtruediv__ = _reflected("div", arithmetic.div, arithmetic.rdiv_scalar)
    __rfloordiv__ = _reflected("floor_divide", arithmetic.floor_divide,
                               arithmetic.rfloor_divide_scalar)
    __rmod__ = _reflected("remainder", arithmetic.remainder, arithmetic.rremainder_scalar)
    __rpow__ = _reflected("pow", arithmetic.pow, arithmetic.rpow_scalar)

    def __rmatmul__(self, other):
        return linear.matmul(self._operand(other, "matmul"), self)

    def __neg__(self):
        return arithmetic.neg(self)

    neg = negative = __neg__

    def __pos__(self):
        return self

    def __abs__(self):
        return arithmetic.abs(self)

    abs = absolute = __abs__

    def exp(self):
        return arithmetic.exp(self)

    def log(self):
        return arithmetic.log(self)

    def log2(self):
        return arithmetic.log2(self)

    def log10(self):
        return arithmetic.log10(self)

    def log1p(self):
        return arithmetic.log1p(self)

    def expm1(self):
        return arithmetic.expm1(self)

    def sqrt(self):
        return arithmetic.sqrt(self)

    def rsqrt(self):
        return arithmetic.rsqrt(self)

    def square(self):
        return arithmetic.square(self)

    def reciprocal(self):
        return arithmetic.reciprocal(self)

    def erf(self):
        return arithmetic.erf(self)

    def sign(self):
        return arithmetic.sign(self)

    def floor(self):
        return arithmetic.floor(self)

    def ceil(self):
        return arithmetic.ceil(self)

    def round(self, decimals=0):
        if decimals:
            scale = 10.0 ** decimals
            return arithmetic.round(self * scale) / scale
        return arithmetic.round(self)

    def trunc(self):
        return arithmetic.trunc(self)

    def sigmoid(self):
        return activation.sigmoid(self)

    def tanh(self):
        return activation.tanh(self)

    def relu(self):
        return activation.relu(self)

    def softmax(self, dim, dtype=None):
        return activation.softmax(self if dtype is None else self.to(dtype), dim)

    def log_softmax(self, dim, dtype=None):
        return activation.log_softmax(self if dtype is None else self.to(dtype), dim)

    # ================================================================ comparisons and logic
    eq, ne, lt, le, gt, ge = (_comparison(op) for op in ("eq", "ne", "lt", "le", "gt", "ge"))
    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = eq, ne, lt, le, gt, ge
    less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne

    def equal(self, other) -> builtins.bool:
        """True when other has this shape and these values (torch.equal)."""
        return isinstance(other, Tensor) and other.shape == self.shape and \
            builtins.bool(self.eq(other).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> builtins.bool:
        return builtins.bool(self.isclose(other, rtol, atol, equal_nan).all())

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        other = self._operand(other, "isclose")
        close = (self - other).abs() <= atol + rtol * other.abs()
        close = close | (self == other)
        if equal_nan:
            close = close | (self.isnan() & other.isnan())
        return close

    def isnan(self):
        return compare.test("isnan", self)

    def isinf(self):
        return compare.test("isinf", self)

    def isfinite(self):
        return compare.test("isfinite", self)

    def logical_not(self):
        return compare.logical_not(self)

    def logical_and(self, other):
        return compare.logical("and", self.bool(), self._operand(other, "logical_and").bool())

    def logical_or(self, other):
        return compare.logical("or", self.bool(), self._operand(other, "logical_or").bool())

    def logical_xor(self, other):
        return compare.logical("xor", self.bool(), self._operand(other, "logical_xor").bool())

    def __and__(self, other):
        return compare.logical("and", self, self._operand(other, "and"))

    def __or__(self, other):
        return compare.logical("or", self, self._operand(other, "or"))

    def __xor__(self, other):
        return compare.logical("xor", self, self._operand(other, "xor"))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__

    def __invert__(self):
        return compare.invert(self)

    bitwise_not = __invert__

    def where(self, condition, other):
        return compare.where(condition, self, self._operand(other, "where"))

    def masked_fill(self, mask, value):
        if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
            raise InputTypeError(f"masked_fill only supports boolean masks, got "
                               f"{getattr(mask, 'dtype', type(mask).__name__)}")
        value = value if isinstance(value, Tensor) else Tensor(value, device=self.device,
                                                               dtype=self.dtype)
        return compare.where(mask.to(self.device), value.to(self.dtype), self)

    # ================================================================ reductions
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None):
        dim = _axis(dim, axis)
        x = self if dtype is None else self.to(dtype)
        return reduce.sum(x, dim, keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None):
        dim = _axis(dim, axis)
        x = self if dtype is None else self.to(dtype)
        return reduce.mean(x, dim, keepdim)

    def max(self, dim=None, keepdim=False, *, axis=None):
        dim = _axis(dim, axis)
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False, *, axis=None):
        dim = _axis(dim, axis)
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return reduce.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return reduce.argmax(self, _axis(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return reduce.argmin(self, _axis(dim, axis), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return reduce.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return reduce.var(self, dim, unbiased, keepdim, correction).sqrt()

    def logsumexp(self, dim, keepdim=False):
        return reduce.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return reduce.norm(self if dtype is None else self.to(dtype), p, dim, keepdim)

    def any(self, dim=None, keepdim=False, *, axis=None):
        return reduce.any(self, _axis(dim, axis), keepdim)

    def all(self, dim=None, keepdim=False, *, axis=None):
        return reduce.all(self, _axis(dim, axis), keepdim)

    def count_nonzero(self, dim=None):
        return (self != 0).sum(dim)

    # ================================================================ shapes and views
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, type)):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
        return shape_ops.view(self, _dims(shape, "view"))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape(self, *shape):
        return shape_ops.reshape(self, _dims(shape, "reshape"))

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        dim = self._dim(dim, "unflatten")
        return self.reshape(self.shape[:dim] + tuple(sizes) + self.shape[dim + 1:])

    def permute(self, *dims):
        return shape_ops.permute(self, _dims(dims, "permute"))

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise InputError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):  # noqa: N802
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802
        return self.transpose(-2, -1)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return shape_ops.squeeze(self, dim)

    def expand(self, *sizes):
        return shape_ops.expand(self, _dims(sizes, "expand"))

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        return shape_ops.repeat(self, _dims(sizes, "repeat"))

    def unfold(self, dimension, size, step):
        return shape_ops.unfold(self, dimension, size, step)

    def flip(self, *dims):
        if not dims:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        return reorder.flip(self, _dims(dims, "flip"))

    def fliplr(self):
        if self.ndim < 2:
            raise InputError(f"fliplr: Input must be >= 2-d (shape {list(self.shape)})")
        return reorder.flip(self, (1,))

    def flipud(self):
        if self.ndim < 1:
            raise InputError("flipud: Input must be >= 1-d (a 0-d tensor was given)")
        return reorder.flip(self, (0,))

    def roll(self, shifts, dims=None):
        dims = () if dims is None else _dims((dims,), "roll")
        return reorder.roll(self, _dims((shifts,), "roll"), dims)

    def contiguous(self, *, memory_format=memory_formats.contiguous_format):
        """self when C-contiguous, else a C-contiguous copy. For a channels-last format (PyTorch's
        rank checks): self when its strides are that format's, else a C-contiguous (NCHW)
        copy, gpucnn's layout (gpucnn/memory_formats.py)."""
        memory_formats.check("contiguous", memory_format)
        memory_formats.check_rank(memory_format, self.ndim)
        if memory_format.rank is not None:
            return self if self.is_contiguous(memory_format=memory_format) else self.clone()
        if memory_format is memory_formats.preserve_format and not self.is_contiguous():
            raise RuntimeError("preserve memory format is unsupported by the contiguous "
                               "operator")
        return shape_ops.contiguous(self)

    def _contiguous_array(self):
        return _arrays.contiguous(self._kernels, self._array)

    def clone(self, *, memory_format=memory_formats.preserve_format):
        """A C-contiguous copy, whatever the memory format (PyTorch's checks on it): gpucnn's
        layout (gpucnn/memory_formats.py)."""
        memory_formats.check("clone", memory_format)
        memory_formats.check_rank(memory_format, self.ndim)
        return shape_ops.clone(self)

    def chunk(self, chunks, dim=0):
        return shape_ops.chunk(self, chunks, dim)

    def split(self, split_size_or_sections, dim=0):
        return shape_ops.split(self, split_size_or_sections, dim)

    def narrow(self, dim, start, length):
        return shape_ops.narrow(self, dim, start, length)

    def unbind(self, dim=0):
        dim = self._dim(dim, "unbind")
        return shape_ops.multiple_views([shape_ops.select(self, dim, i)
                                         for i in range(self.shape[dim])], "Unbind")

    # ================================================================ indexing
    def _index_key(self, key):
        """key with lists, ranges, NumPy arrays and nested sequences made tensors on this
        device. A list as the whole key is one index (x[[0, 2]]) unless it holds sequences,
        slices, tensors, None or ...: PyTorch 2.13 still reads x[[[0, 1], [1, 2]]] as
        x[[0, 1], [1, 2]] (NumPy's old rule), with a deprecation warning, and so does gpucnn."""
        if isinstance(key, list) and _sequence_as_tuple(key):
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated (in PyTorch too); use x[tuple(seq)] instead of x[seq]. "
                          "It is read as x[tuple(seq)], as PyTorch 2.13 reads it.",
                          UserWarning, stacklevel=3)
            key = tuple(key)
        items = key if isinstance(key, tuple) else (key,)
        converted = []
        for k in items:
            if isinstance(k, (list, range)):
                k = _index_tensor(k, self.device)
            elif isinstance(k, np.ndarray):
                k = Tensor(k, device=self.device)
                if k.dtype.is_floating_point:
                    raise IndexError("tensors used as indices must be long, int, byte or bool "
                                     "tensors")
            elif isinstance(k, Tensor):
                k = k.to(self.device) if k.device != self.device else k
            converted.append(k)
        return tuple(converted)

    def __getitem__(self, key):
        return index.getitem(self, self._index_key(key))

    def __iter__(self):
        if not self.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def index_select(self, dim, index_tensor):
        dim = self._dim(dim, "index_select")
        return self[(slice(None),) * dim + (index_tensor,)]

    def masked_select(self, mask):
        return self[mask.expand_as(self) if mask.shape != self.shape else mask]

    def nonzero(self, as_tuple=False):
        return index.nonzero(self, as_tuple)

    # ================================================================ new tensors like this
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return Tensor(data, device=device or self.device, requires_grad=requires_grad,
                      dtype=dtype or self.dtype)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_dims(size, "new_zeros"), 0, dtype=dtype, device=device,
                             requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_dims(size, "new_ones"), 1, dtype=dtype, device=device,
                             requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_dims(size, "new_empty"), 0, dtype=dtype, device=device,
                             requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        device = resolve_device(device or self.device)
        dtype = dtypes.resolve(dtype or self.dtype, "new_full")
        array = backend(device).empty(tuple(size), dtype.numpy)
        out = Tensor._from_array(array, device)
        arithmetic.fill(out, fill_value)
        return out.requires_grad_(requires_grad) if requires_grad else out
