"""The `kernels` suite: each kernel at the layer shapes of LeNet-5 and the CIFAR convnet.

Every case calls the public kernel function (gpucnn.kernels.<op>_cpu / _cuda) the way the
engine does, letting it allocate its output, and the torch reference the same way, so both
sides pay for an allocation from their own pool. On the GPU every rung of a kernel's version
ladder is its own case, and matmul also runs at 1024^3 and 4096^3.
"""
from functools import partial

import numpy as np

from .. import reference
from ..case import Case, Prepared, Timed, check_arrays, lazy_sets, sets_for, timed_first_call
from ..flops import (ConvShape, conv2d_bytes, conv2d_flops, matmul_bytes, matmul_flops,
                     max_pool2d_bytes, pool_out_hw)
from ...kernels import conv2d, matmul
from .common import batches, cpu_twin, dims, kernel, torch_label, versions

# (layer, input C, H, W, output K, kernel R=S, padding) at batch N.
CONV_LAYERS = [
    ("lenet.conv1", 1, 28, 28, 6, 5, 2),
    ("lenet.conv2", 6, 14, 14, 16, 5, 0),
    ("convnet.conv1", 3, 32, 32, 32, 3, 1),
    ("convnet.conv2", 32, 16, 16, 64, 3, 1),
    ("convnet.conv3", 64, 8, 8, 128, 3, 1),
]
# (layer, C, H, W) pooled 2x2, stride 2.
POOL_LAYERS = [
    ("lenet.pool1", 6, 28, 28),
    ("lenet.pool2", 16, 10, 10),
    ("convnet.pool1", 32, 32, 32),
    ("convnet.pool2", 64, 16, 16),
    ("convnet.pool3", 128, 8, 8),
]
# (layer, in_features, out_features)
FC_LAYERS = [
    ("lenet.fc1", 400, 120),
    ("lenet.fc2", 120, 84),
    ("lenet.fc3", 84, 10),
    ("convnet.fc1", 2048, 256),
    ("convnet.fc2", 256, 10),
]
CONV_OPS = ("conv2d_forward", "conv2d_backward_data", "conv2d_backward_weight")
POOL_OPS = ("max_pool2d_forward", "max_pool2d_backward")
# A linear layer's three products (see kernels/matmul.py), named by their transposes:
#   nt  y  = x  . W^T + b   (forward)         M=batch, N=out, K=in
#   nn  dx = dy . W         (backward data)   M=batch, N=in,  K=out
#   tn  dW = dy^T . x       (backward weight) M=out,   N=in,  K=batch
MATMUL_FORMS = {"matmul_nt": ("A·Bᵀ", False, True), "matmul_nn": ("A·B", False, False),
                "matmul_tn": ("Aᵀ·B", True, False)}
SQUARE_SIZES = (1024, 4096)
TOLERANCE = reference.TOLERANCE


# With --quick on the GPU, the lower rungs of each version ladder run at one shape only (the
# default version runs everywhere): enough to see what each rung buys within a short session.
QUICK_LADDER_SHAPES = ("convnet.conv2", "square1024")


def cases(env) -> list[Case]:
    out = []
    for batch in batches(env):
        for layer, c, h, w, k, r, pad in CONV_LAYERS:
            cs = ConvShape(batch, c, h, w, k, r, r, 1, pad)
            for op in CONV_OPS:
                out += _versioned(env, conv2d, partial(conv_case, op, layer, cs), layer)
        for layer, c, h, w in POOL_LAYERS:
            for op in POOL_OPS:
                out.append(pool_case(op, layer, (batch, c, h, w), 2, 2))
        for layer, fan_in, fan_out in FC_LAYERS:
            for name in MATMUL_FORMS:
                m, n, kk = _fc_mnk(name, batch, fan_in, fan_out)
                out += _versioned(env, matmul,
                                  partial(matmul_case, name, layer, m, n, kk, name == "matmul_nt",
                                          batch), layer)
    if env.on_gpu:
        for size in SQUARE_SIZES:
            for name in MATMUL_FORMS:
                out += _versioned(env, matmul,
                                  partial(matmul_case, name, f"square{size}", size, size, size,
                                          False, None), f"square{size}")
    return out


