"""Philox4x32-10 random numbers (kernels/random.py): the block function against Random123's
known answers, the CPU twins bit for bit against an independent NumPy-uint64 reference, the
counter property, the statistics of each op, and every class of bad input."""
import math

import numpy as np
import pytest
from numba import cuda, njit

from gpucnn.kernels import KERNELS
from gpucnn.kernels import random as rnd
from tests.helpers import assert_close, poisoned

# Random123's known-answer vectors for philox4x32 with 10 rounds: counter words c0..c3, key
# words k0 k1, expected output words. The first three are the lines of tests/kat_vectors of
# the Random123 distribution (D. E. Shaw Research), quoted alike by many ports; the rest are
# philox4x32 10 lines of the longer generated kat_vectors kept in girving/random123-manual
# (examples/kat_vectors), which exercise single bits of every counter and key word.
KAT = [
    ("00000000 00000000 00000000 00000000", "00000000 00000000",
     "6627e8d5 e169c58d bc57ac4c 9b00dbd8"),
    ("ffffffff ffffffff ffffffff ffffffff", "ffffffff ffffffff",
     "408f276d 41c83b0e a20bc7c6 6d5451fd"),
    ("243f6a88 85a308d3 13198a2e 03707344", "a4093822 299f31d0",
     "d16cfe09 94fdcceb 5001e420 24126ea1"),
    ("00000001 00000000 00000000 00000000", "00000001 00000000",
     "ac08141b dfc5ccbe 79c07a47 a7f66093"),
    ("00000000 00000001 00000000 00000000", "00000001 00000000",
     "833ff8dc 225c963c 232b88b3 0b334b07"),
    ("00000000 00000000 00000001 00000000", "00000001 00000000",
     "07071c12 428264b6 3909104b 6da2bda2"),
    ("00000000 00000000 00000000 00000001", "00000001 00000000",
     "127bee41 1e047488 48842b20 0a393496"),
    ("00000000 ffffffff 00000000 00000000", "00000001 00000000",
     "04e2eae1 463cc999 e7786310 65b3dc49"),
    ("00000001 00000000 00000000 00000000", "00000000 00000001",
     "ccf3076a 6306f434 bea71965 d96fe48a"),
    ("00000000 80000000 00000000 00000000", "00000000 00000001",
     "ce1afc4e 4fbf97a1 6110bee9 a559be2f"),
    ("243f6a88 85a308d3 13198a2e 03707344", "00000000 ffffffff",
     "08f7720c 845ee9e0 502ccd3d a9a00e27"),
    ("00000000 00000000 00000000 80000000", "00000000 80000000",
     "f7a0b371 e51dc93d 56ce135d 1d4b5580"),
    ("452821e6 38d01377 be5466cf 34e90c6c", "00000000 80000000",
     "94ca5566 14924b2f 28214292 59faeaee"),
]


def _words(text):
    return tuple(int(w, 16) for w in text.split())


# ================================================================ independent references

def philox_python(counter, key, rounds=10):
    """Philox4x32 in Python ints, written from the paper, not from the kernel module."""
    c = list(counter)
    k = list(key)
    for _ in range(rounds):
        prod0 = 0xD2511F53 * c[0]
        prod1 = 0xCD9E8D57 * c[2]
        c = [(prod1 >> 32) ^ c[1] ^ k[0], prod1 & 0xFFFFFFFF,
             (prod0 >> 32) ^ c[3] ^ k[1], prod0 & 0xFFFFFFFF]
        k = [(k[0] + 0x9E3779B9) % 2 ** 32, (k[1] + 0xBB67AE85) % 2 ** 32]
    return tuple(c)


def philox_numpy(n, seed, offset):
    """Words w0..w3 (uint64 arrays) of elements 0..n-1 of a call with (seed, offset),
    vectorised in NumPy uint64."""
    mask, s32 = np.uint64(0xFFFFFFFF), np.uint64(32)
    ctr = np.uint64(offset) + np.arange(n, dtype=np.uint64)
    c0, c1 = ctr & mask, ctr >> s32
    c2 = c3 = np.zeros(n, np.uint64)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = c0 * np.uint64(0xD2511F53)
        p1 = c2 * np.uint64(0xCD9E8D57)
        c0, c1, c2, c3 = (p1 >> s32) ^ c1 ^ k0, p1 & mask, (p0 >> s32) ^ c3 ^ k1, p0 & mask
        k0 = np.uint64((int(k0) + 0x9E3779B9) % 2 ** 32)
        k1 = np.uint64((int(k1) + 0xBB67AE85) % 2 ** 32)
    return c0, c1, c2, c3


