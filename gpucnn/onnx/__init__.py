"""gpucnn.onnx: a model to an ONNX file, as torch.onnx.export, for deployment (ONNX Runtime,
TensorRT, OpenVINO, ...).

    gpucnn.onnx.export(model, torch_like_args, "model.onnx", input_names=["input"],
                       output_names=["logits"], dynamic_axes={"input": {0: "batch"}})

The exporter records one forward pass op by op (tracer.py), translates every op to ONNX
nodes (translations.py, one entry per op class), folds constants (folding.py) and writes a
model that onnx.checker accepts. It needs the `onnx` package (pip install 'gpucnn[onnx]'),
imported only when export runs, so `import gpucnn` stays as fast as without it.

    __init__.py      export's signature and defaults (torch 2.13's), is_in_onnx_export
    exporter.py      the arguments checked, the traces run and merged, the model written
    tracer.py        recording a forward pass: calls of ops, composites, in-place writes
    dynamic.py       which recorded numbers follow a dynamic axis (Dim) and which froze
    graph.py         the ONNX graph under construction, opset-dependent forms
    translations.py  each op class -> ONNX nodes (the table to extend for a new op)
    folding.py       constant folding, BatchNorm folded into the preceding Conv / Gemm
    errors.py        OnnxExporterError, UnsupportedOperatorError (torch.onnx.errors)
"""
import enum

from . import errors  # noqa: F401  (gpucnn.onnx.errors, as torch.onnx.errors)
from .errors import OnnxExporterError, UnsupportedOperatorError  # noqa: F401

# torch.onnx's default opset (torch/onnx/_constants.py ONNX_DEFAULT_OPSET in torch 2.13) and
# the range gpucnn writes: from 11 (Pad, Clip and Slice with their arguments as inputs; an
# older runtime's usual floor) to torch's ONNX_MAX_OPSET.
DEFAULT_OPSET = 20
MIN_OPSET, MAX_OPSET = 11, 23

_exporting = False


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: the mode the model is exported in."""
    EVAL = 0       # model.eval() while exporting (dropout off, running statistics)
    PRESERVE = 1   # the mode the model is in
    TRAINING = 2   # model.train() while exporting


class OperatorExportTypes(enum.IntEnum):
    """torch.onnx.OperatorExportTypes; gpucnn writes standard ONNX ops only."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def is_in_onnx_export() -> bool:
    """True while export() runs the model's forward pass (torch.onnx.is_in_onnx_export)."""
    return _exporting


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=OperatorExportTypes.ONNX,
           do_constant_folding=True, custom_opsets=None, export_modules_as_functions=False,
           autograd_inlining=True):
    """Export `model` (a Module or a function of tensors) to ONNX, as torch.onnx.export.

    model(*args, **kwargs) runs once per trace (in eval mode by default: `training`), with
    no gradients; every op it applies becomes ONNX nodes. args is a tensor or a tuple of
    arguments (tensors, possibly nested in lists, tuples and dicts, become graph inputs in
    order; other values are fixed into the graph); a dict as the last element of args gives
    keyword arguments, as torch's. Parameters and buffers become initializers under their
    state_dict names (export_params=True) or graph inputs (False); other tensors made inside
    forward become constants.

    f: a path (with external_data=True, torch 2.13's default, weights larger than 1 KiB go
    to a file named after it plus ".data" beside it, as torch writes them; False keeps them
    in the model file), a binary file object (one self-contained model), or None (nothing
    written). Returns the onnx.ModelProto (torch returns an ONNXProgram around the same
    model).

    input_names / output_names name the graph's inputs and outputs (defaults: the forward
    arguments' names, "output" / "output_0", ...). dynamic_axes makes axes free, in torch's
    two forms: {"input": {0: "batch"}} or {"input": [0]} (named "input_dynamic_axes_1").
    opset_version: None for 20 (torch 2.13's default); 11 to 23. do_constant_folding folds
    subgraphs of constants and each BatchNorm that follows a Conv or a Linear into its
    weights (BatchNormalization nodes remain where it cannot: parameters as inputs, a
    BatchNorm after another op). The model written passes onnx.checker.check_model(
    full_check=True). An op with no ONNX form raises UnsupportedOperatorError naming it.

    torch's dynamo-only options that have no gpucnn counterpart (dynamic_shapes,
    custom_translation_table, report, verify, profile, dump_exported_program, custom_opsets,
    export_modules_as_functions) must stay at their defaults; dynamo, optimize,
    artifacts_dir and autograd_inlining are accepted and change nothing.
    """
    from . import exporter
    return exporter.export(**locals())
