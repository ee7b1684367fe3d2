"""Random numbers from a counter-based generator, Philox4x32-10: the same numbers on CPU and GPU.

    uniform(out, seed, offset, low=0, high=1)   float32 in [low, high)
    normal(out, seed, offset, mean=0, std=1)    float32, Box-Muller
    randint(out, seed, offset, low, high)       int64 in [low, high)
    dropout_mask(out, seed, offset, p)          float32: 0 with probability p, else 1 / (1 - p)

Each op fills `out` (C-contiguous, any shape, read as flat) and returns it; `_cpu` is the @njit
twin on NumPy arrays, `_cuda` the launcher on numba device arrays.

The generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the
Random123 library; curand and PyTorch use the same block function, though not the same counter
layout, so the numbers are not PyTorch's) is a keyed bijection of a 128-bit counter: no state
to carry between threads or calls. Element i of a call uses

    counter = (lo32(offset + i), hi32(offset + i), 0, 0),  key = (lo32(seed), hi32(seed))

and one block per element, of whose four output words w0..w3 it uses one or two. That spends
two to four times the arithmetic of a generator that uses every word, and buys the two
properties the engine needs: element i depends on (seed, offset + i) alone, so a thread never
needs another thread's block and the CPU and GPU orders of work do not matter; and one draw
of n numbers equals two draws of n1 and n - n1 with the offset advanced by n1 in between (the
engine keeps (seed, offset) and advances offset by out.size after every call).

From the words:
    uniform       u = (w0 >> 8) * 2**-24 in [0, 1) (24 bits: exact in float32);
                  out = low + (high - low) * u in float32 (which can round up to high itself
                  for some low and high, as PyTorch's can)
    normal        u1 = ((w0 >> 8) + 1) * 2**-24 in (0, 1], u2 = (w1 >> 8) * 2**-24;
                  out = mean + std * sqrt(-2 log u1) cos(2 pi u2)
    randint       out = low + ((w1 << 32 | w0) mod (high - low)), unsigned 64-bit arithmetic
                  (as PyTorch's 64-bit path; biased by at most span / 2**64)
    dropout_mask  out = 0 where u < p else 1 / (1 - p) (u as in uniform; the scale computed
                  once in float32 by the launcher): the engine multiplies by it (PyTorch's
                  inverted dropout)

The CPU and GPU results are bit-identical for uniform, randint and dropout_mask; normal agrees
to the last bits of the two math libraries' log, sqrt and cos (about 1e-6 relative).

seed: an int in [0, 2**64); offset: an int >= 0 with offset + out.size < 2**64. Bad input
raises TypeError/ValueError naming the op, the argument and out's shape, before any kernel runs.

Numba's integer typing mixes signed and unsigned into float64 (uint64 op int64) and widens
uint32 products unpredictably, so every Philox word is a uint64 holding 32 bits, every literal
is a np.uint64, and each 32 x 32 -> 64-bit product (mulhi/mullo) is one uint64 multiply.
Float literals are np.float32 (a Python float would make the GPU compute in float64).
"""
import math
import numbers

import numpy as np
from numba import cuda, njit, prange
from numba.cuda import config, libdevice
from numba.extending import register_jitable

from ._checks import ceil_div, check_array, check_device, check_host
from ._registry import Twins, cuda_kernel

VERSIONS = (1,)
DEFAULT_VERSION = 1

THREADS = 256
# As elementwise.py: enough blocks to fill an H100 several times over; larger arrays are covered
# by the grid-stride loops. Tests lower it to exercise the stride.
MAX_BLOCKS = 4096

F = np.float32
U64 = np.uint64
FLOAT32, INT64 = np.dtype(np.float32), np.dtype(np.int64)

