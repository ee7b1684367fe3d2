"""export's work: check the arguments, trace the forward pass, translate, fold, write.

1. The arguments are checked before the model runs (TypeError / ValueError naming the
   argument): args and kwargs flattened to the tensors that become graph inputs, names,
   dynamic axes, opset.
2. The model runs under no_grad in the chosen mode (eval by default) with a Tracer
   installed: once as given, once with other input values, once per dynamic axis name with
   that axis doubled (dynamic.py says why); its buffers and the random state are put
   back afterwards, so exporting changes nothing in the model. The traces are merged.
3. The calls that reach the outputs are translated in order (translations.py), composites
   whole where they have a translation, else through the calls recorded inside them.
4. Constants are folded and BatchNorms merged into the Conv / Gemm before them (folding.py),
   the model is checked with onnx.checker (full_check) and written.
"""
import inspect
import io
import os
import warnings
from collections.abc import Sequence

import numpy as np

from .. import __version__, random
from ..autograd import no_grad
from ..nn.module import Module
from ..serialization import write_atomically
from ..tensor import Tensor
from . import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, OperatorExportTypes, TrainingMode
from .dynamic import Dim, DynamicValueError, Variant
from .errors import OnnxExporterError, UnsupportedOperatorError
from .folding import fold
from .graph import Graph
from .tracer import ParamArray, Tracer, UniformConst, merge_traces
from .translations import is_composite, translation_of

_UNSUPPORTED_OPTIONS = {   # torch's options with no gpucnn counterpart, and their defaults
    "dynamic_shapes": (None, "give dynamic_axes={'input': {0: 'batch'}} instead"),
    "custom_translation_table": (None, "add a translation to gpucnn/onnx/translations.py"),
    "report": (False, "gpucnn writes no export report"),
    "verify": (False, "run the model with onnxruntime.InferenceSession and compare"),
    "profile": (False, "gpucnn does not profile the export"),
    "dump_exported_program": (False, "gpucnn has no torch.export program"),
    "custom_opsets": (None, "gpucnn writes the standard ai.onnx domain only"),
    "export_modules_as_functions": (False, "gpucnn writes a flat graph"),
}
EXTERNAL_DATA_THRESHOLD = 1024      # bytes: smaller initializers stay in the model file
PROTOBUF_LIMIT = 2 ** 31 - 1        # a ModelProto larger than this must keep its weights out


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("gpucnn.onnx.export needs the onnx package: pip install "
                          "'gpucnn[onnx]' (onnx, and onnxruntime to run the model)") from None
    return onnx


def export(model, args, f, *, kwargs, verbose, input_names, output_names, opset_version,
           external_data, export_params, keep_initializers_as_inputs, dynamic_axes, training,
           operator_export_type, do_constant_folding, **ignored):
    for option, (default, instead) in _UNSUPPORTED_OPTIONS.items():
        value = ignored.get(option, default)
        if value is not default and value != default:
            raise NotImplementedError(f"export: {option}={ignored[option]!r} is not supported "
                                      f"by gpucnn's exporter; {instead}")
    onnx = _import_onnx()
    if not callable(model):
        raise TypeError(f"export: model must be a gpucnn.nn.Module or a function, got "
                        f"{type(model).__name__}")
    args, kwargs = _arguments(args, kwargs)
    inputs = list(_tensors((args, kwargs)))
    if not inputs:
        raise ValueError("export: args hold no tensor: the graph would have no input")
    input_names = _input_names(model, args, kwargs, input_names, len(inputs))
    opset = _opset(opset_version)
    if operator_export_type not in (OperatorExportTypes.ONNX, None):
        raise NotImplementedError(f"export: operator_export_type={operator_export_type!r} is "
                                  f"not supported; gpucnn writes standard ONNX ops only "
                                  f"(OperatorExportTypes.ONNX)")
    _check_flag("export_params", export_params)
    _check_flag("keep_initializers_as_inputs", keep_initializers_as_inputs)
    _check_flag("do_constant_folding", do_constant_folding)
    _check_flag("external_data", external_data)
    destination = _destination(f)
    axes = _dynamic_axes(dynamic_axes)
    input_axes = _input_axes(axes, input_names, inputs)

    named = _named_tensors(model)
    with _prepared(model, training, named):
        trace = _trace(model, args, kwargs, named)
        output_names = _output_names(output_names, len(trace.outputs), input_names)
        _check_axis_keys(axes, input_names, output_names, trace)
        merged = merge_traces(trace, _other_traces(model, args, kwargs, inputs, input_axes,
                                                   named))
    graph = Graph(onnx, opset)
    emitter = _translate(graph, merged, inputs, input_names, dict(named), export_params)
    _name_outputs(onnx, graph, emitter, merged, output_names, axes)
    if do_constant_folding:
        protected = {info.name for info in graph.inputs}
        if keep_initializers_as_inputs and export_params:   # weights one may override
            protected |= set(emitter.param_initializers)
        fold(graph, protected)
    model_proto = _model(onnx, graph, keep_initializers_as_inputs and export_params)
    if model_proto.ByteSize() < PROTOBUF_LIMIT:
        onnx.checker.check_model(model_proto, full_check=True)
    if verbose:
        print(onnx.printer.to_text(model_proto.graph))
    _write(onnx, model_proto, destination, external_data)
    return model_proto