def unit(w):
    return (w >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)


def ref_uniform(n, seed, offset, low, high):
    w0 = philox_numpy(n, seed, offset)[0]
    low32 = np.float32(low)
    span = np.float32(high) - low32
    return low32 + span * unit(w0)                   # float32 NumPy: one rounding per op


def ref_normal(n, seed, offset, mean, std):
    """In float64 from the same u1, u2: the truth the float32 twin approximates."""
    w0, w1 = philox_numpy(n, seed, offset)[:2]
    u1 = ((w0 >> np.uint64(8)) + np.uint64(1)).astype(np.float64) * 2.0 ** -24
    u2 = (w1 >> np.uint64(8)).astype(np.float64) * 2.0 ** -24
    return mean + std * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def ref_randint(n, seed, offset, low, high):
    w0, w1 = philox_numpy(n, seed, offset)[:2]
    bits = (w1 << np.uint64(32)) | w0
    return (np.uint64(low % 2 ** 64) + bits % np.uint64(high - low)).view(np.int64)


def ref_dropout(n, seed, offset, p):
    u = unit(philox_numpy(n, seed, offset)[0])
    p32 = np.float32(p)
    scale = np.float32(1) / (np.float32(1) - p32) if p32 < 1 else np.float32(0)
    return np.where(u < p32, np.float32(0), scale).astype(np.float32)


def bits(a):
    """The bit patterns of a float32 array, so that equality is bitwise (and NaN fails)."""
    return np.ascontiguousarray(a).view(np.uint32)


# ================================================================ the block function

@pytest.mark.parametrize("counter,key,expected", KAT, ids=[f"kat{i}" for i in range(len(KAT))])
def test_philox_known_answers(counter, key, expected):
    counter, key, expected = _words(counter), _words(key), _words(expected)
    assert philox_python(counter, key) == expected          # the reference is right ...
    got = rnd.philox4x32_10(*(np.uint64(w) for w in counter + key))
    assert tuple(int(w) for w in got) == expected           # ... and so is the kernel's


def test_numpy_reference_matches_python_reference():
    for seed, offset in [(0, 0), (2 ** 64 - 1, 2 ** 32 - 3), (0x0123456789ABCDEF, 2 ** 63)]:
        words = philox_numpy(6, seed, offset)
        for i in range(6):
            ctr = offset + i
            expected = philox_python((ctr % 2 ** 32, ctr >> 32, 0, 0),
                                     (seed % 2 ** 32, seed >> 32))
            assert tuple(int(w[i]) for w in words) == expected


def test_cos_turns_accuracy():
    """Normal's cos(2 pi t), written out for the GPU's sake, over a sweep of t in [0, 1)."""
    @njit
    def sweep(t):
        out = np.empty_like(t)
        for i in range(t.size):
            out[i] = rnd.cos_turns(t[i])
        return out

    t = np.arange(0, 2 ** 24, 61, dtype=np.int64).astype(np.float32) * np.float32(2.0 ** -24)
    t = np.concatenate([t, np.float32([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875,
                                       1 - 2.0 ** -24])])
    got = sweep(t)
    assert got.dtype == np.float32
    assert np.max(np.abs(got.astype(np.float64) - np.cos(2 * np.pi * t.astype(np.float64)))) < 2e-7


# ================================================================ the CPU twins, bit for bit

