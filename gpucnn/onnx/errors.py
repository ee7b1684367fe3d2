"""The exporter's errors, as torch.onnx.errors: OnnxExporterError for anything that cannot be
exported, UnsupportedOperatorError for an op that has no ONNX form (naming it)."""


class OnnxExporterError(RuntimeError):
    """The model cannot be exported as asked: the message says what and where."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op the forward pass ran has no ONNX translation in gpucnn."""

    def __init__(self, op_name: str, detail: str = ""):
        super().__init__(f"exporting the operator {op_name!r} to ONNX is not supported"
                         + (f": {detail}" if detail else ""))
        self.op_name = op_name


class DynamicValueError(OnnxExporterError):
    """A value that changes with a dynamic axis (or with the input values) was needed as a
    constant: an attribute, a loop count, a constant's size."""