def _fc_mnk(name, batch, fan_in, fan_out):
    return {"matmul_nt": (batch, fan_out, fan_in), "matmul_nn": (batch, fan_in, fan_out),
            "matmul_tn": (fan_out, fan_in, batch)}[name]


def _versioned(env, module, make, shape_name):
    """One case per CUDA version on the GPU (marked when it is the default; with --quick the
    whole ladder only at QUICK_LADDER_SHAPES); one case on the CPU."""
    if not env.on_gpu:
        return [make(None, None)]
    ladder, default = versions(module)
    if env.quick and shape_name not in QUICK_LADDER_SHAPES:
        ladder = [default]
    return [make(v, default) for v in ladder]


def _version_meta(version, default) -> dict:
    return {} if version is None else {"default_version": version == default}


def _suffix_id(case_id, version):
    return case_id if version is None else f"{case_id}/v{version}"


# ------------------------------------------------------------------------------ convolution

def conv_case(op, layer, cs: ConvShape, version, default) -> Case:
    return Case("kernels", op, _suffix_id(f"{op}/{layer}/b{cs.n}", version), cs.describe(),
                conv2d_flops(cs), conv2d_bytes(cs, op), partial(_prepare_conv, op, cs, version),
                batch=cs.n, version=version,
                meta={"layer": layer, "op": op, **_version_meta(version, default)})


def _prepare_conv(op, cs: ConvShape, version, env) -> Prepared:
    fn = kernel(env, op)
    extra = {} if version is None else {"version": version}
    geometry = ((cs.stride, cs.stride), (cs.pad,) * 4, (1, 1), cs.groups)

    def make_host():
        if op == "conv2d_forward":
            return env.rand(*cs.x_shape), env.rand(*cs.w_shape), env.rand(cs.k)
        if op == "conv2d_backward_data":
            return env.rand(*cs.y_shape), env.rand(*cs.w_shape)
        return env.rand(*cs.x_shape), env.rand(*cs.y_shape)

    def call(f, arrays, **kw):
        if op == "conv2d_forward":
            return f(*arrays, *geometry, **kw)
        if op == "conv2d_backward_data":
            return f(arrays[0], arrays[1], cs.x_shape, *geometry, **kw)
        return f(arrays[0], arrays[1], cs.w_shape, *geometry, **kw)

    out_shape = {"conv2d_forward": cs.y_shape, "conv2d_backward_data": cs.x_shape,
                 "conv2d_backward_weight": cs.w_shape}[op]
    set_bytes = sum(a.nbytes for a in make_host())
    n_sets = sets_for(env, set_bytes)
    hosts = [make_host() for _ in range(n_sets)]
    devs = [tuple(env.to_device(a) for a in h) for h in hosts]

    def check():
        host = make_host()
        dev = tuple(env.to_device(a) for a in host)
        poison = env.poisoned(out_shape)
        out, first = timed_first_call(env, lambda: call(fn, dev, out=poison, **extra))
        if env.on_gpu:
            expected, detail = call(cpu_twin(op), host), "vs the CPU twin"
        else:
            expected, detail = _conv_reference(op, cs, host), "vs float64 NumPy"
        return check_arrays(env, [(op, out, expected)], detail, first, TOLERANCE)

    refs = []
    if env.torch is not None:
        refs.append(_torch_conv(env, op, cs, hosts))
    return Prepared(lambda i: call(fn, devs[i % n_sets], **extra), check, refs, n_sets)


def _conv_reference(op, cs, host):
    if op == "conv2d_forward":
        x, w, b = host
        return reference.conv2d_forward(x, w, b, cs.stride, cs.pad)
    if op == "conv2d_backward_data":
        dy, w = host
        return reference.conv2d_backward_data(dy, w, cs.x_shape, cs.stride, cs.pad)
    x, dy = host
    return reference.conv2d_backward_weight(x, dy, cs.w_shape, cs.stride, cs.pad)


