"""The ONNX graph under construction: nodes, initializers, and the forms that change with the
opset, so that the translations (translations.py) write one line per ONNX op.

    g.op("Conv", x, w, strides=[1, 1])     a node; its output name (a list for several)
    g.constant(array)                      an initializer (small ones shared by value)
    g.ints([0, Dim, 400])                  a 1-D int64 tensor; Dims become Shape ops
    g.reduce("ReduceSum", x, axes, keep)   axes as an attribute or an input, by opset
    g.unsqueeze / g.squeeze / g.cast       the same for those

Numbers that follow a dynamic axis (dynamic.Dim) are computed at run time from the shape of
the graph input that carries the axis; an attribute or a constant that would freeze one is
an error (DynamicValueError) naming the op.
"""
from collections import Counter

import numpy as np

from .dynamic import Dim, Varying, is_dynamic

INT64_MAX = np.iinfo(np.int64).max


class Graph:
    def __init__(self, onnx, opset: int):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes = []
        self.initializers = {}   # name -> NumPy array
        self.inputs, self.outputs = [], []
        self.axis_sources = {}   # dynamic axis name -> (graph input name, axis)
        self._counts = Counter()
        self._shared = {}        # (dtype, shape, bytes) of a small constant -> its name
        self._dims = {}          # Dim -> the name of its 1-D int64 value
        self.scope = ""          # the op being translated, for node names

    # ---------------------------------------------------------------- names
    def fresh(self, base: str) -> str:
        self._counts[base] += 1
        count = self._counts[base]
        return base if count == 1 and base not in self.initializers else f"{base}_{count - 1}"

    # ---------------------------------------------------------------- nodes and constants
    def op(self, op_type, *inputs, outputs=1, **attrs):
        for key, value in attrs.items():
            _check_static(value)
        name = self.fresh(f"/{self.scope}/{op_type}" if self.scope else f"/{op_type}")
        names = [f"{name}_output_{k}" for k in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, [i if i is not None else ""
                                                          for i in inputs],
                                                names, name=name, **attrs))
        return names[0] if outputs == 1 else names

    def constant(self, array, name=None) -> str:
        """An initializer holding array: `name`, or onnx::Constant_N (no parameter name holds
        '::'), shared with an earlier one of the same small value."""
        array = np.asarray(array)
        if array.dtype == object:
            for value in array.reshape(-1):
                _check_static(value)
        if name is None and array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._shared:
                return self._shared[key]
            name = self._shared[key] = self.fresh("onnx::Constant")
        elif name is None:
            name = self.fresh("onnx::Constant")
        self.initializers[name] = np.array(array, order="C")
        return name

    def scalar(self, value, dtype) -> str:
        """A 0-d constant of NumPy dtype `dtype`."""
        _check_static(value)
        return self.constant(np.array(value, dtype=dtype))

    def ints(self, values) -> str:
        """A 1-D int64 tensor of `values`: a constant, or, where some are Dims, a Concat of
        constants and their run-time values."""
        values = list(values)
        if not any(is_dynamic(v) for v in values):
            return self.constant(np.array(values, dtype=np.int64).reshape(len(values)))
        pieces, run = [], []
        for v in values:
            if isinstance(v, Dim):
                if run:
                    pieces.append(self.constant(np.array(run, dtype=np.int64)))
                    run = []
                pieces.append(self.dim(v))
            else:
                _check_static(v)
                run.append(int(v))
        if run:
            pieces.append(self.constant(np.array(run, dtype=np.int64)))
        return pieces[0] if len(pieces) == 1 else self.op("Concat", *pieces, axis=0)

    def dim(self, d: Dim) -> str:
        """d's value at run time, as a 1-D int64 tensor of one element."""
        if d in self._dims:
            return self._dims[d]
        source, axis = self.axis_sources[d.axis]
        if self.opset >= 15:
            value = self.op("Shape", source, start=axis, end=axis + 1)
        else:
            value = self.op("Gather", self.op("Shape", source), self.ints([axis]), axis=0)
        if d.ratio.numerator != 1:
            value = self.op("Mul", value, self.ints([d.ratio.numerator]))
        if d.ratio.denominator != 1:
            value = self.op("Div", value, self.ints([d.ratio.denominator]))
        self._dims[d] = value
        return value

    def rollback(self, mark: int):
        """Drop the nodes made since len(self.nodes) was `mark` (a translation that gave up)
        and the run-time sizes they computed; returns the names of the values dropped."""
        dropped = {out for node in self.nodes[mark:] for out in node.output}
        del self.nodes[mark:]
        self._dims = {d: name for d, name in self._dims.items() if name not in dropped}
        return dropped

    # ---------------------------------------------------------------- opset-dependent forms
    def reduce(self, op_type, x, axes, keepdims):
        axes = [int(a) for a in axes]
        # ReduceSum takes its axes as an input from opset 13, the others from opset 18.
        if self.opset >= (13 if op_type == "ReduceSum" else 18):
            return self.op(op_type, x, self.ints(axes), keepdims=int(keepdims))
        return self.op(op_type, x, axes=axes, keepdims=int(keepdims))

    def unsqueeze(self, x, axes):
        if self.opset >= 13:   # axes as an input from opset 13
            return self.op("Unsqueeze", x, self.ints(axes))
        return self.op("Unsqueeze", x, axes=[int(a) for a in axes])

    def squeeze(self, x, axes):
        if self.opset >= 13:
            return self.op("Squeeze", x, self.ints(axes))
        return self.op("Squeeze", x, axes=[int(a) for a in axes])

    def cast(self, x, from_dtype, to_dtype):
        """x (of gpucnn dtype from_dtype) as to_dtype: x itself when they are one."""
        if from_dtype is to_dtype:
            return x
        return self.op("Cast", x, to=self.tensor_type(to_dtype))

    def tensor_type(self, dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype.numpy))

    def slice(self, x, shape, axes, starts, ends, steps=None):
        """x[start:end:step] along each of axes; an end equal to the dim's size (also a Dim
        equal to it) reads to the end, whatever the size at run time."""
        ends = [INT64_MAX if e == shape[a] else e for a, e in zip(axes, ends)]
        inputs = [x, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None and any(s != 1 for s in steps):
            inputs.append(self.ints(steps))
        return self.op("Slice", *inputs)


def _check_static(value):
    """Raise the DynamicValueError of the first Dim or Varying in value (an attribute)."""
    if isinstance(value, (Dim, Varying)):
        value._refuse()
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_static(item)