def _other_traces(model, args, kwargs, inputs, input_axes, named):
    """[(Variant, Trace)]: the model on other input values, then with each dynamic axis
    doubled (dynamic.py)."""
    others = []
    try:   # a model that refuses other values (a check on them) is traced as given only
        permuted = _rebuilt(args, kwargs, inputs, _permuted)
        others.append((Variant("values"), _trace(model, *permuted, named)))
    except Exception:  # noqa: BLE001  (any error of the user's forward)
        pass
    for axis, size in _axis_sizes(input_axes, inputs).items():
        grown = _rebuilt(args, kwargs, inputs, _doubler(input_axes, inputs, axis))
        try:
            others.append((Variant("axis", axis, size), _trace(model, *grown, named)))
        except OnnxExporterError:
            raise
        except Exception as error:  # noqa: BLE001
            raise OnnxExporterError(
                f"export: the model fails when the dynamic axis {axis!r} is {2 * size} "
                f"instead of {size} ({type(error).__name__}: {error}); an axis that must "
                f"have one size in several inputs needs one name in all of them "
                f"(dynamic_axes={{'a': {{0: 'batch'}}, 'b': {{0: 'batch'}}}})") from error
    return others


def _translate(graph, trace, inputs, input_names, params, export_params):
    """The graph's inputs and the nodes of every call that reaches an output."""
    emitter = _Emitter(trace, graph, params, export_params)
    for i, (name, t) in enumerate(zip(input_names, inputs)):
        shape = trace.input_meta[i][0]
        graph.inputs.append(_value_info(graph.onnx, name, t.dtype, shape, {}))
        emitter.names[("input", i)] = name
        for axis, n in enumerate(shape):
            if isinstance(n, Dim) and n.axis not in graph.axis_sources:
                graph.axis_sources[n.axis] = (name, axis)
    emitter.emit_all()
    return emitter


# ================================================================ arguments

def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"export: {name} must be a bool, got {value!r}")


def _arguments(args, kwargs):
    """(positional args, keyword args) by torch's rules: a tensor alone is (tensor,), and a
    dict ending args is the keyword arguments when kwargs is not given."""
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        raise TypeError(f"export: args must be a Tensor or a tuple of arguments, got "
                        f"{type(args).__name__}")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError(f"export: kwargs must be a dict, got {type(kwargs).__name__}")
    if not kwargs and args and isinstance(args[-1], dict):
        kwargs, args = args[-1], args[:-1]
    return args, dict(kwargs or {})


