"""Recording one forward pass for export: every op applied, in order, as calls.

While a Tracer is `gpucnn.autograd.tracer`, Function.apply reports each op it runs
(`record`, with the op's class, input tensors, keyword options and output), a function marked
`autograd.composite` reports its whole call (`composite`: the calls made inside it are kept
as its fallback), and Tensor._assign reports in-place writes (`assigned`: from then on the
tensor stands for the written value). This sees every op, with or without grad mode, since
every op goes through Function.apply. Values are named by refs:

    ("input", i)       the i-th tensor of the example inputs
    ("param", name)    a parameter or buffer of the model, under its state_dict name
    ("const", path, i) any other tensor an op reads that no recorded op made: made inside
                       forward (gc.tensor(...), the blocks of a constant pad), or captured;
                       numbered within the composite call at path (() outside any), so
                       that the constants of a composite whose inner ops change with a
                       dynamic axis do not renumber the others
    ("call", path, k)  output k of the call at path: (i,) for the i-th call of the pass,
                       (i, j) for the j-th call inside composite (i,), ...
    ("stale", why)     a tensor changed in place by something the tracer did not see
                       (fill_, x[...] = v outside autograd): an error if the value is needed

Tensors are told apart by identity and kept alive by the tracer, so no id is reused within a
trace. Options are frozen into plain values (`freeze`): arrays of parameters become
ParamArray(name), other arrays HostArray copies, closures (the views' make_view) a Closure of
their free variables, other objects a Record of their attributes, so that two traces can be
compared value by value (gpucnn/onnx/dynamic.py).
"""
import inspect
import types
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .. import autograd, dtypes
from ..tensor import Tensor
from .dynamic import Varying, merge, same
from .errors import OnnxExporterError


class Assign:
    """The op of a recorded in-place write: the target's new value is its one input, cast
    and broadcast to the target (Tensor._assign)."""
    name = "assign"


@dataclass
class Call:
    op: object                 # a Function subclass, a composite function, or Assign
    inputs: list               # refs of the tensor inputs
    options: dict              # frozen keyword options (composites: bound arguments)
    in_meta: list              # [(shape, dtype)] of the inputs
    out_meta: list             # [(shape, dtype)] of the outputs
    inner: list = field(default_factory=list)    # composite: paths of the calls inside
    aliases: list = field(default_factory=list)  # composite: its outputs' refs inside it
    inner_varies: bool = False   # merged: the calls inside differ between the traces

    @property
    def name(self) -> str:
        return op_name(self.op)


def op_name(op) -> str:
    if isinstance(op, type):
        return f"{op.__module__.replace('gpucnn.', '')}.{op.__name__} ({getattr(op, 'name', '')})"
    return f"{getattr(op, '__module__', '').replace('gpucnn.', '')}." \
           f"{getattr(op, '__qualname__', repr(op))}"


@dataclass
class TensorArg:
    """A composite's tensor argument, by its position among the call's inputs."""
    index: int


@dataclass
class ParamArray:
    """An option that is the array of a parameter or buffer (batch_norm's running stats)."""
    name: str

    def merged_with(self, others):
        return Varying(self, "is another array in another trace")


class HostArray:
    """An option's array, copied to the host."""

    def __init__(self, array):
        self.array = array

    def __eq__(self, other):
        return isinstance(other, HostArray) and same(self.array, other.array)

    def merged_with(self, others):
        return Varying(self, "holds other values in another trace (an index or a mask "
                             "computed from the input values cannot be frozen)")

    def __repr__(self):
        return f"HostArray{self.array.shape}"


@dataclass
class Closure:
    """A function option: its qualified name and its free variables, frozen."""
    qualname: str
    nonlocals: dict

    def merged_with(self, others):
        if any(b.qualname != self.qualname for _, b in others):
            return Varying(self, "is another function in another trace")
        return Closure(self.qualname, merge(self.nonlocals, [(v, b.nonlocals)
                                                             for v, b in others]))


@dataclass
class Record:
    """An object option (an indexing geometry): its type name and attributes, frozen."""
    kind: str
    fields: dict

    def merged_with(self, others):
        if any(b.kind != self.kind for _, b in others):
            return Varying(self, "is another kind of object in another trace")
        return Record(self.kind, merge(self.fields, [(v, b.fields) for v, b in others]))