def _torch_conv(env, op, cs, hosts):
    torch = env.torch
    tsets = lazy_sets(hosts, env.torch_tensor)
    n = len(hosts)
    stride, pad = cs.stride, cs.pad
    if op == "conv2d_forward":
        def run(i):
            x, w, b = tsets()[i % n]
            return torch.nn.functional.conv2d(x, w, b, stride, pad)
    elif op == "conv2d_backward_data":
        def run(i):
            dy, w = tsets()[i % n]
            return torch.nn.grad.conv2d_input(cs.x_shape, w, dy, stride, pad)
    else:
        def run(i):
            x, dy = tsets()[i % n]
            return torch.nn.grad.conv2d_weight(x, cs.w_shape, dy, stride, pad)
    return Timed(torch_label(env, "cudnn", "onednn"), run, ("torch", op, cs))


# ---------------------------------------------------------------------------------- pooling

def pool_case(op, layer, x_shape, kernel_size, stride) -> Case:
    n, c, h, w = x_shape
    oh, ow = pool_out_hw(h, w, kernel_size, stride)
    shape = f"x {dims(x_shape)}, {kernel_size}x{kernel_size} stride {stride} -> {dims((n, c, oh, ow))}"
    return Case("kernels", op, f"{op}/{layer}/b{n}", shape, 0,
                max_pool2d_bytes(x_shape, kernel_size, stride, op),
                partial(_prepare_pool, op, x_shape, kernel_size, stride), batch=n,
                meta={"layer": layer, "op": op})


def _prepare_pool(op, x_shape, k, s, env) -> Prepared:
    forward = kernel(env, "max_pool2d_forward")
    backward = kernel(env, "max_pool2d_backward")
    n, c, h, w = x_shape
    oh, ow = pool_out_hw(h, w, k, s)
    y_shape = (n, c, oh, ow)
    geometry = (k, s, 0, False)  # kernel_size, stride, padding, ceil_mode

    def make_host():
        x = env.rand(*x_shape)
        if op == "max_pool2d_forward":
            return (x,)
        # The backward needs indices a forward pass really produced: take them from the
        # float64 reference (the check of the forward case verifies the kernel's own).
        _, indices = reference.max_pool2d_forward(x, k, s)
        return env.rand(*y_shape), indices.astype(np.int32), x

    hosts = [make_host() for _ in range(sets_for(env, 4 * (n * c * h * w + 2 * n * c * oh * ow)))]
    n_sets = len(hosts)
    devs = [tuple(env.to_device(a) for a in h[:2]) for h in hosts]

    if op == "max_pool2d_forward":
        def run(i):
            return forward(devs[i % n_sets][0], *geometry)

        def check():
            (x,) = make_host()
            out, ind = env.poisoned(y_shape), env.poisoned(y_shape, np.int32)
            (y, indices), first = timed_first_call(
                env, lambda: forward(env.to_device(x), *geometry, out=out, indices=ind))
            if env.on_gpu:
                ey, ei = cpu_twin("max_pool2d_forward")(x, *geometry)
                detail = "vs the CPU twin (values and indices)"
            else:
                ey, ei = reference.max_pool2d_forward(x, k, s)
                detail = "vs float64 NumPy (values and indices)"
            return check_arrays(env, [("y", y, ey), ("indices", indices, ei.astype(np.int32))],
                                detail, first, TOLERANCE)
    else:
        def run(i):
            dy, indices = devs[i % n_sets]
            return backward(dy, indices, x_shape, *geometry)

        def check():
            dy, indices, _ = make_host()
            out = env.poisoned(x_shape)
            dx, first = timed_first_call(env, lambda: backward(
                env.to_device(dy), env.to_device(indices), x_shape, *geometry, out=out))
            if env.on_gpu:
                expected = cpu_twin("max_pool2d_backward")(
                    dy, indices, x_shape, *geometry)
                detail = "vs the CPU twin"
            else:
                expected, detail = reference.max_pool2d_backward(dy, indices, x_shape), \
                    "vs float64 NumPy"
            return check_arrays(env, [("dx", dx, expected)], detail, first, TOLERANCE)

    refs = []
    if env.torch is not None:
        refs.append(_torch_pool(env, op, hosts, k, s))
    return Prepared(run, check, refs, n_sets)