def _tensors(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _rebuild(value, replacements):
    """value with its tensors replaced, in order, by next(replacements)."""
    if isinstance(value, Tensor):
        return next(replacements)
    if isinstance(value, (tuple, list)):
        return type(value)(_rebuild(v, replacements) for v in value)
    if isinstance(value, dict):
        return {k: _rebuild(v, replacements) for k, v in value.items()}
    return value


def _rebuilt(args, kwargs, inputs, change):
    """(args, kwargs) with each input tensor t replaced by a new one of values change(i, a)."""
    replacements = iter([Tensor(change(i, t.numpy()), device=t.device, dtype=t.dtype)
                         for i, t in enumerate(inputs)])
    return _rebuild(args, replacements), _rebuild(kwargs, replacements)


def _permuted(i, values):
    """Other values of the same shape and kind: rolled by one place, floats also scaled (so
    that a sum or a maximum read with .item() changes too)."""
    rolled = np.roll(values.reshape(-1), 1).reshape(values.shape)
    return rolled * np.float32(0.75) if rolled.dtype.kind == "f" else rolled


def _doubler(input_axes, inputs, axis_name):
    def change(i, values):
        for axis, name in input_axes.get(i, {}).items():
            if name == axis_name:
                values = np.concatenate([values, values], axis=axis)
        return values
    return change


def _names(what, names):
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"export: {what} must be a list of strings, got {names!r}")
    names = list(names)
    if len(set(names)) != len(names) or not all(names):
        raise ValueError(f"export: {what} must be distinct, non-empty names, got {names!r}")
    return names


def _input_names(model, args, kwargs, given, count):
    given = _names("input_names", given) or []
    if len(given) > count:
        raise ValueError(f"export: input_names names {len(given)} inputs ({given}), but args "
                         f"hold {count} tensor(s)")
    defaults = _argument_names(model, args, kwargs, count)
    names = given + defaults[len(given):]
    for i, name in enumerate(names):   # a default may repeat a given name: make it unique
        while name in names[:i]:
            name += "_"
        names[i] = name
    return names


def _argument_names(model, args, kwargs, count):
    """The forward's parameter names of the tensor arguments (nested ones numbered)."""
    target = model.forward if isinstance(model, Module) else model
    try:
        bound = inspect.signature(target).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return [f"input_{i}" for i in range(count)]
    names = []
    for name, value in bound.arguments.items():
        tensors = list(_tensors(value))
        if len(tensors) == 1 and isinstance(value, Tensor):
            names.append(name)
        else:
            names += [f"{name}_{i}" for i in range(len(tensors))]
    return names if len(names) == count else [f"input_{i}" for i in range(count)]


def _output_names(given, count, input_names):
    given = _names("output_names", given) or []
    if len(given) > count:
        raise ValueError(f"export: output_names names {len(given)} outputs ({given}), but the "
                         f"model returns {count} tensor(s)")
    defaults = ["output"] if count == 1 else [f"output_{i}" for i in range(count)]
    names = given + defaults[len(given):]
    clash = sorted(set(names) & set(input_names))
    if clash or len(set(names)) != len(names):
        raise ValueError(f"export: output names {names} must be distinct from each other and "
                         f"from the input names {input_names}")
    return names


def _opset(opset_version):
    if opset_version is None:
        return DEFAULT_OPSET
    if isinstance(opset_version, bool) or not isinstance(opset_version, (int, np.integer)):
        raise TypeError(f"export: opset_version must be an int, got {opset_version!r}")
    if not MIN_OPSET <= opset_version <= MAX_OPSET:
        raise ValueError(f"export: opset_version {opset_version} is not supported; gpucnn "
                         f"writes opsets {MIN_OPSET} to {MAX_OPSET} (None: {DEFAULT_OPSET})")
    return int(opset_version)


def _destination(f):
    if f is None or isinstance(f, (str, os.PathLike)):
        return f
    if callable(getattr(f, "write", None)):
        return f
    raise TypeError(f"export: f must be a path, a binary file object or None, got "
                    f"{type(f).__name__}")