def host(array) -> np.ndarray:
    """A host copy of a NumPy or numba device array (any strides). A broadcast view (zero
    strides: flip's index ramps span the whole tensor) is copied once per distinct element
    and seen again through zero strides, read-only."""
    if not isinstance(array, np.ndarray):
        return Tensor._from_array(array, "cuda").numpy()
    if array.size and 0 in array.strides:
        compact = array[tuple(slice(0, 1) if s == 0 else slice(None) for s in array.strides)]
        return np.broadcast_to(np.array(compact), array.shape)
    return np.array(array)


def _is_array(value) -> bool:
    """A NumPy array or a numba device array (the simulator's stand-in too)."""
    return isinstance(value, np.ndarray) or (hasattr(value, "copy_to_host")
                                              and hasattr(value, "shape"))


def freeze(value, owners):
    """value as plain comparable data; owners maps id(array) to a parameter's name."""
    if isinstance(value, Tensor):
        value = value._array
    if _is_array(value):
        name = owners.get(id(value))
        return ParamArray(name) if name is not None else HostArray(host(value))
    if isinstance(value, (bool, int, float, str, type(None), np.generic, dtypes.dtype)):
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(freeze(v, owners) for v in value)
    if isinstance(value, dict):
        return {k: freeze(v, owners) for k, v in value.items()}
    if isinstance(value, types.FunctionType):
        free = inspect.getclosurevars(value).nonlocals
        return Closure(value.__qualname__, {k: freeze(v, owners) for k, v in free.items()})
    if hasattr(value, "__dict__"):
        return Record(type(value).__qualname__,
                      {k: freeze(v, owners) for k, v in vars(value).items()})
    return value


