"""The formulas of the elementwise ops, one element at a time: the one place each is written.

Every formula is a function of scalars that both twins of elementwise.py call, the CPU loops
and the CUDA kernels alike, so the two cannot compute different things. An op is picked by an
integer code; within a kernel the code is the same for every thread, so the branch costs a
few instructions, not divergence.

Each formula is compiled twice (the end of this file): `<name>_gpu`, inlined into the CUDA
kernels (numba compiles a called @njit function for the GPU only by inlining it when no GPU is
present, which the PTX tests need), and `<name>_cpu`, called, not inlined, from the CPU loops:
a 50-branch formula inlined into a parallel loop took 7 s to compile, and a branchy loop does
not vectorise anyway. The CPU loops have loops of their own for the hot ops (copy, ReLU, add,
multiply), which do vectorise.

Families, by the dtype they compute in (the engine promotes first, as PyTorch does):

    unary_float(op, x, p, q)   float32 -> float32; p, q are the op's scalars (clamp's bounds,
                               leaky_relu's slope, x + p, p / x, ...)
    unary_int(op, x, p, q)     int64 -> int64
    unary_bool(op, x, p, q)    bool -> bool
    binary_float(op, a, b, p, q)  float32, float32 -> float32 (p, q: a backward's scalars,
                               e.g. leaky_relu's negative slope, hardtanh's bounds)
    binary_int(op, a, b, p, q)   int64, int64 -> int64 (p, q unused: one call shape for all)
    binary_bool(op, a, b, p, q)  bool, bool -> bool
    compare(op, a, b, p, q)      any two of one dtype -> bool
    compare_scalar(op, x, p, q)  x OP p -> bool
    test_float(op, x, p, q)      float32 -> bool (isnan, isinf, isfinite)
    convert(op, x, p, q)         x itself: the value a cast stores (numba converts on store)

Literals are float32 (F(...)): a bare Python float would make numba compute in float64 on the
GPU (the PTX tests check there is no .f64 instruction). sin and cos are left out for the same
reason: libdevice's sinf/cosf reduce huge arguments in float64. NaN propagates as in PyTorch:
maximum/minimum/clamp/relu return NaN for a NaN input.
"""
import math

import numpy as np
from numba import int32, njit
from numba.extending import register_jitable

F = np.float32

# ---------------------------------------------------------------- op codes: unary
# float and int
U_COPY, U_NEG, U_ABS, U_SQUARE, U_SIGN = 0, 1, 2, 3, 4
U_ADD, U_MUL, U_RSUB, U_AFFINE, U_FILL = 5, 6, 7, 8, 9            # x + p, x * p, p - x,
U_MAXIMUM, U_MINIMUM, U_CLAMP = 10, 11, 12                         # x * p + q, p
U_FLOORDIV, U_REMAINDER, U_RFLOORDIV, U_RREMAINDER = 13, 14, 15, 16
U_BITNOT = 17                                                      # ints
# float only
U_DIV, U_RDIV, U_POW, U_RPOW = 20, 21, 22, 23                      # x / p, p / x, x ** p, p ** x
U_EXP, U_LOG, U_SQRT, U_RSQRT, U_RECIPROCAL = 24, 25, 26, 27, 28
U_SIGMOID, U_TANH, U_RELU, U_LEAKY_RELU, U_ELU = 29, 30, 31, 32, 33  # slope p, alpha p
U_GELU, U_GELU_TANH, U_SILU, U_SOFTPLUS = 34, 35, 36, 37           # softplus: beta p, threshold q
U_FLOOR, U_CEIL, U_ROUND, U_TRUNC = 38, 39, 40, 41
U_LOG1P, U_EXPM1, U_ERF, U_LOG2, U_LOG10 = 44, 45, 46, 47, 48
U_HARDTANH = 49                                                    # clamp to [p, q], NaN kept
# bool
U_LOGICAL_NOT = 60