SIZES = [1, 3, 17, 1001, 4099]
COUNTERS = [(0, 0), (1, 5), (0xDEADBEEFCAFEBABE, 2 ** 32 - 7),   # counters crossing 2**32
            (2 ** 64 - 1, 2 ** 64 - 5000)]                       # the last counters there are


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed,offset", COUNTERS, ids=["zero", "small", "hi-word", "top"])
def test_cpu_twins_match_reference(n, seed, offset):
    out = rnd.uniform_cpu(poisoned(n), seed, offset, -1.5, 2.3)
    assert np.array_equal(bits(out), bits(ref_uniform(n, seed, offset, -1.5, 2.3)))
    out = rnd.uniform_cpu(poisoned(n), seed, offset)
    assert np.array_equal(bits(out), bits(ref_uniform(n, seed, offset, 0.0, 1.0)))

    for low, high in [(0, 10), (-7, 1000), (-2 ** 63, 2 ** 63 - 1), (2 ** 63 - 3, 2 ** 63),
                      (-2 ** 62, 2 ** 62 + 12345), (5, 6)]:
        out = rnd.randint_cpu(poisoned(n, np.int64), seed, offset, low, high)
        assert np.array_equal(out, ref_randint(n, seed, offset, low, high)), (low, high)
        assert out.min() >= low and out.max() < high

    for p in [0.0, 0.3, 0.9, 1.0]:
        out = rnd.dropout_mask_cpu(poisoned(n), seed, offset, p)
        assert np.array_equal(bits(out), bits(ref_dropout(n, seed, offset, p))), p

    out = rnd.normal_cpu(poisoned(n), seed, offset, 0.5, 2.0)
    assert_close(out, ref_normal(n, seed, offset, 0.5, 2.0), 1e-6, "normal")


def test_any_shape_is_read_flat():
    shape = (3, 5, 7)
    for fn, args, dtype in [(rnd.uniform_cpu, (), np.float32), (rnd.normal_cpu, (), np.float32),
                            (rnd.randint_cpu, (-3, 3), np.int64),
                            (rnd.dropout_mask_cpu, (0.5,), np.float32)]:
        out = poisoned(shape, dtype)
        assert fn(out, 9, 11, *args) is out
        flat = fn(poisoned(105, dtype), 9, 11, *args)
        assert np.array_equal(out.reshape(-1).view(np.uint8), flat.view(np.uint8)), fn.__name__


def test_empty_and_zero_dimensional_outputs():
    empty = np.empty((0, 4), np.float32)
    assert rnd.uniform_cpu(empty, 1, 2 ** 64 - 1) is empty       # no counter is used
    scalar = poisoned((), np.float32)
    rnd.uniform_cpu(scalar, 3, 4)
    assert scalar == ref_uniform(1, 3, 4, 0.0, 1.0)[0]


# ================================================================ the counter property

@pytest.mark.parametrize("n,n1", [(1000, 1), (1000, 999), (4099, 1731), (17, 0)])
def test_one_draw_equals_two_draws(n, n1):
    seed, offset = 0x9E3779B97F4A7C15, 2 ** 32 - 600
    for fn, args, dtype in [(rnd.uniform_cpu, (-2.0, 3.0), np.float32),
                            (rnd.normal_cpu, (1.0, 0.5), np.float32),
                            (rnd.randint_cpu, (-100, 2 ** 40), np.int64),
                            (rnd.dropout_mask_cpu, (0.25,), np.float32)]:
        whole = fn(poisoned(n, dtype), seed, offset, *args)
        first = fn(poisoned(n1, dtype), seed, offset, *args)
        second = fn(poisoned(n - n1, dtype), seed, offset + n1, *args)
        joined = np.concatenate([first, second])
        assert np.array_equal(whole.view(np.uint8), joined.view(np.uint8)), fn.__name__


def test_seeds_and_offsets_differ():
    n = 10_000
    base = rnd.uniform_cpu(np.empty(n, np.float32), 1, 0)
    for seed, offset in [(2, 0), (1 + 2 ** 32, 0), (1, n), (0, 0)]:
        other = rnd.uniform_cpu(np.empty(n, np.float32), seed, offset)
        assert np.mean(base == other) < 1e-3, (seed, offset)
    a = rnd.randint_cpu(np.empty(n, np.int64), 1, 0, 0, 2 ** 62)
    b = rnd.randint_cpu(np.empty(n, np.int64), 2, 0, 0, 2 ** 62)
    assert not np.any(a == b)


# ================================================================ statistics

