"""torch.Tensor's is_* questions about a tensor (where it lives, what it holds), answered
for gpucnn's tensors: Tensor inherits them from `TensorFlags`.

A gpucnn tensor is dense and strided, on "cpu" or "cuda", of float32, int64, int32 or bool:
so it is never on an XPU, MPS, meta, IPU, XLA, MAIA, MTIA or Vulkan device, never sparse,
quantized, MKL-DNN, nested, complex, conjugated or negated (these flags are False, as they
are for such a torch tensor). It is an inference tensor when its memory was made inside
gpucnn.inference_mode() (a view made there of other memory is not). Host memory is never
pinned; "cuda" memory counts as shared, as torch's CUDA tensors do.
"""
import builtins

from .kernels._views import data_pointer



def _false(doc):
    return property(lambda self: False, doc=doc)


class TensorFlags:
    is_xpu = _false("False: gpucnn has no XPU device")
    is_mps = _false("False: gpucnn has no MPS (Apple GPU) device")
    is_meta = _false("False: gpucnn tensors always hold data")
    is_ipu = _false("False")
    is_xla = _false("False")
    is_maia = _false("False")
    is_mtia = _false("False")
    is_vulkan = _false("False")
    is_sparse = _false("False: gpucnn tensors are dense")
    is_sparse_csr = _false("False: gpucnn tensors are dense")
    is_quantized = _false("False: gpucnn has no quantized dtypes")
    is_mkldnn = _false("False: gpucnn does not use oneDNN layouts")
    is_nested = _false("False: gpucnn has no nested tensors")

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        """True for float32, int64 and int32; False for bool."""
        return self.dtype.is_signed

    def is_inference(self) -> bool:
        """Whether this tensor's memory was made inside gpucnn.inference_mode() (its
        version counter, one per storage, records it)."""
        return self._version.inference

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def is_pinned(self, device=None) -> bool:
        """False: gpucnn's host arrays are ordinary pageable memory."""
        return False

    def is_shared(self) -> bool:
        """torch's answer: "cuda" memory is shared; host memory is not in shared memory."""
        return self.is_cuda

    def is_distributed(self) -> bool:
        return False

    def is_coalesced(self) -> bool:
        raise RuntimeError("is_coalesced expected sparse coordinate tensor layout but got "
                           "Strided")

    def is_nonzero(self) -> bool:
        """The one element's truth (torch's errors for none or several)."""
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() > 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return builtins.bool(self.item())

    def is_same_size(self, other) -> bool:
        if not isinstance(other, TensorFlags):
            raise TypeError(f"is_same_size(): argument 'other' must be Tensor, not "
                            f"{type(other).__name__}")
        return self.shape == other.shape

    def is_set_to(self, tensor) -> bool:
        """Whether both tensors are the same memory seen the same way: same device, first
        element, shape and strides."""
        if not isinstance(tensor, TensorFlags):
            raise TypeError(f"is_set_to(): argument 'tensor' must be Tensor, not "
                            f"{type(tensor).__name__}")
        return (self.device == tensor.device and self.shape == tensor.shape
                and self.stride() == tensor.stride()
                and data_pointer(self._array) == data_pointer(tensor._array))

