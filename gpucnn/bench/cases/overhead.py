"""GPU launch overhead: a tiny elementwise op (ReLU on 256 floats) issued many times.

Three depths of the same launch, so the JSON shows where the microseconds go:

    kernel     the numba kernel launched directly: elementwise's flat float32 unary kernel
               [1, 256](U_RELU, x, out, 0, 0)
    launcher   gpucnn.kernels.elementwise.unary_cuda(U_RELU, x, out): argument checks, layout
               plan + launch
    tensor_op  gpucnn.nn.functional.relu(t) under no_grad: the engine's dispatch path (Function,
               backend lookup, output from the memory pool, a new Tensor) + the launch

timed as host wall time per call over blocks of back-to-back calls, synchronised at both ends
(the kernel itself takes about a microsecond; the host's issue rate is the cost). The
reference is torch.relu on a 256-float CUDA tensor: PyTorch's own per-op overhead.
"""
from functools import partial

import numpy as np

from numba import cuda

from ... import kernels
from ...kernels.map_ops import U_RELU
from ...autograd import no_grad
from ...nn import functional as F
from ...factories import tensor
from ..case import Case, Check, Prepared, Timed, timed_first_call
from ..timing import HostClock

SIZE = 256
DEPTHS = ("kernel", "launcher", "tensor_op")


def cases(env) -> list[Case]:
    if not env.on_gpu:
        return []
    return [Case("kernels", "launch_overhead", f"launch_overhead/{depth}", f"relu on {SIZE} floats",
                 None, None, partial(_prepare, depth), meta={"depth": depth, "unit": "launch"})
            for depth in DEPTHS]


def _prepare(depth, env) -> Prepared:
    host = env.rand(SIZE)
    x = cuda.to_device(host)
    out = cuda.device_array(SIZE, np.float32)
    t = tensor(host, device="cuda")
    if depth == "kernel":
        launch = kernels.elementwise.cuda_kernel_of("unary", "flat", np.float32)[1, SIZE]
        relu, zero = np.int32(U_RELU), np.float32(0.0)

        def call():
            launch(relu, x, out, zero, zero)
            return out
    elif depth == "launcher":
        def call():
            return kernels.elementwise.unary_cuda(U_RELU, x, out)
    else:
        def call():
            with no_grad():
                return F.relu(t)

    def check():
        result, first = timed_first_call(env, call)
        values = result.numpy() if hasattr(result, "numpy") and not hasattr(result, "copy_to_host") \
            else env.to_host(result)
        ok = bool(np.array_equal(values, np.maximum(host, 0)))
        return Check(ok, 0.0 if ok else float("inf"), "vs np.maximum(x, 0), exact", first)

    refs = []
    if env.torch is not None:
        tt = env.torch_tensor(host)
        refs.append(Timed(f"torch {env.torch.__version__} cuda fp32 (torch.relu)",
                          lambda _i: env.torch.relu(tt), ("torch", "launch_overhead")))
    return Prepared(lambda _i: call(), check, refs, 1, clock=HostClock(env.clock.sync))