# ================================================================ Philox4x32-10
# Constants of Random123's philox4x32: the round multipliers and the Weyl sequence that
# advances the key between rounds (the golden ratio and sqrt(3) - 1, in 32 bits).
PHILOX_M0 = U64(0xD2511F53)
PHILOX_M1 = U64(0xCD9E8D57)
PHILOX_W0 = U64(0x9E3779B9)
PHILOX_W1 = U64(0xBB67AE85)
PHILOX_ROUNDS = 10

_MASK32 = U64(0xFFFFFFFF)
_SHIFT32 = U64(32)
_SHIFT8 = U64(8)
_TO_UNIT = F(2.0 ** -24)          # (w >> 8) * 2**-24: 24 random bits, exact in float32
_ONE = F(1.0)
_MINUS_TWO = F(-2.0)
_TWO_PI = F(2.0 * math.pi)
_UINT64_LIMIT = 2 ** 64


@njit(inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """One Philox4x32-10 block: counter words c0..c3 and key words k0, k1 (ints below 2**32,
    any integer type) to four output words (uint64 values below 2**32).

    A round multiplies c0 and c2 by M0 and M1 into 64 bits and mixes the high halves with the
    other two words and the key: (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1,
    lo(M0 c0)); the key then advances by (W0, W1) mod 2**32. Inlined into both the CUDA
    kernels and the CPU loops, so the two run this very code."""
    c0, c1, c2, c3 = U64(c0), U64(c1), U64(c2), U64(c3)
    k0, k1 = U64(k0), U64(k1)
    for _ in range(PHILOX_ROUNDS):
        # Both factors are below 2**32, so the product fits in uint64 exactly.
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        c0, c1, c2, c3 = ((p1 >> _SHIFT32) ^ c1 ^ k0, p1 & _MASK32,
                          (p0 >> _SHIFT32) ^ c3 ^ k1, p0 & _MASK32)
        k0 = (k0 + PHILOX_W0) & _MASK32
        k1 = (k1 + PHILOX_W1) & _MASK32
    return c0, c1, c2, c3


@njit(inline="always")
def _block(seed, offset, i):
    """The four words of element i of a call with (seed, offset): seed and offset uint64,
    i any non-negative integer. offset + i < 2**64 (the launchers check)."""
    ctr = offset + U64(i)
    return philox4x32_10(ctr & _MASK32, ctr >> _SHIFT32, U64(0), U64(0),
                         seed & _MASK32, seed >> _SHIFT32)


@njit(inline="always")
def _unit(w):
    """[0, 1) from a word's top 24 bits: exact (a 24-bit integer times a power of two)."""
    return F(np.int32(w >> _SHIFT8)) * _TO_UNIT


# ================================================================ one element of each op
# Written once as plain functions, registered for @njit code; _cpu_and_kernel below makes each
# op's CUDA kernel and CPU twin call its function with the same arguments.

@register_jitable(inline="always")
def _uniform_value(seed, offset, i, low, span):
    w0, _, _, _ = _block(seed, offset, i)
    return low + span * _unit(w0)


# cos(2 pi t) for t in [0, 1), written out rather than math.cos: libdevice's cosf carries a
# Payne-Hanek reduction for huge arguments that computes in float64 (a .f64 instruction in the
# PTX, which the PTX tests forbid), and t never needs it. The nearest quarter turn q is taken off
# exactly (t has 24 bits), leaving x = 2 pi r with |r| <= 1/8, |x| <= pi/4, where Taylor
# polynomials to x**8 (cos) and x**9 (sin) are accurate to about 3e-8; the rounding of float32
# arithmetic dominates (about 1e-7). Both twins run this code.
_COS_2, _COS_4, _COS_6, _COS_8 = F(-1 / 2), F(1 / 24), F(-1 / 720), F(1 / 40320)
_SIN_3, _SIN_5, _SIN_7, _SIN_9 = F(-1 / 6), F(1 / 120), F(-1 / 5040), F(1 / 362880)


@njit(inline="always")
def cos_turns(t):
    """cos(2 pi t) in float32 for a float32 t in [0, 1)."""
    q = np.int32(t * F(4.0) + F(0.5))      # nearest quarter turn: 0..4
    x = (t - F(q) * F(0.25)) * _TWO_PI     # the subtraction is exact
    x2 = x * x
    c = _ONE + x2 * (_COS_2 + x2 * (_COS_4 + x2 * (_COS_6 + x2 * _COS_8)))
    s = x + x * x2 * (_SIN_3 + x2 * (_SIN_5 + x2 * (_SIN_7 + x2 * _SIN_9)))
    # cos(x + quadrant * pi / 2) is c, -s, -c, s: two selects, no branches, so the CPU loop
    # vectorises (four returns made it 4x slower) and GPU threads do not diverge.
    quadrant = q & 3
    v = s if quadrant & 1 else c
    return -v if (quadrant + 1) & 2 else v


@register_jitable(inline="always")
def _normal_value(seed, offset, i, mean, std):
    w0, w1, _, _ = _block(seed, offset, i)
    # (k + 1) * 2**-24 for k < 2**24: in (0, 1], so log never sees 0. Exact in float32.
    u1 = (F(np.int32(w0 >> _SHIFT8)) + _ONE) * _TO_UNIT
    z = math.sqrt(_MINUS_TWO * math.log(u1)) * cos_turns(_unit(w1))
    return mean + std * z


@register_jitable(inline="always")
def _randint_value(seed, offset, i, low_bits, span):
    """low_bits: low as a uint64 (two's complement); span = high - low, 1 <= span < 2**64.
    low + r wraps in uint64 to the right int64: the true result lies in [low, high)."""
    w0, w1, _, _ = _block(seed, offset, i)
    r = ((w1 << _SHIFT32) | w0) % span
    return np.int64(low_bits + r)


@register_jitable(inline="always")
def _dropout_value(seed, offset, i, p, scale):
    w0, _, _, _ = _block(seed, offset, i)
    return F(0.0) if _unit(w0) < p else scale


# The GPU's uniform. NVVM contracts a multiply feeding an add into one fma (its default, -fma=1),
# which rounds once where the CPU rounds twice: low + span * u would differ from the CPU twin in
# the last bit for some low and span. libdevice's fmul_rn / fadd_rn become PTX mul.rn / add.rn,
# which the compiler never fuses.
#
# The simulator runs kernels as Python; they call the CPU compilation of the value functions
# (a device function would run as Python too, in NumPy scalars, not in the twins' arithmetic).
# No contraction there, and libdevice's functions are stubs.
if config.ENABLE_CUDASIM:
    _device = njit(inline="always")
    _uniform_value_gpu = _uniform_value
else:
    _device = cuda.jit(device=True, inline="always")

    def _uniform_value_gpu(seed, offset, i, low, span):
        w0, _, _, _ = _block(seed, offset, i)
        return libdevice.fadd_rn(low, libdevice.fmul_rn(span, _unit(w0)))


# ================================================================ CUDA kernels and CPU twins
# out[i] = value(seed, offset, i, s, t) over a flat out (the launchers reshape), s and t the
# op's two scalars: float32, or uint64 for randint; seed and offset uint64. The CUDA kernels
# run grid-stride loops over a grid capped at MAX_BLOCKS blocks, the CPU twins numba parallel
# loops, one element per iteration: the same formulas, so the same numbers.
#
# Both are closures over the value function, and numba keys a closure's disk cache by the
# pickled objects it captures: a plain function pickles as its name, a CUDA device function
# as its plain function, an @njit dispatcher as a new id in every process (its cache would
# never be found). So the CPU twins capture the plain function (inlined, so the loop
# vectorises) and the kernels a device function made from it.

_FLOAT_SIG = "void(float32[::1], uint64, uint64, float32, float32)"
_JIT = dict(parallel=True, cache=True, error_model="numpy")


def _cpu_and_kernel(kernel_name, signature, value, value_gpu=None):
    """(CPU twin, CUDA kernel named kernel_name) of one op; value_gpu: the kernel's form of
    value, where the GPU needs its own."""
    device = _device(value_gpu or value)

    @njit(**_JIT)
    def cpu(out, seed, offset, s, t):
        for i in prange(out.size):
            out[i] = value(seed, offset, i, s, t)

    def kernel(out, seed, offset, s, t):
        for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            out[i] = device(seed, offset, i, s, t)
    return cpu, cuda_kernel(signature, name=kernel_name)(kernel)


_KERNELS = {  # op: (CPU twin, CUDA kernel)
    "uniform": _cpu_and_kernel("_uniform_kernel", _FLOAT_SIG, _uniform_value, _uniform_value_gpu),
    "normal": _cpu_and_kernel("_normal_kernel", _FLOAT_SIG, _normal_value),
    "randint": _cpu_and_kernel("_randint_kernel",
                               "void(int64[::1], uint64, uint64, uint64, uint64)",
                               _randint_value),
    "dropout_mask": _cpu_and_kernel("_dropout_mask_kernel", _FLOAT_SIG, _dropout_value),
}


# ================================================================ checks and launch

def _grid(n: int) -> int:
    return max(1, min(ceil_div(n, THREADS), MAX_BLOCKS))


def _shape(out):
    return tuple(getattr(out, "shape", ()))


def _check_out(name, on_device, out, dtype):
    """An array of `dtype`, C-contiguous, on the launcher's side of the bus."""
    if not hasattr(out, "shape") or not hasattr(out, "dtype"):
        raise TypeError(f"{name}: out must be an array, got {type(out).__name__}")
    (check_device if on_device else check_host)(name, "out", out)
    check_array(name, "out", out, None, dtype)


def _integer(name, arg, value, out):
    """A Python (or NumPy) int; bools and floats are refused, not converted."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {arg} must be an int, got {value!r} (out shape {_shape(out)})")
    return int(value)


def _counter(name, out, seed, offset):
    """seed and offset as uint64, after checking that every counter of the call fits in 64
    bits (a wrapped counter would repeat numbers of another call)."""
    seed = _integer(name, "seed", seed, out)
    offset = _integer(name, "offset", offset, out)
    if not 0 <= seed < _UINT64_LIMIT:
        raise ValueError(f"{name}: seed {seed} must be in [0, 2**64) (out shape {_shape(out)})")
    if offset < 0 or offset + out.size >= _UINT64_LIMIT:
        raise ValueError(f"{name}: offset {offset} must be >= 0 with offset + out.size "
                         f"({out.size}, out shape {_shape(out)}) < 2**64")
    return U64(seed), U64(offset)


def _float32(name, arg, value, out):
    """A finite real number, as the float32 the kernels compute with."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {arg} must be a real number, got {value!r} "
                        f"(out shape {_shape(out)})")
    with np.errstate(over="ignore"):
        result = F(value)
    if not np.isfinite(result):
        raise ValueError(f"{name}: {arg} = {value!r} is not a finite float32 "
                         f"(out shape {_shape(out)})")
    return result