# ---------------------------------------------------------------- op codes: binary
B_ADD, B_SUB, B_MUL, B_DIV, B_POW = 0, 1, 2, 3, 4
B_MAXIMUM, B_MINIMUM, B_FLOORDIV, B_REMAINDER, B_ATAN2 = 5, 6, 7, 8, 9
B_AND, B_OR, B_XOR = 10, 11, 12                                    # bitwise (ints), logical (bool)
# gradients: a is the incoming gradient g, b what the forward saved, p and q its scalars
B_RELU_GRAD = 20            # g * (x > 0)                     b = x
B_SIGMOID_GRAD = 21         # g * y * (1 - y)                 b = y
B_TANH_GRAD = 22            # g * (1 - y^2)                   b = y
B_LEAKY_RELU_GRAD = 23      # g if x > 0 else g * p           b = x
B_ELU_GRAD = 24             # g if x > 0 else g * p * exp(x)  b = x
B_GELU_GRAD = 25            # g * d/dx [x Phi(x)]             b = x
B_GELU_TANH_GRAD = 26       # g * d/dx of the tanh approximation
B_SILU_GRAD = 27            # g * s (1 + x (1 - s)), s = sigmoid(x)
B_SOFTPLUS_GRAD = 28        # g if beta x > threshold, else g * sigmoid(beta x)   p = beta, q
B_HARDTANH_GRAD = 29        # g where p < x < q, else 0
B_SQRT_GRAD = 30            # g / (2 y)                       b = y = sqrt(x)
B_RSQRT_GRAD = 31           # -g y^3 / 2                      b = y = rsqrt(x)
B_CLAMP_GRAD = 32           # g where p <= x <= q, else 0     b = x

# ---------------------------------------------------------------- op codes: compare, tests
C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE = 0, 1, 2, 3, 4, 5
T_ISNAN, T_ISINF, T_ISFINITE = 0, 1, 2

_SQRT_2_OVER_PI = F(0.7978845608028654)
_INV_SQRT_2 = F(0.7071067811865476)
_INV_SQRT_2PI = F(0.3989422804014327)
_GELU_CUBIC = F(0.044715)


@njit(inline="always")
def _sigmoid(x):
    # Stable for large |x|: exp of a non-positive number only.
    if x >= F(0.0):
        return F(1.0) / (F(1.0) + math.exp(-x))
    e = math.exp(x)
    return e / (F(1.0) + e)


@njit(inline="always")
def _nan_or(a, b, result):
    """result, unless a or b is NaN: then that NaN (torch.maximum and minimum propagate it)."""
    if a != a:
        return a
    if b != b:
        return b
    return result


@njit(inline="always")
def _max_nan(a, b):
    return _nan_or(a, b, a if a > b else b)


@njit(inline="always")
def _min_nan(a, b):
    return _nan_or(a, b, a if a < b else b)


# math.floor/ceil/trunc return Python ints in numba's CPU target (int64: wrong for NaN, inf and
# large values, and a float64 result once unified with the float branches); NumPy's ufuncs are
# missing from its CUDA target. These work in float32 on both: a float32 of magnitude 2**23 or
# more (or NaN, or inf) is already an integer.
_EXACT = F(8388608.0)


@njit(inline="always")
def _trunc(x):
    if not abs(x) < _EXACT:
        return x
    t = F(int32(x))
    return t if t != F(0.0) else x * F(0.0)   # keeps the sign of -0.3 -> -0.0


@njit(inline="always")
def _floor(x):
    t = _trunc(x)
    return t - F(1.0) if t > x else t


@njit(inline="always")
def _ceil(x):
    t = _trunc(x)
    return t + F(1.0) if t < x else t


@njit(inline="always")
def _float_mod(a, b):
    """torch.remainder: a - floor(a / b) * b, the sign of the divisor."""
    return a - _floor(a / b) * b


@njit(inline="always")
def _gelu_tanh(x):
    inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
    return F(0.5) * x * (F(1.0) + math.tanh(inner))


@njit(inline="always")
def _softplus(x, beta, threshold):
    if x * beta > threshold:
        return x
    return math.log1p(math.exp(beta * x)) / beta


# The formulas that read the same in float32 and int64, returning the input for any other op:
# unary_float/int and binary_float/int end in them. Where an op stands in a chain costs
# nothing: the compiler turns the chain of op tests into one switch.
@njit(inline="always")
def _unary_numeric(op, x, p, q):
    if op == U_COPY:
        return x
    if op == U_MUL:
        return x * p
    if op == U_ADD:
        return x + p
    if op == U_AFFINE:
        return x * p + q
    if op == U_NEG:
        return -x
    if op == U_FILL:
        return p
    if op == U_RSUB:
        return p - x
    if op == U_ABS:
        return abs(x)
    if op == U_SQUARE:
        return x * x
    return x


@njit(inline="always")
def _binary_numeric(op, a, b):
    if op == B_ADD:
        return a + b
    if op == B_MUL:
        return a * b
    if op == B_SUB:
        return a - b
    return a