def _torch_pool(env, op, hosts, k, s):
    torch = env.torch
    F = torch.nn.functional
    if op == "max_pool2d_forward":
        xs = [env.torch_tensor(h[0]) for h in hosts]

        def run(i):
            return F.max_pool2d(xs[i % len(xs)], k, s, return_indices=True)
    else:
        sets = []
        for dy, _, x in hosts:
            tx = env.torch_tensor(x)
            _, tind = F.max_pool2d(tx, k, s, return_indices=True)
            sets.append((env.torch_tensor(dy), tx, tind))

        def run(i):
            dy, x, ind = sets[i % len(sets)]
            return torch.ops.aten.max_pool2d_with_indices_backward(
                dy, x, [k, k], [s, s], [0, 0], [1, 1], False, ind)
    return Timed(torch_label(env, "cuda", "cpu"), run, ("torch", op, hosts[0][0].shape))


# ----------------------------------------------------------------------------------- matmul

def matmul_case(name, layer, m, n, k, bias, batch, version, default) -> Case:
    form, trans_a, trans_b = MATMUL_FORMS[name]
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)
    shape = (f"{form}: M={m} N={n} K={k} (a {dims(a_shape)}, b {dims(b_shape)}"
             f"{', + bias' if bias else ''})")
    case_id = f"{name}/{layer}" + (f"/b{batch}" if batch is not None else "")
    return Case("kernels", name, _suffix_id(case_id, version), shape, matmul_flops(m, n, k),
                matmul_bytes(m, n, k, bias),
                partial(_prepare_matmul, m, n, k, trans_a, trans_b, bias, version),
                batch=batch, version=version,
                meta={"layer": layer, "op": "matmul", "form": form,
                      **_version_meta(version, default)})


def _prepare_matmul(m, n, k, trans_a, trans_b, bias, version, env) -> Prepared:
    fn = kernel(env, "matmul")
    extra = {} if version is None else {"version": version}
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)

    def make_host():
        return env.rand(*a_shape), env.rand(*b_shape), (env.rand(n) if bias else None)

    def call(f, arrays, **kw):
        a, b, bb = arrays
        return f(a, b, trans_a, trans_b, bb, **kw)

    n_sets = sets_for(env, 4 * (m * k + k * n + n))
    hosts = [make_host() for _ in range(n_sets)]
    devs = [tuple(None if a is None else env.to_device(a) for a in h) for h in hosts]

    def check():
        host = make_host()
        dev = tuple(None if a is None else env.to_device(a) for a in host)
        poison = env.poisoned((m, n))
        out, first = timed_first_call(env, lambda: call(fn, dev, out=poison, **extra))
        if env.on_gpu:
            expected, detail = call(cpu_twin("matmul"), host), "vs the CPU twin"
        else:
            expected = reference.matmul(host[0], host[1], trans_a, trans_b, host[2])
            detail = "vs float64 NumPy"
        return check_arrays(env, [("out", out, expected)], detail, first, TOLERANCE)

    refs = []
    key = (m, n, k, trans_a, trans_b, bias)
    if env.torch is not None:
        torch = env.torch
        tsets = lazy_sets(hosts, env.torch_tensor)

        def torch_run(i):
            a, b, bb = tsets()[i % n_sets]
            a, b = (a.T if trans_a else a), (b.T if trans_b else b)
            return torch.addmm(bb, a, b) if bb is not None else torch.mm(a, b)
        refs.append(Timed(torch_label(env, "cublas", "mkl"), torch_run, ("torch",) + key))
    if env.cupy is not None:
        cp = env.cupy
        csets = lazy_sets(hosts, env.cupy_array)

        def cupy_run(i):
            a, b, bb = csets()[i % n_sets]
            out = cp.matmul(a.T if trans_a else a, b.T if trans_b else b)
            if bb is not None:
                out += bb
            return out
        refs.append(Timed(f"cupy {cp.__version__} cublas fp32", cupy_run, ("cupy",) + key))
    return Prepared(lambda i: call(fn, devs[i % n_sets], **extra), check, refs, n_sets)