N = 1_000_000


def test_uniform_statistics():
    u = rnd.uniform_cpu(np.empty(N, np.float32), 12345, 678).astype(np.float64)
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.002
    assert abs(u.var() - 1 / 12) < 0.002
    # 24 random bits: a 1024-bin histogram is flat to within a few standard deviations
    counts = np.bincount((u * 1024).astype(np.int64), minlength=1024)
    expected = N / 1024
    assert np.sum((counts - expected) ** 2 / expected) < 1024 + 6 * math.sqrt(2 * 1024)
    scaled = rnd.uniform_cpu(np.empty(N, np.float32), 12345, 678, -3.0, 5.0)
    assert -3.0 <= scaled.min() and scaled.max() <= 5.0
    assert abs(scaled.astype(np.float64).mean() - 1.0) < 0.02


def test_normal_statistics():
    z = rnd.normal_cpu(np.empty(N, np.float32), 2024, 0).astype(np.float64)
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 0.005
    assert abs(z.std() - 1.0) < 0.005
    assert abs(np.mean(np.abs(z) > 2.0) - 0.0455) < 0.002           # the tails too
    y = rnd.normal_cpu(np.empty(N, np.float32), 2024, 0, -3.0, 0.25).astype(np.float64)
    assert abs(y.mean() + 3.0) < 0.005 * 0.25 * 2
    assert abs(y.std() - 0.25) < 0.005 * 0.25 * 2


@pytest.mark.parametrize("low,high", [(-3, 7), (0, 2), (10 ** 12, 10 ** 12 + 5)])
def test_randint_statistics(low, high):
    r = rnd.randint_cpu(np.empty(N, np.int64), 77, 3, low, high)
    assert r.min() == low and r.max() == high - 1
    counts = np.bincount(r - low, minlength=high - low)
    expected = N / (high - low)
    assert np.all(np.abs(counts - expected) < 0.015 * expected)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 40, chi2                       # at most 9 degrees of freedom here


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_statistics(p):
    m = rnd.dropout_mask_cpu(np.empty(N, np.float32), 5, 6, p)
    scale = np.float32(1) / (np.float32(1) - np.float32(p))
    assert set(np.unique(m).tolist()) == {0.0, float(scale)}
    assert abs(np.mean(m == 0) - p) < 0.002
    assert abs(m.astype(np.float64).mean() - 1.0) < 0.01    # inverted dropout keeps the mean


def test_dropout_mask_edges():
    assert np.all(rnd.dropout_mask_cpu(poisoned(1000), 1, 2, 0.0) == 1.0)
    assert np.all(rnd.dropout_mask_cpu(poisoned(1000), 1, 2, 1.0) == 0.0)
    assert np.all(rnd.dropout_mask_cpu(poisoned(1000), 1, 2, 1 - 1e-9) == 0.0)  # float32 1


# ================================================================ the GPU rounds as the CPU does

def test_uniform_kernel_is_not_contracted():
    """NVVM fuses a multiply feeding an add into an fma unless told not to; uniform's
    low + span * u must round twice, as the CPU twin does, to be bit-identical."""
    record = next(r for r in KERNELS if r.name == "random._uniform_kernel")
    ptx, _ = cuda.compile_ptx(record.py_func, record.signature, cc=(8, 0))
    code = [line for line in ptx.splitlines() if not line.strip().startswith("//")]
    assert not any("fma" in line for line in code)
    assert any("mul.rn.f32" in line for line in code) and any("add.rn.f32" in line for line in code)


# ================================================================ bad input

class FakeDeviceArray:
    """Looks like a device array to the checks (shape, dtype, no NumPy)."""
    shape, dtype, size, strides = (4,), np.dtype(np.float32), 4, (4,)

    def is_c_contiguous(self):
        return True


def _ops():
    """(name, CPU twin, out dtype, valid extra args) for every op."""
    return [("uniform_cpu", rnd.uniform_cpu, np.float32, (0.0, 1.0)),
            ("normal_cpu", rnd.normal_cpu, np.float32, (0.0, 1.0)),
            ("randint_cpu", rnd.randint_cpu, np.int64, (0, 10)),
            ("dropout_mask_cpu", rnd.dropout_mask_cpu, np.float32, (0.5,))]