def unary_float(op, x, p, q):
    if op == U_RELU:
        return x if x > F(0.0) or x != x else F(0.0)
    if op == U_DIV:
        return x / p
    if op == U_RDIV:
        return p / x
    if op == U_EXP:
        return math.exp(x)
    if op == U_LOG:
        return math.log(x) if x > F(0.0) else (F(-math.inf) if x == F(0.0) else F(math.nan))
    if op == U_SQRT:
        return math.sqrt(x) if x >= F(0.0) else F(math.nan)
    if op == U_RSQRT:
        return F(1.0) / math.sqrt(x) if x >= F(0.0) else F(math.nan)
    if op == U_SIGMOID:
        return _sigmoid(x)
    if op == U_TANH:
        return math.tanh(x)
    if op == U_POW:
        return x ** p
    if op == U_RPOW:
        return p ** x
    if op == U_RECIPROCAL:
        return F(1.0) / x
    if op == U_CLAMP:
        return _min_nan(_max_nan(x, p), q) if x == x else x
    if op == U_MAXIMUM:
        return _max_nan(x, p)
    if op == U_MINIMUM:
        return _min_nan(x, p)
    if op == U_HARDTANH:
        if x != x:
            return x
        return p if x < p else (q if x > q else x)
    if op == U_LEAKY_RELU:
        return x if x > F(0.0) else x * p
    if op == U_ELU:
        return x if x > F(0.0) else p * math.expm1(x)
    if op == U_GELU:
        return F(0.5) * x * (F(1.0) + math.erf(x * _INV_SQRT_2))
    if op == U_GELU_TANH:
        return _gelu_tanh(x)
    if op == U_SILU:
        return x * _sigmoid(x)
    if op == U_SOFTPLUS:
        return _softplus(x, p, q)
    if op == U_SIGN:
        return F(1.0) if x > F(0.0) else (F(-1.0) if x < F(0.0) else x * F(0.0))
    if op == U_FLOOR:
        return _floor(x)
    if op == U_CEIL:
        return _ceil(x)
    if op == U_ROUND:
        # Half to even, as torch.round.
        if not abs(x) < _EXACT:
            return x
        r = _floor(x + F(0.5))
        if r - x == F(0.5) and _floor(r * F(0.5)) * F(2.0) != r:
            r -= F(1.0)
        return r
    if op == U_TRUNC:
        return _trunc(x)
    if op == U_FLOORDIV:
        return _floor(x / p)
    if op == U_RFLOORDIV:
        return _floor(p / x)
    if op == U_REMAINDER:
        return _float_mod(x, p)
    if op == U_RREMAINDER:
        return _float_mod(p, x)
    if op == U_LOG1P:
        return math.log1p(x)
    if op == U_EXPM1:
        return math.expm1(x)
    if op == U_ERF:
        return math.erf(x)
    if op == U_LOG2:
        return math.log(x) * F(1.4426950408889634)
    if op == U_LOG10:
        return math.log(x) * F(0.4342944819032518)
    return _unary_numeric(op, x, p, q)


def unary_int(op, x, p, q):
    if op == U_SIGN:
        return (x > 0) - (x < 0)
    if op == U_MAXIMUM:
        return x if x > p else p
    if op == U_MINIMUM:
        return x if x < p else p
    if op == U_CLAMP:
        return p if x < p else (q if x > q else x)
    if op == U_FLOORDIV:
        return x // p
    if op == U_RFLOORDIV:
        return p // x
    if op == U_REMAINDER:
        return x % p
    if op == U_RREMAINDER:
        return p % x
    if op == U_BITNOT:
        return ~x
    return _unary_numeric(op, x, p, q)


def unary_bool(op, x, p, q):
    if op == U_LOGICAL_NOT:
        return not x
    if op == U_FILL:
        return p
    return x