def _tensors(value):
    """The tensors in a nested structure of arguments, in order."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _meta(t):
    return tuple(int(n) for n in t.shape), t.dtype


@dataclass
class Trace:
    calls: dict          # path -> Call: (i,) for the i-th top-level call, (i, j) for the j-th
                         # call inside composite (i,), and so on
    top: list            # the paths of the calls not inside a composite, in order
    outputs: list        # refs of the output tensors
    output_meta: list
    consts: dict         # (path, i) -> the host array of ("const", path, i)
    input_meta: list
    params: dict         # name -> (shape, dtype) of the parameters and buffers read


class Group:
    """A composite call that returned no tensor: only the calls inside it count."""
    name = "group"


class Tracer:
    """autograd.tracer while a forward pass runs: see the module docstring."""

    def __init__(self, inputs, named_tensors):
        self.calls, self.top, self.frames = {}, [], []
        self.consts, self.params, self._const_counts = {}, {}, Counter()
        self._bound = {}    # id(tensor) -> (ref, tensor, version when bound)
        self._by_array = {}   # id(array) -> a bound tensor holding it
        self._param_names = {id(t): name for name, t in named_tensors}
        self.owners = {id(t._array): name for name, t in named_tensors}
        self.input_meta = [_meta(t) for t in inputs]
        for i, t in enumerate(inputs):
            self._bind(t, ("input", i))

    def __enter__(self):
        if autograd.tracer is not None:
            raise OnnxExporterError("gpucnn.onnx.export was called inside a forward pass that "
                                    "is being exported")
        autograd.tracer = self
        return self

    def __exit__(self, *exc):
        autograd.tracer = None
        return False

    # ---------------------------------------------------------------- binding tensors
    def _bind(self, tensor, ref):
        self._bound[id(tensor)] = (ref, tensor, tensor._version.value)
        self._by_array[id(tensor._array)] = tensor

    def _current(self, tensor):
        """tensor's ref if bound and not changed since, ("stale", why) if changed, or None."""
        entry = self._bound.get(id(tensor))
        if entry is None:
            return None
        ref, _, version = entry
        if tensor._version.value == version:
            return ref
        return ("stale", f"a tensor of shape {tuple(tensor.shape)} was changed in place by an "
                         f"op the exporter does not see (fill_, zero_, uniform_, normal_, "
                         f"x[...] = v outside autograd) or through another view of its "
                         f"memory; build the value out of place (torch.where, torch.cat, "
                         f"masked_fill) instead")

    def ref(self, tensor):
        ref = self._current(tensor)
        if ref is not None:
            return ref
        # detach() and .data share a bound tensor's array: the same value
        holder = self._by_array.get(id(tensor._array))
        if holder is not None and holder._array is tensor._array:
            ref = self._current(holder)
        elif id(tensor) in self._param_names:
            name = self._param_names[id(tensor)]
            ref = ("param", name)
            self.params[name] = _meta(tensor)
        else:
            frame = self.frames[-1][0] if self.frames else ()
            index = self._const_counts[frame]
            self._const_counts[frame] += 1
            ref = ("const", frame, index)
            self.consts[(frame, index)] = host(tensor._array)
        self._bind(tensor, ref)
        return ref

    # ---------------------------------------------------------------- what autograd reports
    def _slot(self):
        """The path of the next call in the current frame, reserved."""
        prefix, siblings = self.frames[-1] if self.frames else ((), self.top)
        path = prefix + (len(siblings),)
        siblings.append(path)
        return path

    def _add(self, call, outputs, path=None):
        path = path or self._slot()
        self.calls[path] = call
        for k, t in enumerate(outputs):
            self._bind(t, ("call", path, k))

    def record(self, op, inputs, options, result):
        refs = [self.ref(t) for t in inputs]
        self._add(Call(op, refs, freeze(options, self.owners), [_meta(t) for t in inputs],
                       [_meta(result)]), [result])

    def composite(self, key, fn, args, kwargs):
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        tensors, arguments = [], {}
        for name, value in bound.arguments.items():
            arguments[name] = self._placeholders(value, tensors)
        refs = [self.ref(t) for t in tensors]   # bound here, outside the call's frame
        in_meta = [_meta(t) for t in tensors]
        path, inner = self._slot(), []
        self.frames.append((path, inner))
        try:
            result = fn(*args, **kwargs)
        finally:
            self.frames.pop()
        outputs = list(_tensors(result))
        if not outputs or not isinstance(result, (Tensor, tuple)):
            self.calls[path] = Call(Group, [], {}, [], [], inner=inner)
            return result
        call = Call(key, refs, arguments, in_meta, [_meta(t) for t in outputs], inner=inner,
                    aliases=[self.ref(t) for t in outputs])
        self._add(call, outputs, path)
        return result

    def _placeholders(self, value, tensors):
        """value with each tensor replaced by its TensorArg (appended to tensors), frozen."""
        if isinstance(value, Tensor):
            tensors.append(value)
            return TensorArg(len(tensors) - 1)
        if isinstance(value, (tuple, list)):
            return type(value)(self._placeholders(v, tensors) for v in value)
        return freeze(value, self.owners)

    def assigned(self, target, result, op):
        call = Call(Assign, [self.ref(result)], {"op": op}, [_meta(result)], [_meta(target)])
        self._add(call, [target])

    # ---------------------------------------------------------------- the result
    def finish(self, outputs) -> Trace:
        refs = [self.ref(t) for t in outputs]
        return Trace(self.calls, self.top, refs, [_meta(t) for t in outputs], self.consts,
                     self.input_meta, self.params)


@dataclass
class UniformConst:
    """A constant of one value whose shape follows dynamic axes (a padding block)."""
    value: object
    dtype: np.dtype
    shape: tuple


def merge_traces(base: Trace, others) -> Trace:
    """Trace A with the extra traces [(Variant, Trace), ...] laid over it (dynamic.merge): the
    same ops must have run, on the same values; what changed becomes Dims and Varyings. A
    composite whose inner calls differ between traces (batched matmul loops over the batch)
    keeps only its own record: it must be translated whole."""
    calls = {}
    for variant, other in others:
        _check_same_ops(base, other, variant, base.top, other.top)
    _merge_calls(base, others, base.top, calls)
    consts = {key: _merge_const(a, [(v, t.consts[key]) for v, t in others])
              if all(key in t.consts for _, t in others) else
              Varying(f"constant of shape {a.shape}", "is made inside ops that change with "
                      "the dynamic axes") for key, a in base.consts.items()}
    return Trace(calls, base.top, base.outputs,
                 _merge_meta(base.output_meta, [(v, t.output_meta) for v, t in others]),
                 consts, _merge_meta(base.input_meta, [(v, t.input_meta) for v, t in others]),
                 base.params)