@pytest.mark.parametrize("name,fn,dtype,args", _ops(), ids=[op[0] for op in _ops()])
def test_bad_out_and_counter(name, fn, dtype, args):
    other = np.float64 if dtype == np.float32 else np.int32
    with pytest.raises(TypeError, match=f"{name}: out must be an array"):
        fn([0.0] * 4, 1, 0, *args)
    with pytest.raises(TypeError, match=f"{name}: out must be {np.dtype(dtype).name}.*shape \\(4,\\)"):
        fn(np.zeros(4, other), 1, 0, *args)
    with pytest.raises(ValueError, match=f"{name}: out must be C-contiguous \\(shape \\(3, 2\\)"):
        fn(poisoned((3, 4), dtype)[:, ::2], 1, 0, *args)
    with pytest.raises(TypeError, match=f"{name}: out must be a NumPy array"):
        fn(FakeDeviceArray(), 1, 0, *args)

    out = poisoned((2, 3), dtype)
    for seed, offset, error, word in [
            (-1, 0, ValueError, "seed"), (2 ** 64, 0, ValueError, "seed"),
            (1.5, 0, TypeError, "seed"), (True, 0, TypeError, "seed"),
            (np.uint64(3), -1, ValueError, "offset"), (0, 2 ** 64 - 6, ValueError, "offset"),
            (0, "0", TypeError, "offset"), (0, 2.0, TypeError, "offset")]:
        with pytest.raises(error, match=f"{name}: {word}.*\\(2, 3\\)"):
            fn(out, seed, offset, *args)
    fn(poisoned((2, 3), dtype), 2 ** 64 - 1, 2 ** 64 - 7, *args)   # the last valid counters
    assert np.array_equal(out.view(np.uint8), poisoned((2, 3), dtype).view(np.uint8)), \
        "a refused call wrote into out"


@pytest.mark.parametrize("fn,args,error,word", [
    (rnd.uniform_cpu, (2.0, 1.0), ValueError, "low"),
    (rnd.uniform_cpu, (0.0, math.inf), ValueError, "high"),
    (rnd.uniform_cpu, (math.nan, 1.0), ValueError, "low"),
    (rnd.uniform_cpu, (-3e38, 3e38), ValueError, "high - low"),
    (rnd.uniform_cpu, (1e39, 2e39), ValueError, "low"),
    (rnd.uniform_cpu, ("0", 1.0), TypeError, "low"),
    (rnd.normal_cpu, (0.0, -1.0), ValueError, "std"),
    (rnd.normal_cpu, (math.nan, 1.0), ValueError, "mean"),
    (rnd.normal_cpu, (0.0, None), TypeError, "std"),
    (rnd.randint_cpu, (5, 5), ValueError, "low"),
    (rnd.randint_cpu, (5, 4), ValueError, "low"),
    (rnd.randint_cpu, (-2 ** 63 - 1, 0), ValueError, "low"),
    (rnd.randint_cpu, (0, 2 ** 63 + 1), ValueError, "high"),
    (rnd.randint_cpu, (-2 ** 63, 2 ** 63), ValueError, "high - low"),
    (rnd.randint_cpu, (0.0, 10), TypeError, "low"),
    (rnd.randint_cpu, (0, True), TypeError, "high"),
    (rnd.dropout_mask_cpu, (-0.1,), ValueError, "p"),
    (rnd.dropout_mask_cpu, (1.5,), ValueError, "p"),
    (rnd.dropout_mask_cpu, (math.nan,), ValueError, "p"),
    (rnd.dropout_mask_cpu, (None,), TypeError, "p"),
], ids=lambda v: getattr(v, "__name__", None))
def test_bad_parameters(fn, args, error, word):
    dtype = np.int64 if fn is rnd.randint_cpu else np.float32
    out = poisoned((2, 5), dtype)
    with pytest.raises(error, match=f"{fn.__name__}: .*{word}.*\\(2, 5\\)"):
        fn(out, 1, 0, *args)
    assert np.array_equal(out.view(np.uint8), poisoned((2, 5), dtype).view(np.uint8))