def _run(name, on_device, out, dtype, op, seed, offset, *scalars):
    """Check out, seed and offset (the op's scalars are checked by the caller, before), then
    fill out through the op's CPU twin or CUDA kernel."""
    _check_out(name, on_device, out, dtype)
    seed, offset = _counter(name, out, seed, offset)
    if out.size == 0:
        return out
    flat = out.reshape(out.size)
    cpu, kernel = _KERNELS[op]
    if on_device:
        kernel[_grid(out.size), THREADS](flat, seed, offset, *scalars)
    else:
        cpu(flat, seed, offset, *scalars)
    return out


def _uniform(name, on_device, out, seed, offset, low, high):
    low32, high32 = _float32(name, "low", low, out), _float32(name, "high", high, out)
    if not low32 <= high32:
        raise ValueError(f"{name}: low {low!r} must be <= high {high!r} "
                         f"(out shape {_shape(out)})")
    with np.errstate(over="ignore"):
        span = high32 - low32          # float32 arithmetic, once, for both twins
    if not np.isfinite(span):
        raise ValueError(f"{name}: high - low ({high!r} - {low!r}) overflows float32 "
                         f"(out shape {_shape(out)})")
    return _run(name, on_device, out, FLOAT32, "uniform", seed, offset, low32, span)