def _dynamic_axes(dynamic_axes):
    """{name: {axis: axis name}} from torch's dict or list forms."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"export: dynamic_axes must be a dict of {{name: {{axis: axis_name}}}} "
                        f"or {{name: [axis, ...]}}, got {type(dynamic_axes).__name__}")
    result = {}
    for key, value in dynamic_axes.items():
        if not isinstance(key, str):
            raise TypeError(f"export: dynamic_axes keys must be input or output names, got "
                            f"{key!r}")
        if isinstance(value, (list, tuple)):
            value = {axis: f"{key}_dynamic_axes_{i + 1}" for i, axis in enumerate(value)}
        if not isinstance(value, dict):
            raise TypeError(f"export: dynamic_axes[{key!r}] must be a dict {{axis: name}} or "
                            f"a list of axes, got {type(value).__name__}")
        for axis, name in value.items():
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"export: dynamic_axes[{key!r}] axes must be ints, got "
                                f"{axis!r}")
            if not isinstance(name, str) or not name:
                raise TypeError(f"export: dynamic_axes[{key!r}][{axis}] must be an axis name "
                                f"(a non-empty string), got {name!r}")
        result[key] = {int(axis): name for axis, name in value.items()}
    return result


def _normalized_axes(key, axes, rank):
    result = {}
    for axis, name in axes.items():
        if not -rank <= axis < max(rank, 1) or rank == 0:
            raise ValueError(f"export: dynamic_axes[{key!r}] names axis {axis}, but {key!r} "
                             f"has {rank} dimension(s)")
        result[axis % rank] = name
    return result


def _input_axes(axes, input_names, inputs):
    """{input index: {axis: axis name}}, checked against the inputs' shapes."""
    result, sizes = {}, {}
    for i, (name, t) in enumerate(zip(input_names, inputs)):
        if name not in axes:
            continue
        result[i] = _normalized_axes(name, axes[name], t.ndim)
        for axis, axis_name in result[i].items():
            size = int(t.shape[axis])
            if size == 0:
                raise ValueError(f"export: dynamic axis {axis} of input {name!r} ({axis_name!r})"
                                 f" has size 0 in args; give an example with at least one "
                                 f"element along it")
            if sizes.setdefault(axis_name, (size, name))[0] != size:
                raise ValueError(f"export: dynamic axis {axis_name!r} has size "
                                 f"{sizes[axis_name][0]} in input {sizes[axis_name][1]!r} but "
                                 f"{size} in input {name!r}; axes of one name must agree")
    return result


def _axis_sizes(input_axes, inputs):
    sizes = {}
    for i, axes in input_axes.items():
        for axis, name in axes.items():
            sizes.setdefault(name, int(inputs[i].shape[axis]))
    return sizes


def _check_axis_keys(axes, input_names, output_names, trace):
    for key in axes:
        if key not in input_names and key not in output_names:
            raise ValueError(f"export: dynamic_axes names {key!r}, which is neither an input "
                             f"({', '.join(input_names)}) nor an output "
                             f"({', '.join(output_names)}); give input_names / output_names "
                             f"for the names you use")
    for k, name in enumerate(output_names):
        if name in axes:
            _normalized_axes(name, axes[name], len(trace.output_meta[k][0]))


# ================================================================ running the model

def _named_tensors(model):
    """(name, tensor) of the model's parameters and buffers, each tensor once."""
    if not isinstance(model, Module):
        return []
    seen, named = set(), []
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            named.append((name, t))
    return named