def binary_float(op, a, b, p, q):
    if op == B_DIV:
        return a / b
    if op == B_RELU_GRAD:
        return a if b > F(0.0) else F(0.0)
    if op == B_MAXIMUM:
        return _max_nan(a, b)
    if op == B_MINIMUM:
        return _min_nan(a, b)
    if op == B_POW:
        return a ** b
    if op == B_SIGMOID_GRAD:
        return a * b * (F(1.0) - b)
    if op == B_TANH_GRAD:
        return a * (F(1.0) - b * b)
    if op == B_LEAKY_RELU_GRAD:
        return a if b > F(0.0) else a * p
    if op == B_ELU_GRAD:
        return a if b > F(0.0) else a * p * math.exp(b)
    if op == B_GELU_GRAD:
        cdf = F(0.5) * (F(1.0) + math.erf(b * _INV_SQRT_2))
        pdf = _INV_SQRT_2PI * math.exp(F(-0.5) * b * b)
        return a * (cdf + b * pdf)
    if op == B_GELU_TANH_GRAD:
        inner = _SQRT_2_OVER_PI * (b + _GELU_CUBIC * b * b * b)
        t = math.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (F(1.0) + F(3.0) * _GELU_CUBIC * b * b)
        return a * (F(0.5) * (F(1.0) + t) + F(0.5) * b * (F(1.0) - t * t) * d_inner)
    if op == B_SILU_GRAD:
        s = _sigmoid(b)
        return a * s * (F(1.0) + b * (F(1.0) - s))
    if op == B_SOFTPLUS_GRAD:
        return a if b * p > q else a * _sigmoid(b * p)
    if op == B_HARDTANH_GRAD:
        return a if b > p and b < q else F(0.0)
    if op == B_CLAMP_GRAD:
        return a if b >= p and b <= q else F(0.0)
    if op == B_SQRT_GRAD:
        return a / (F(2.0) * b)
    if op == B_RSQRT_GRAD:
        return F(-0.5) * a * b * b * b
    if op == B_FLOORDIV:
        return _floor(a / b)
    if op == B_REMAINDER:
        return _float_mod(a, b)
    if op == B_ATAN2:
        return math.atan2(a, b)
    return _binary_numeric(op, a, b)


def binary_int(op, a, b, p, q):
    if op == B_MAXIMUM:
        return a if a > b else b
    if op == B_MINIMUM:
        return a if a < b else b
    if op == B_FLOORDIV:
        return a // b
    if op == B_REMAINDER:
        return a % b
    if op == B_AND:
        return a & b
    if op == B_OR:
        return a | b
    if op == B_XOR:
        return a ^ b
    return _binary_numeric(op, a, b)


def binary_bool(op, a, b, p, q):
    if op == B_AND or op == B_MUL or op == B_MINIMUM:
        return a and b
    if op == B_OR or op == B_ADD or op == B_MAXIMUM:
        return a or b
    if op == B_XOR:
        return a != b
    return a


def compare(op, a, b, p, q):
    if op == C_EQ:
        return a == b
    if op == C_NE:
        return a != b
    if op == C_LT:
        return a < b
    if op == C_LE:
        return a <= b
    if op == C_GT:
        return a > b
    return a >= b


def compare_scalar(op, x, p, q):
    return compare_gpu(op, x, p, p, q)   # inlined, on both targets


def test_float(op, x, p, q):
    if op == T_ISNAN:
        return x != x
    if op == T_ISINF:
        return x == F(math.inf) or x == F(-math.inf)
    return x == x and x != F(math.inf) and x != F(-math.inf)


def convert(op, x, p, q):
    return x


# ---------------------------------------------------------------- the two compiled forms
# error_model="numpy": x / 0 is inf or NaN, as on the GPU, never a Python ZeroDivisionError
# (numba's simulator runs the _gpu forms as CPU code).
#
# The CPU forms are register_jitable: the plain function, callable from @njit code (compiled
# apart and called). elementwise.py's CPU loops are closures over a formula, and numba keys a
# closure's disk cache by the pickled function it captures: a plain function pickles as its
# name, an @njit dispatcher as a new id in every process (the cache would never be found).
_gpu_jit = njit(inline="always", error_model="numpy")
_cpu_jit = register_jitable(error_model="numpy")
unary_float_gpu, unary_float_cpu = _gpu_jit(unary_float), _cpu_jit(unary_float)
unary_int_gpu, unary_int_cpu = _gpu_jit(unary_int), _cpu_jit(unary_int)
unary_bool_gpu, unary_bool_cpu = _gpu_jit(unary_bool), _cpu_jit(unary_bool)
binary_float_gpu, binary_float_cpu = _gpu_jit(binary_float), _cpu_jit(binary_float)
binary_int_gpu, binary_int_cpu = _gpu_jit(binary_int), _cpu_jit(binary_int)
binary_bool_gpu, binary_bool_cpu = _gpu_jit(binary_bool), _cpu_jit(binary_bool)
compare_gpu, compare_cpu = _gpu_jit(compare), _cpu_jit(compare)
compare_scalar_gpu, compare_scalar_cpu = _gpu_jit(compare_scalar), _cpu_jit(compare_scalar)
test_float_gpu, test_float_cpu = _gpu_jit(test_float), _cpu_jit(test_float)
convert_gpu, convert_cpu = _gpu_jit(convert), _cpu_jit(convert)