def _normal(name, on_device, out, seed, offset, mean, std):
    mean32, std32 = _float32(name, "mean", mean, out), _float32(name, "std", std, out)
    if std32 < 0:
        raise ValueError(f"{name}: std {std!r} must be >= 0 (out shape {_shape(out)})")
    return _run(name, on_device, out, FLOAT32, "normal", seed, offset, mean32, std32)


def _randint(name, on_device, out, seed, offset, low, high):
    low = _integer(name, "low", low, out)
    high = _integer(name, "high", high, out)
    if not -2 ** 63 <= low < high <= 2 ** 63 or high - low >= _UINT64_LIMIT:
        raise ValueError(f"{name}: need -2**63 <= low < high <= 2**63 and high - low < 2**64, "
                         f"got low {low}, high {high} (out shape {_shape(out)})")
    return _run(name, on_device, out, INT64, "randint", seed, offset,
                U64(low % _UINT64_LIMIT), U64(high - low))


def _dropout_mask(name, on_device, out, seed, offset, p):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name}: p must be a real number, got {p!r} (out shape {_shape(out)})")
    if not 0 <= p <= 1:                # NaN fails too
        raise ValueError(f"{name}: p {p!r} must be in [0, 1] (out shape {_shape(out)})")
    p32 = F(p)
    # p rounding to 1 in float32 drops everything (u < 1 always): no scale needed then.
    scale = _ONE / (_ONE - p32) if p32 < _ONE else F(0.0)
    return _run(name, on_device, out, FLOAT32, "dropout_mask", seed, offset, p32, scale)