class _prepared:  # noqa: N801  (a context manager)
    """The model in the export mode, under no_grad, is_in_onnx_export() true; on the way out
    its modes, buffers and the random state as they were."""

    def __init__(self, model, training, named):
        if training not in (TrainingMode.EVAL, TrainingMode.PRESERVE, TrainingMode.TRAINING):
            raise ValueError(f"export: training must be a TrainingMode (EVAL, PRESERVE, "
                             f"TRAINING), got {training!r}")
        self.model, self.training = model, TrainingMode(training)
        self.modules = list(model.modules()) if isinstance(model, Module) else []
        buffers = model.named_buffers() if isinstance(model, Module) else ()
        self.buffers = [(t, t.numpy()) for _, t in buffers]

    def __enter__(self):
        from .. import onnx as package   # where is_in_onnx_export() reads the flag
        self.package = package
        self.modes = [m.training for m in self.modules]
        self.rng = random.get_state()
        if self.modules and self.training is not TrainingMode.PRESERVE:
            self.model.train(self.training is TrainingMode.TRAINING)
        self.no_grad = no_grad()
        self.no_grad.__enter__()
        self.package._exporting = True
        return self

    def __exit__(self, *exc):
        self.package._exporting = False
        self.no_grad.__exit__(*exc)
        for module, mode in zip(self.modules, self.modes):
            module.training = mode
        for t, values in self.buffers:
            t.copy_(Tensor(values, device=t.device, dtype=t.dtype))
        random.set_state(self.rng)
        return False


def _trace(model, args, kwargs, named):
    inputs = list(_tensors((args, kwargs)))
    with Tracer(inputs, named) as tracer:
        result = model(*args, **kwargs)
        outputs = list(_tensors(result))
        if not outputs:
            raise OnnxExporterError(f"export: the model returned no tensor (got "
                                    f"{type(result).__name__})")
        return tracer.finish(outputs)


# ================================================================ translating the calls

class _Inputs(Sequence):
    """The ONNX names of a call's inputs, each made (an initializer, a constant) when first
    read: an input the translation ignores (adaptive_max_pool2d's indices) is never made."""

    def __init__(self, refs, value):
        self.refs, self.value = refs, value

    def __len__(self):
        return len(self.refs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.value(ref) for ref in self.refs[i]]
        return self.value(self.refs[i])


class _OpCall:
    """A recorded call as a translation sees it (translations.py's module docstring)."""

    def __init__(self, call, inputs, array):
        self.op, self.name, self.inputs, self.array = call.op, call.name, inputs, array
        self.shapes = [s for s, _ in call.in_meta]
        self.dtypes = [d for _, d in call.in_meta]
        self.out_shapes = [s for s, _ in call.out_meta]
        self.out_dtypes = [d for _, d in call.out_meta]
        self.options = call.options