def _merge_calls(base, others, paths, calls):
    for path in paths:
        call = base.calls[path]
        counterparts = [(v, t.calls[path]) for v, t in others]
        inner_same = all(_same_structure(base, t, call.inner, c.inner)
                         for (v, t), (_, c) in zip(others, counterparts))
        merged = Call(call.op, call.inputs,
                      merge(call.options, [(v, c.options) for v, c in counterparts]),
                      _merge_meta(call.in_meta, [(v, c.in_meta) for v, c in counterparts]),
                      _merge_meta(call.out_meta, [(v, c.out_meta) for v, c in counterparts]),
                      call.inner if inner_same else [], call.aliases if inner_same else [],
                      inner_varies=not inner_same)
        calls[path] = merged
        if inner_same:
            _merge_calls(base, others, call.inner, calls)


def _merge_meta(metas, others):
    return [(merge(shape, [(v, m[i][0]) for v, m in others]), dtype)
            for i, (shape, dtype) in enumerate(metas)]


def _merge_const(a, others):
    if all(same(a, b) for _, b in others):
        return a
    arrays = [a] + [b for _, b in others]
    if all(x.dtype == a.dtype and x.size and x.ndim == a.ndim for x in arrays):
        first = a.reshape(-1)[0]
        if all(same(np.full(x.shape, first, x.dtype), x) for x in arrays):
            shape = merge(a.shape, [(v, b.shape) for v, b in others])
            if not any(isinstance(n, Varying) for n in shape):
                return UniformConst(first, a.dtype, tuple(shape))
    return Varying(f"constant of shape {a.shape}", "depends on the input values or sizes "
                   "in a way the exporter cannot follow (made outside the ops, e.g. through "
                   ".item(), .tolist() or .numpy(), or random)")


def _differs(a, b):
    """Why calls a and b (at one path in two traces) are not the same op on the same values,
    or None."""
    if a.op is not b.op or a.inputs != b.inputs or len(a.out_meta) != len(b.out_meta) or \
            [d for _, d in a.in_meta] != [d for _, d in b.in_meta] or \
            [d for _, d in a.out_meta] != [d for _, d in b.out_meta]:
        return f"{b.name} instead of {a.name}, or on other values"
    return None


def _same_structure(ta, tb, paths_a, paths_b) -> bool:
    if paths_a != paths_b:
        return False
    for path in paths_a:
        a, b = ta.calls[path], tb.calls[path]
        if _differs(a, b) or not _same_structure(ta, tb, a.inner, b.inner) or \
                a.aliases != b.aliases:
            return False
    return True


def _check_same_ops(base, other, variant, paths_a, paths_b):
    """The calls at paths_a of base against those at paths_b of other: the same ops on the
    same values (composites' inner calls may differ: see merge_traces)."""
    problem = None
    if paths_a != paths_b:
        problem = f"{len(paths_b)} ops instead of {len(paths_a)}"
    else:
        for path in paths_a:
            a, b = base.calls[path], other.calls[path]
            problem = _differs(a, b)
            if problem is not None:
                problem = f"op {'.'.join(map(str, path))} is {problem}"
                break
            if a.op is Group:
                _check_same_ops(base, other, variant, a.inner, b.inner)
    if problem is None and paths_a is base.top and base.outputs != other.outputs:
        problem = "other outputs"
    if problem is None:
        return
    if variant.kind == "values":
        raise OnnxExporterError(
            f"the forward pass ran other ops for other input values ({problem}): "
            f"Python control flow on tensor values (if x.sum() > 0, .item(), .tolist()) "
            f"cannot be recorded in a graph; move the decision out of forward or express it "
            f"with tensor ops (torch.where)")
    raise OnnxExporterError(
        f"the forward pass ran other ops with the dynamic axis '{variant.axis}' of size "
        f"{2 * variant.size} instead of {variant.size} ({problem}): a Python loop or branch "
        f"over a dynamic size cannot be recorded in a graph; export with that axis static "
        f"(leave it out of dynamic_axes) or avoid the loop")