# ================================================================ launchers

def uniform_cpu(out, seed, offset, low=0.0, high=1.0):
    """out (float32) = low + (high - low) * u, u uniform in [0, 1) from (seed, offset + i)."""
    return _uniform("uniform_cpu", False, out, seed, offset, low, high)


def uniform_cuda(out, seed, offset, low=0.0, high=1.0):
    return _uniform("uniform_cuda", True, out, seed, offset, low, high)


def normal_cpu(out, seed, offset, mean=0.0, std=1.0):
    """out (float32) = mean + std * z, z standard normal (Box-Muller, one per element)."""
    return _normal("normal_cpu", False, out, seed, offset, mean, std)


def normal_cuda(out, seed, offset, mean=0.0, std=1.0):
    return _normal("normal_cuda", True, out, seed, offset, mean, std)


def randint_cpu(out, seed, offset, low, high):
    """out (int64) uniform in [low, high): low + (64 random bits mod (high - low))."""
    return _randint("randint_cpu", False, out, seed, offset, low, high)


def randint_cuda(out, seed, offset, low, high):
    return _randint("randint_cuda", True, out, seed, offset, low, high)


def dropout_mask_cpu(out, seed, offset, p):
    """out (float32) = 0 with probability p, else 1 / (1 - p); 0 <= p <= 1."""
    return _dropout_mask("dropout_mask_cpu", False, out, seed, offset, p)


def dropout_mask_cuda(out, seed, offset, p):
    return _dropout_mask("dropout_mask_cuda", True, out, seed, offset, p)


OPS = {
    "uniform": Twins(uniform_cpu, uniform_cuda),
    "normal": Twins(normal_cpu, normal_cuda),
    "randint": Twins(randint_cpu, randint_cuda),
    "dropout_mask": Twins(dropout_mask_cpu, dropout_mask_cuda),
}