class _Emitter:
    def __init__(self, trace, graph, params, export_params):
        self.trace, self.graph, self.params = trace, graph, params
        self.export_params = export_params
        self.names = {}               # ref -> ONNX name
        self.param_initializers = []  # names of the parameters written as initializers

    # ---------------------------------------------------------------- values
    def value(self, ref):
        if ref in self.names:
            return self.names[ref]
        kind = ref[0]
        if kind == "param":
            name = self._param(ref[1])
        elif kind == "const":
            name = self._const(self.trace.consts[ref[1:]])
        elif kind == "stale":
            raise OnnxExporterError(ref[1])
        else:
            raise OnnxExporterError(f"internal: the value {ref} is read before it is made")
        self.names[ref] = name
        return name

    def _param(self, name):
        t = self.params[name]
        if self.export_params:
            self.graph.initializers[name] = t.numpy()
            self.param_initializers.append(name)
        else:
            self.graph.inputs.append(_value_info(self.graph.onnx, name, t.dtype,
                                                 tuple(t.shape), {}))
        return name

    def _const(self, const):
        g = self.graph
        if isinstance(const, np.ndarray):
            return g.constant(const)
        if isinstance(const, UniformConst):
            value = g.onnx.numpy_helper.from_array(np.array([const.value], dtype=const.dtype))
            return g.op("ConstantOfShape", g.ints(const.shape), value=value)
        const._refuse()

    def array(self, option):
        """An array option: a parameter's (by name) or a frozen host copy."""
        if isinstance(option, ParamArray):
            return self.value(("param", option.name))
        if hasattr(option, "_refuse"):
            option._refuse()
        return self.graph.constant(option.array)

    # ---------------------------------------------------------------- calls
    def emit_all(self):
        for path in self._needed(self.trace.top, set(self.trace.outputs)):
            self.emit(path)

    def _needed(self, paths, needed):
        """The calls at `paths` whose outputs reach `needed` (a set of refs, grown with what
        they read), in order: an op whose result no output uses is not translated."""
        kept = []
        for path in reversed(paths):
            if self._made(path) & needed:
                kept.append(path)
                needed |= set(self._reads(path))
        return kept[::-1]

    def _made(self, path):
        """The refs the call at path makes, its inner calls' too."""
        call = self.trace.calls[path]
        made = {("call", path, k) for k in range(len(call.out_meta))}
        for inner in call.inner:
            made |= self._made(inner)
        return made

    def _reads(self, path):
        """The refs the call at path reads, its inner calls' too."""
        call = self.trace.calls[path]
        reads = list(call.inputs)
        for inner in call.inner:
            reads += self._reads(inner)
        return reads

    def emit(self, path):
        call = self.trace.calls[path]
        translate = translation_of(call.op)
        if call.inner or call.inner_varies or is_composite(call.op):
            if translate is not None and not self._escapes(path):
                written = len(self.graph.nodes)
                try:
                    names = self._translate(call, translate)
                except OnnxExporterError:
                    if call.inner_varies:
                        raise
                    names = NotImplemented   # the recorded ops may still export
                if names is not NotImplemented:
                    return self._bind(path, call, names)
                dropped = self.graph.rollback(written)
                self.names = {r: n for r, n in self.names.items() if n not in dropped}
            if call.inner_varies:
                raise OnnxExporterError(
                    f"{call.name}: the ops it runs change with the dynamic axes (a loop over "
                    f"a dynamic size) and it has no ONNX translation of its own here; export "
                    f"that axis static (leave it out of dynamic_axes)")
            for inner in self._needed(call.inner, set(call.aliases)):
                self.emit(inner)
            for k, alias in enumerate(call.aliases):
                self.names[("call", path, k)] = self.value(alias)
            return None
        if translate is None:
            raise UnsupportedOperatorError(call.name, _unsupported_hint(call.op))
        return self._bind(path, call, self._translate(call, translate))

    def _escapes(self, path):
        """Whether a value made inside composite `path` is read outside it (then its inner
        calls are translated, so that the value exists)."""
        call = self.trace.calls[path]
        inside = self._made(path) - {("call", path, k) for k in range(len(call.out_meta))}
        if not inside:
            return False
        for other, reader in self.trace.calls.items():
            if other[:len(path)] != path and inside & set(reader.inputs):
                return True
        return bool(inside & set(self.trace.outputs))

    def _translate(self, call, translate):
        g = self.graph
        g.scope = _scope(call)
        try:
            return translate(g, _OpCall(call, _Inputs(call.inputs, self.value), self.array))
        except DynamicValueError as error:
            raise OnnxExporterError(f"{call.name}: {error}") from None
        finally:
            g.scope = ""

    def _bind(self, path, call, names):
        names = [names] if isinstance(names, str) else list(names)
        if len(names) != len(call.out_meta):
            raise OnnxExporterError(f"internal: the translation of {call.name} gave "
                                    f"{len(names)} outputs, not {len(call.out_meta)}")
        for k, name in enumerate(names):
            self.names[("call", path, k)] = name


def _scope(call):
    op = call.op
    name = getattr(op, "name", None) if isinstance(op, type) else getattr(op, "__name__", None)
    return str(name or "op")


def _unsupported_hint(op):
    name = getattr(op, "__name__", repr(op))
    return (f"no ONNX translation of the op class {name} ({getattr(op, '__module__', '')}); "
            f"add one to gpucnn/onnx/translations.py, or keep the op out of forward")


# ================================================================ the model

def _value_info(onnx, name, dtype, shape, axis_names):
    dims = []
    for axis, n in enumerate(shape):
        if axis in axis_names:
            dims.append(axis_names[axis])
        elif isinstance(n, Dim):
            dims.append(repr(n))
        elif isinstance(n, (int, np.integer)):
            dims.append(int(n))
        else:
            dims.append(None)
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype.numpy))
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _name_outputs(onnx, graph, emitter, trace, output_names, axes):
    produced = {out for node in graph.nodes for out in node.output}
    taken = set(graph.initializers) | {info.name for info in graph.inputs} | produced
    renamed = {}   # a node's output name -> the output name it took
    for k, (ref, name) in enumerate(zip(trace.outputs, output_names)):
        value = emitter.value(ref)
        if value in produced and value not in renamed and name not in taken:
            _rename(graph, value, name)
            renamed[value] = name
        else:
            value = renamed.get(value, value)
            if name in taken:
                raise ValueError(f"export: output name {name!r} is already the name of a "
                                 f"value of the graph (a parameter or an input); choose "
                                 f"another")
            graph.nodes.append(onnx.helper.make_node("Identity", [value], [name],
                                                     name=f"/output_{k}/Identity"))
        taken.add(name)
        shape, dtype = trace.output_meta[k]
        named_axes = {axis % max(len(shape), 1): axis_name
                      for axis, axis_name in axes.get(name, {}).items()}
        graph.outputs.append(_value_info(onnx, name, dtype, shape, named_axes))


def _rename(graph, old, new):
    for node in graph.nodes:
        for field in (node.input, node.output):
            for j, value in enumerate(field):
                if value == old:
                    field[j] = new


def _model(onnx, graph, initializers_as_inputs):
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    initializers = [numpy_helper.from_array(np.array(array, order="C"), name)
                    for name, array in graph.initializers.items()]
    inputs = list(graph.inputs)
    if initializers_as_inputs:
        listed = {info.name for info in inputs}
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                   for t in initializers if t.name not in listed]
    main = helper.make_graph(graph.nodes, "main_graph", inputs, graph.outputs, initializers)
    opsets = [helper.make_opsetid("", graph.opset)]
    model = helper.make_model(main, opset_imports=opsets, producer_name="gpucnn",
                              producer_version=__version__)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    return model


def _write(onnx, model, destination, external_data):
    if destination is None:
        return
    if not isinstance(destination, (str, os.PathLike)):
        if isinstance(destination, io.BytesIO):
            warnings.warn("Saving ONNX model to a BytesIO object is deprecated. Please use a "
                          "file path instead.", DeprecationWarning, stacklevel=4)
        destination.write(model.SerializeToString())
        return
    path = os.fspath(destination)
    if external_data or model.ByteSize() >= PROTOBUF_LIMIT:
        _write_with_external_data(onnx, model, path)
        return
    write_atomically(path, model.SerializeToString())


def _write_with_external_data(onnx, model, path):
    """The model at path and its initializers over EXTERNAL_DATA_THRESHOLD bytes in
    path + ".data" beside it (ONNX's external data, torch's layout), both written
    atomically, the weights first."""
    saved = onnx.ModelProto()
    saved.CopyFrom(model)
    location = os.path.basename(path) + ".data"
    chunks, offset = [], 0
    for tensor in saved.graph.initializer:
        raw = onnx.numpy_helper.to_array(tensor).tobytes() if not tensor.HasField("raw_data") \
            else tensor.raw_data
        if len(raw) < EXTERNAL_DATA_THRESHOLD:
            continue
        padding = (-offset) % 4096   # aligned as onnx's own writer aligns large tensors
        chunks.append(b"\0" * padding)
        offset += padding
        onnx.external_data_helper.set_external_data(tensor, location, offset, len(raw))
        tensor.ClearField("raw_data")
        for field in ("float_data", "int32_data", "int64_data", "double_data"):
            tensor.ClearField(field)
        tensor.data_location = onnx.TensorProto.EXTERNAL
        chunks.append(raw)
        offset += len(raw)
    write_atomically(os.path.join(os.path.dirname(os.path.realpath(path)), location), chunks)
    write_atomically(path, saved.SerializeToString())
    if model.ByteSize() >= PROTOBUF_LIMIT:
        onnx.checker.check_model(path, full_check=True)
