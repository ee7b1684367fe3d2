"""PyTorch parity of Tensor.repeat, bmm / baddbmm, unfold, flip / roll, lerp, F.one_hot,
randint's overloads, indexing with ranges and lists, and gpucnn.linalg (eigh, svd, norms),
against torch on "cpu": values, every gradient, and the errors for bad arguments.

GRAD_CASES and VALUE_CASES are written once as functions of a namespace `m` (gpucnn or torch),
as tests/engine/tensor_cases.py; tests/cudasim/test_tensor_api3_sim.py runs them on "cuda"."""
import math
import warnings

import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.engine.test_tensor_api import run_grad_case, run_value_case
from tests.helpers import assert_close, rand


def symmetric(r, *shape):
    a = rand(r, *shape)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(np.float32)


def with_zero_row(r, *shape):
    a = rand(r, *shape)
    a[1] = 0.0
    return a


def quiet(fn):
    """fn with warnings silenced (the deprecated list-as-tuple index warns in both libraries)."""
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    return call


def _eigh_out(m, a, uplo="L"):
    """eigh's results through sign-invariant functions of the eigenvectors (each column's
    entries squared and its neighbours' products), so that LAPACK's sign choice cannot show."""
    w, v = m.linalg.eigh(a, UPLO=uplo)
    return m.cat([w.flatten(), (v * v).flatten(), (v[..., :-1, :] * v[..., 1:, :]).flatten()])


def _svd_out(m, a, full):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    return m.cat([s.flatten(), (u * u).flatten(), (u[..., :-1, :] * u[..., 1:, :]).flatten(),
                  (vh * vh).flatten(), (vh[..., :, :-1] * vh[..., :, 1:]).flatten()])


INF = math.inf

# (id, fn(m, *inputs), inputs factory(rng)): float outputs, every float input's gradient
GRAD_CASES = [
    # repeat: always a copy, more repeats than dims, tuples and Size
    ("repeat_more_dims", lambda m, x: x.repeat(2, 1, 3), lambda r: [rand(r, 2, 3)]),
    ("repeat_tuple", lambda m, x: x.repeat((1, 2)), lambda r: [rand(r, 3, 2)]),
    ("repeat_ones", lambda m, x: x.repeat(1, 1), lambda r: [rand(r, 3, 2)]),
    ("repeat_size", lambda m, x: x.repeat(m.Size([2, 1, 1])), lambda r: [rand(r, 1, 3)]),
    ("repeat_0dim", lambda m, x: x.sum().repeat(3, 2), lambda r: [rand(r, 3)]),
    ("repeat_zero", lambda m, x: x.repeat(0, 2), lambda r: [rand(r, 2, 3)]),
    ("repeat_strided", lambda m, x: x.t().repeat([2, 2]), lambda r: [rand(r, 3, 4)]),
    # bmm, baddbmm
    ("bmm", lambda m, a, b: m.bmm(a, b), lambda r: [rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    ("bmm_transposed", lambda m, a, b: a.transpose(1, 2).bmm(b.transpose(1, 2)),
     lambda r: [rand(r, 2, 5, 3), rand(r, 2, 4, 5)]),
    ("bmm_empty_inner", lambda m, a, b: m.bmm(a, b), lambda r: [rand(r, 2, 3, 0),
                                                                 rand(r, 2, 0, 4)]),
    ("baddbmm", lambda m, i, a, b: m.baddbmm(i, a, b),
     lambda r: [rand(r, 3, 4, 2), rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    ("baddbmm_broadcast_scaled", lambda m, i, a, b: m.baddbmm(i, a, b, beta=0.5, alpha=-2.0),
     lambda r: [rand(r, 4, 1), rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    ("baddbmm_beta0", lambda m, i, a, b: m.baddbmm(i, a, b, beta=0, alpha=1.5),
     lambda r: [rand(r, 2), rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    ("baddbmm_alpha0", lambda m, i, a, b: i.baddbmm(a, b, beta=-1, alpha=0),
     lambda r: [rand(r, 1, 4, 2), rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    ("baddbmm_method", lambda m, i, a, b: i.baddbmm(a, b, alpha=0.25),
     lambda r: [rand(r, 3, 1, 2), rand(r, 3, 4, 5), rand(r, 3, 5, 2)]),
    # unfold: a view; overlapping windows add up in the gradient
    ("unfold_overlapping", lambda m, x: x.unfold(1, 3, 1), lambda r: [rand(r, 2, 7, 3)]),
    ("unfold_gaps", lambda m, x: x.unfold(-1, 2, 3), lambda r: [rand(r, 3, 8)]),
    ("unfold_rounds", lambda m, x: x.unfold(0, 5, 2), lambda r: [rand(r, 9, 2)]),
    ("unfold_rounds_of_several", lambda m, x: x.unfold(0, 3, 2), lambda r: [rand(r, 11, 2)]),
    ("unfold_whole", lambda m, x: x.unfold(1, 4, 1), lambda r: [rand(r, 2, 4)]),
    ("unfold_empty_windows", lambda m, x: x.unfold(1, 0, 2), lambda r: [rand(r, 2, 5)]),
    ("unfold_twice", lambda m, x: x.unfold(0, 2, 1).unfold(1, 3, 2),
     lambda r: [rand(r, 4, 7)]),
    ("unfold_of_transpose", lambda m, x: x.t().unfold(0, 2, 1), lambda r: [rand(r, 3, 5)]),
    ("unfold_0dim", lambda m, x: x.sum().unfold(0, 1, 1), lambda r: [rand(r, 3)]),
    # flip, fliplr, flipud, roll: copies
    ("flip_last", lambda m, x: x.flip(-1), lambda r: [rand(r, 3, 5)]),
    ("flip_middle", lambda m, x: m.flip(x, (1,)), lambda r: [rand(r, 2, 3, 4)]),
    ("flip_several", lambda m, x: x.flip(0, 2), lambda r: [rand(r, 2, 3, 4)]),
    ("flip_list_all", lambda m, x: m.flip(x, [2, 0, 1]), lambda r: [rand(r, 2, 3, 4)]),
    ("flip_nothing", lambda m, x: x.flip(()), lambda r: [rand(r, 2, 3)]),
    ("flip_strided", lambda m, x: x.t().flip(0), lambda r: [rand(r, 3, 4)]),
    ("flip_permuted_6d", lambda m, x: x.permute(5, 4, 3, 2, 1, 0).flip(0, 3),
     lambda r: [rand(r, 2, 3, 2, 3, 2, 3)]),
    ("flip_0dim", lambda m, x: x.sum().flip(0), lambda r: [rand(r, 3)]),
    ("fliplr", lambda m, x: m.fliplr(x), lambda r: [rand(r, 3, 4, 2)]),
    ("flipud", lambda m, x: m.flipud(x), lambda r: [rand(r, 3, 4)]),
    ("flip_methods", lambda m, x: x.fliplr() + x.flipud(), lambda r: [rand(r, 3, 3)]),
    ("roll_flat", lambda m, x: x.roll(3), lambda r: [rand(r, 3, 4)]),
    ("roll_negative_dim", lambda m, x: m.roll(x, -2, -1), lambda r: [rand(r, 3, 5)]),
    ("roll_several", lambda m, x: x.roll((1, -5), (0, 2)), lambda r: [rand(r, 3, 2, 4)]),
    ("roll_same_dim_twice", lambda m, x: x.roll((1, 2), (1, 1)), lambda r: [rand(r, 2, 5)]),
    ("roll_full_turn", lambda m, x: x.roll(8, 1), lambda r: [rand(r, 3, 4)]),
    ("roll_keywords", lambda m, x: m.roll(x, shifts=[2], dims=[0]), lambda r: [rand(r, 3, 4)]),
    ("roll_0dim", lambda m, x: x.sum().roll(2), lambda r: [rand(r, 3)]),
    ("roll_strided", lambda m, x: x.t().roll(1, 0), lambda r: [rand(r, 3, 4)]),
    # lerp: number and tensor weights, broadcasting
    *[(f"lerp_weight_{w}", lambda m, s, e, w=w: m.lerp(s, e, w),
       lambda r: [rand(r, 3, 4), rand(r, 3, 4)]) for w in (0.3, 0.5, 0.75, 1.0, -0.25, 1.5)],
    ("lerp_tensor_weight", lambda m, s, e, w: s.lerp(e, w),
     lambda r: [rand(r, 3, 4), rand(r, 3, 4), r.uniform(-0.4, 1.4, (3, 4)).astype(np.float32)]),
    ("lerp_broadcast", lambda m, s, e, w: m.lerp(s, e, w),
     lambda r: [rand(r, 3, 1), rand(r, 4), r.uniform(0.1, 0.9, (2, 1, 1)).astype(np.float32)]),
    ("lerp_broadcast_number", lambda m, s, e: m.lerp(s, e, weight=0.6),
     lambda r: [rand(r, 1, 4), rand(r, 3, 1)]),
    # indexing with ranges and lists
    ("index_range", lambda m, x: x[range(3)], lambda r: [rand(r, 4, 3)]),
    ("index_list_repeated", lambda m, x: x[[0, 2, 2]], lambda r: [rand(r, 4, 3)]),
    ("index_list_second_dim", lambda m, x: x[:, [1, 0]], lambda r: [rand(r, 3, 4)]),
    ("index_range_step", lambda m, x: x[range(0, 4, 2)], lambda r: [rand(r, 4, 3)]),
    ("index_range_second_dim", lambda m, x: x[:, range(1, 3)], lambda r: [rand(r, 3, 4)]),
    ("index_empty_list", lambda m, x: x[[]], lambda r: [rand(r, 3, 4)]),
    ("index_bool_list", lambda m, x: x[[True, False, True, False]], lambda r: [rand(r, 4, 2)]),
    ("index_negative_list", lambda m, x: x[[-1, 0]], lambda r: [rand(r, 3, 2)]),
    ("index_float_list", lambda m, x: x[[0.0, 2.7]], lambda r: [rand(r, 3, 2)]),
    ("index_list_of_lists", quiet(lambda m, x: x[[[0, 1], [1, 2]]]), lambda r: [rand(r, 3, 4)]),
    ("index_list_of_ranges", quiet(lambda m, x: x[[range(2), range(1, 3)]]),
     lambda r: [rand(r, 3, 4)]),
    ("index_none_range", lambda m, x: x[None, range(2)], lambda r: [rand(r, 3, 4)]),
    ("index_ellipsis_list", lambda m, x: x[..., [2, 0]], lambda r: [rand(r, 2, 3, 4)]),
    ("index_list_and_range", lambda m, x: x[[0, 2], range(2)], lambda r: [rand(r, 3, 4)]),
    ("index_range_outer_list", lambda m, x: x[range(2), :, [3, 1]],
     lambda r: [rand(r, 3, 2, 4)]),
    # linalg: decompositions (sign-invariant outputs) and norms
    ("eigh", lambda m, a: _eigh_out(m, a), lambda r: [symmetric(r, 4, 4)]),
    ("eigh_batched_upper", lambda m, a: _eigh_out(m, a, "U"), lambda r: [rand(r, 2, 3, 3)]),
    ("eigh_1x1", lambda m, a: _eigh_out(m, a), lambda r: [rand(r, 3, 1, 1)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), lambda r: [symmetric(r, 2, 5, 5)]),
    ("eigvalsh_upper", lambda m, a: m.linalg.eigvalsh(a, "U"), lambda r: [rand(r, 4, 4)]),
    ("svd_reduced_tall", lambda m, a: _svd_out(m, a, False), lambda r: [rand(r, 5, 3)]),
    ("svd_reduced_wide", lambda m, a: _svd_out(m, a, False), lambda r: [rand(r, 3, 5)]),
    ("svd_full_batched", lambda m, a: _svd_out(m, a, True), lambda r: [rand(r, 2, 4, 3)]),
    ("svd_full_wide", lambda m, a: _svd_out(m, a, True), lambda r: [rand(r, 2, 4)]),
    ("svd_square", lambda m, a: _svd_out(m, a, True), lambda r: [rand(r, 4, 4)]),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), lambda r: [rand(r, 2, 3, 5)]),
    ("svd_reconstruction", lambda m, a: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh)(
        *m.linalg.svd(a, full_matrices=False)), lambda r: [rand(r, 3, 4)]),
    *[(f"vector_norm_{o}_{d}_{k}", lambda m, x, o=o, d=d, k=k: m.linalg.vector_norm(x, o, d, k),
       lambda r: [rand(r, 3, 4, 2)])
      for o, d, k in [(2, None, False), (1, 0, True), (INF, -1, False), (-INF, (0, 2), True),
                      (3, (1,), False), (0.5, None, True), (-1, 2, False),
                      (2.5, [0, 1], False)]],
    *[(f"vector_norm_zero_row_{o}", lambda m, x, o=o: m.linalg.vector_norm(x, o, dim=1),
       lambda r: [with_zero_row(r, 3, 4)]) for o in (2, 1, 3, 0.5, INF)],
    ("vector_norm_0dim", lambda m, x: m.linalg.vector_norm(x.sum(), 3, keepdim=True),
     lambda r: [rand(r, 3)]),
    *[(f"matrix_norm_{o}", lambda m, x, o=o: m.linalg.matrix_norm(x, o),
       lambda r: [rand(r, 2, 3, 4)]) for o in ("fro", "nuc", 2, -2, 1, -1, INF, -INF)],
    *[(f"matrix_norm_dims_keepdim_{o}",
       lambda m, x, o=o: m.linalg.matrix_norm(x, o, dim=(2, 0), keepdim=True),
       lambda r: [rand(r, 3, 2, 4)]) for o in ("fro", "nuc", 2, 1, -INF)],
    ("linalg_norm_flat", lambda m, x: m.linalg.norm(x), lambda r: [rand(r, 2, 3, 4)]),
    ("linalg_norm_vector_dim", lambda m, x: m.linalg.norm(x, 3, dim=1, keepdim=True),
     lambda r: [rand(r, 2, 3, 4)]),
    ("linalg_norm_matrix_dims", lambda m, x: m.linalg.norm(x, "nuc", dim=(0, 1)),
     lambda r: [rand(r, 3, 4, 2)]),
    ("linalg_norm_matrix_ord", lambda m, x: m.linalg.norm(x, INF), lambda r: [rand(r, 3, 4)]),
    ("linalg_norm_vector_ord", lambda m, x: m.linalg.norm(x, 1), lambda r: [rand(r, 5)]),
]

# (id, fn(m, *inputs), inputs factory(rng)): integer and bool results, values and dtypes
VALUE_CASES = [
    ("repeat_int", lambda m, x: x.repeat(2, 3), lambda r: [r.integers(-9, 9, (2, 3))]),
    ("repeat_bool", lambda m, x: x.repeat(3), lambda r: [r.random(4) < 0.5]),
    ("flip_int", lambda m, x: x.flip(0, 1), lambda r: [r.integers(-9, 9, (3, 4))]),
    ("flip_bool", lambda m, x: m.flip(x, (1,)), lambda r: [r.random((2, 5)) < 0.5]),
    ("roll_int", lambda m, x: x.roll((2, -1), (0, 1)), lambda r: [r.integers(-9, 9, (3, 4))]),
    ("roll_bool_flat", lambda m, x: x.roll(-3), lambda r: [r.random((2, 5)) < 0.5]),
    ("unfold_int", lambda m, x: x.unfold(0, 3, 2), lambda r: [r.integers(-9, 9, (7, 2))]),
    ("one_hot_inferred", lambda m, x: m.nn.functional.one_hot(x),
     lambda r: [r.integers(0, 5, (7,))]),
    ("one_hot_classes_2d", lambda m, x: m.nn.functional.one_hot(x, num_classes=6),
     lambda r: [r.integers(0, 4, (3, 2))]),
    ("one_hot_0dim", lambda m, x: m.nn.functional.one_hot(x[1], 4),
     lambda r: [r.integers(0, 4, (3,))]),
    ("one_hot_empty", lambda m, x: m.nn.functional.one_hot(x[:0], 3),
     lambda r: [r.integers(0, 3, (3,))]),
    ("index_int_range", lambda m, x: x[range(1, 3)], lambda r: [r.integers(-9, 9, (4, 2))]),
    ("index_bool_list_of_int", lambda m, x: x[[True, 1]], lambda r: [r.integers(-9, 9, (3, 2))]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c[0])
def test_differentiable_op_matches_torch(case):
    run_grad_case(case, "cpu")


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c[0])
def test_op_values_match_torch(case):
    run_value_case(case, "cpu")


# ================================================================ repeat, bmm, baddbmm

def test_repeat_copies_as_torch():
    x = gc.tensor([[1.0, 2.0], [3.0, 4.0]])
    for tiled in (x.repeat(1, 1), x.repeat(1, 1, 1), gc.tensor([5.0]).repeat(3),
                  x[:, :1].repeat(1, 3)):
        assert tiled._version is not x._version and tiled.is_contiguous()
        tiled.fill_(0.0)
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert gc.tensor(2.0).repeat(()).shape == () and x.repeat([2, 1]).stride() == (2, 1)


@pytest.mark.parametrize("call,error,match", [
    (lambda x: x.repeat(2), RuntimeError, "number of repeat dims"),
    (lambda x: x.repeat(-1, 1), RuntimeError, r"negative dimension -2: \[-2, 3\]"),
    (lambda x: x.repeat(), TypeError, "repeats"),
    (lambda x: x.repeat(2.0, 1), TypeError, "repeat"),
])
def test_repeat_errors(call, error, match):
    with pytest.raises(error):
        call(torch.zeros(2, 3))
    with pytest.raises(error, match=match):
        call(gc.zeros(2, 3))


def test_baddbmm_with_beta_zero_ignores_nan_input_but_gives_it_a_gradient():
    r = np.random.default_rng(5)
    a, b = rand(r, 2, 3, 4), rand(r, 2, 4, 5)
    ours = gc.full((3, 5), float("nan"), requires_grad=True)
    out = gc.baddbmm(ours, gc.tensor(a), gc.tensor(b), beta=0)
    assert np.all(np.isfinite(out.numpy()))
    assert_close(out.numpy(), a @ b, 1e-5)
    out.sum().backward()
    assert ours.grad is not None and ours.grad.tolist() == [[0.0] * 5] * 3
    theirs = torch.full((3, 5), float("nan"), requires_grad=True)
    torch.baddbmm(theirs, torch.tensor(a), torch.tensor(b), beta=0).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_baddbmm_in_place():
    r = np.random.default_rng(6)
    start, a, b = rand(r, 2, 3, 5), rand(r, 2, 3, 4), rand(r, 2, 4, 5)
    ours = gc.tensor(start)
    assert ours.baddbmm_(gc.tensor(a), gc.tensor(b), beta=0.5, alpha=3) is ours
    expected = torch.tensor(start).baddbmm_(torch.tensor(a), torch.tensor(b), beta=0.5, alpha=3)
    assert_close(ours.numpy(), expected.numpy(), 1e-5)
    with pytest.raises(RuntimeError, match=r"Bad in-place call.*\[3, 5\].*\[2, 3, 5\]"):
        gc.zeros(3, 5).baddbmm_(gc.tensor(a), gc.tensor(b))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        gc.zeros(2, 3, 5, requires_grad=True).baddbmm_(gc.tensor(a), gc.tensor(b))


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m.bmm(m.zeros(3, 4), m.zeros(3, 4, 5)), RuntimeError, "batch1 must be a 3D"),
    (lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(4, 5)), RuntimeError, "batch2 must be a 3D"),
    (lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(1, 4, 5)), RuntimeError,
     r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: "
     r"\[1, 4\]"),
    (lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(2, 3, 5)), RuntimeError,
     r"to be: \[2, 4\] but got: \[2, 3\]"),
    (lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(2, 4, 5, dtype=m.int64)), RuntimeError,
     "float32|Float"),
    (lambda m: m.zeros(2, 3, 4).bmm([1.0]), TypeError, "mat2"),
    (lambda m: m.baddbmm(m.zeros(3, 4), m.zeros(2, 3, 4), m.zeros(2, 4, 5)), RuntimeError,
     r"\[3, 4\] does not broadcast"),
    (lambda m: m.baddbmm(m.zeros(2, 1, 1, 5), m.zeros(2, 3, 4), m.zeros(2, 4, 5)),
     RuntimeError, "does not broadcast"),
    (lambda m: m.baddbmm(m.zeros(3, 5), m.zeros(3, 4), m.zeros(2, 4, 5)), RuntimeError,
     "batch1 must be a 3D"),
    (lambda m: m.baddbmm(m.zeros(3, 5), m.zeros(2, 3, 4), m.zeros(2, 4, 5), beta="x"),
     TypeError, "beta"),
    (lambda m: m.baddbmm(m.zeros(3, 5), m.zeros(2, 3, 4), m.zeros(2, 4, 5), 0.5, 2),
     TypeError, "positional"),
])
def test_bmm_errors(call, error, match):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=match):
        call(gc)


# ================================================================ unfold

def test_unfold_is_a_view_with_torch_strides():
    for shape, args in [((2, 5), (1, 2, 2)), ((2, 5), (1, 2, 1)), ((2, 5), (0, 1, 3)),
                        ((3, 4, 5), (-2, 3, 1))]:
        ours = gc.zeros(*shape).unfold(*args)
        theirs = torch.zeros(*shape).unfold(*args)
        assert ours.shape == tuple(theirs.shape) and ours.stride() == theirs.stride(), args
    assert gc.zeros(2, 0).unfold(1, 0, 1).shape == (2, 1, 0)
    x = gc.arange(10.0).reshape(2, 5)
    windows = x.unfold(1, 3, 1)
    assert windows._version is x._version
    x[0, 2] = -1.0
    assert windows[0, :, :].tolist() == [[0.0, 1.0, -1.0], [1.0, -1.0, 3.0], [-1.0, 3.0, 4.0]]
    assert gc.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    assert gc.tensor(3.0).unfold(-1, 0, 4).shape == (0,)


@pytest.mark.parametrize("args,error,match", [
    ((1, 6, 1), RuntimeError, "maximum size for tensor at dimension 1 is 5 but size is 6"),
    ((1, -1, 1), RuntimeError, "size is -1 but must be >= 0"),
    ((1, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    ((1, 2, -1), RuntimeError, "step is -1 but must be > 0"),
    ((2, 2, 1), IndexError, "out of range"),
    ((1, 2.0, 1), TypeError, "size"),
    ((True, 1, 1), TypeError, "dimension"),
])
def test_unfold_errors(args, error, match):
    with pytest.raises(error):
        torch.zeros(2, 5).unfold(*args)
    with pytest.raises(error, match=match):
        gc.zeros(2, 5).unfold(*args)


# ================================================================ flip, roll

def test_flip_and_roll_are_contiguous_copies():
    x = gc.arange(12.0).reshape(3, 4)
    for copy in (x.flip(0), x.flip(1), x.flip(()), x.roll(1, 0), x.roll(4, 1), x.roll(0)):
        assert copy._version is not x._version and copy.is_contiguous()
        copy.fill_(0.0)
    assert x.sum().item() == 66.0


@pytest.mark.parametrize("call,error,match", [
    (lambda m, x: x.flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (lambda m, x: x.flip(0, -2), RuntimeError, "appears multiple times"),
    (lambda m, x: x.flip(2), IndexError, "out of range"),
    (lambda m, x: x.flip(), TypeError, "dims"),
    (lambda m, x: x.flip(1.0), TypeError, "flip"),
    (lambda m, x: m.flip(x, 0), TypeError, "must be tuple of ints"),
    (lambda m, x: m.fliplr(x[0]), RuntimeError, ">= 2-d"),
    (lambda m, x: m.flipud(x[0, 0]), RuntimeError, ">= 1-d"),
    (lambda m, x: x.roll((1, 2), 1), RuntimeError, "shifts and dimensions must align"),
    (lambda m, x: x.roll(1, (0, 1)), RuntimeError, "shifts and dimensions must align"),
    (lambda m, x: x.roll((1, 2)), RuntimeError, "shifts: 2, dims:0"),
    (lambda m, x: x.roll((), ()), RuntimeError, "`shifts` required"),
    (lambda m, x: x.roll(1, 2), IndexError, "out of range"),
    (lambda m, x: x.roll(1.5, 1), TypeError, "roll"),
    (lambda m, x: x[0, 0].roll(1, 0), IndexError, "has no dimensions"),
])
def test_flip_roll_errors(call, error, match):
    with pytest.raises(error):
        call(torch, torch.zeros(2, 5))
    with pytest.raises(error, match=match):
        call(gc, gc.zeros(2, 5))


def test_slicing_with_a_negative_step_names_flip():
    with pytest.raises(ValueError, match="use flip"):
        gc.zeros(3)[::-1]
    assert gc.arange(3).flip(0).tolist() == [2, 1, 0]


# ================================================================ lerp

def test_lerp_matches_torch_float32_and_is_exact_at_the_ends():
    r = np.random.default_rng(8)
    start, end = rand(r, 50), rand(r, 50)
    for w in (0.0, 0.25, 0.4999, 0.5, 0.9, 1.0):
        ours = gc.lerp(gc.tensor(start), gc.tensor(end), w).numpy()
        theirs = torch.lerp(torch.tensor(start), torch.tensor(end), w).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-7)
    np.testing.assert_array_equal(gc.tensor(start).lerp(gc.tensor(end), 1.0).numpy(), end)
    np.testing.assert_array_equal(gc.tensor(start).lerp(gc.tensor(end), 0.0).numpy(), start)
    weights = np.array([0.0, 1.0] * 25, np.float32)
    ours = gc.tensor(start).lerp(gc.tensor(end), gc.tensor(weights)).numpy()
    np.testing.assert_array_equal(ours, np.where(weights == 1.0, end, start))


def test_lerp_in_place_is_an_ema_of_parameters_under_no_grad():
    r = np.random.default_rng(9)
    ema_values, param_values = rand(r, 4, 3), rand(r, 4, 3)
    ema = gc.nn.Parameter(gc.tensor(ema_values))
    param = gc.nn.Parameter(gc.tensor(param_values))
    expected = torch.tensor(ema_values)
    with gc.no_grad():
        for _ in range(3):
            assert ema.lerp_(param, 0.1) is ema
            expected.lerp_(torch.tensor(param_values), 0.1)
    assert_close(ema.numpy(), expected.numpy(), 1e-6)
    weight = gc.tensor(r.uniform(0, 1, (1, 3)).astype(np.float32))
    plain = gc.tensor(ema_values)
    plain.lerp_(gc.tensor(param_values), weight)
    theirs = torch.tensor(ema_values).lerp_(torch.tensor(param_values),
                                            torch.tensor(weight.numpy()))
    assert_close(plain.numpy(), theirs.numpy(), 1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ema.lerp_(param, 0.1)


def test_in_place_lerp_and_baddbmm_inside_autograd_match_torch():
    r = np.random.default_rng(20)
    x, e, w = rand(r, 2, 3, 4), rand(r, 2, 3, 4), r.uniform(0, 1, (3, 1)).astype(np.float32)
    a, b = rand(r, 2, 3, 5), rand(r, 2, 5, 4)
    grads = []
    for m in (torch, gc):
        leaves = [m.tensor(v, requires_grad=True) for v in (x, e, w, a, b)]
        y = leaves[0] * 2.0
        y.lerp_(leaves[1], leaves[2])
        y.baddbmm_(leaves[3], leaves[4], beta=0.5, alpha=-1.5)
        (y * y).sum().backward()
        grads.append([t.grad.numpy() for t in leaves])
    for theirs, ours in zip(*grads):
        assert_close(ours, theirs, 1e-5)


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m.zeros(3).lerp(m.zeros(3, dtype=m.int64), 0.5), RuntimeError, "for `end`"),
    (lambda m: m.zeros(3, dtype=m.int64).lerp(m.zeros(3, dtype=m.int64), 0.5), Exception,
     "int64"),
    (lambda m: m.zeros(3).lerp(m.zeros(3), m.zeros(3, dtype=m.int64)), RuntimeError,
     "for `weight`"),
    (lambda m: m.zeros(3).lerp(m.zeros(3), m.zeros(3, dtype=m.bool)), RuntimeError,
     "for `weight`"),
    (lambda m: m.zeros(3).lerp(3.0, 0.5), TypeError, "end"),
    (lambda m: m.zeros(3).lerp(m.zeros(3), "a"), TypeError, "weight"),
    (lambda m: m.zeros(3).lerp(m.zeros(2), 0.5), RuntimeError, "broadcast|match"),
    (lambda m: m.zeros(3).lerp_(m.zeros(2, 3), 0.5), RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    (lambda m: m.zeros(3).lerp_(m.zeros(3), m.zeros(2, 3)), RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
])
def test_lerp_errors(call, error, match):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=match):
        call(gc)


# ================================================================ one_hot

def test_one_hot_is_int64_on_the_input_device():
    out = F.one_hot(gc.tensor([[0, 3], [2, 2]]), 5)
    assert out.dtype is gc.int64 and out.shape == (2, 2, 5) and out.device == "cpu"
    assert out.sum().item() == 4 and out[0, 1].tolist() == [0, 0, 0, 1, 0]


@pytest.mark.parametrize("make,num_classes,error,match", [
    (lambda m: m.tensor([0, 2, 1]), 2, RuntimeError,
     "Class values must be smaller than num_classes"),
    (lambda m: m.tensor([0, -2, 1]), 5, RuntimeError, "Class values must be non-negative"),
    (lambda m: m.tensor([0, -2, 1]), -1, RuntimeError, "Class values must be non-negative"),
    (lambda m: m.tensor([1, 0]), 0, RuntimeError, "smaller than num_classes"),
    (lambda m: m.tensor([1, 0]), -2, RuntimeError, "smaller than num_classes"),
    (lambda m: m.zeros(0, dtype=m.int64), -1, RuntimeError,
     "Can not infer total number of classes"),
    (lambda m: m.zeros(2, 0, dtype=m.int64), 0, RuntimeError,
     "Can not infer total number of classes"),
    (lambda m: m.tensor([0, 2], dtype=m.int32), 3, RuntimeError, "LongTensor"),
    (lambda m: m.tensor([0.0, 2.0]), 3, RuntimeError, "LongTensor"),
    (lambda m: m.tensor([True, False]), 2, RuntimeError, "LongTensor"),
    (lambda m: m.tensor([1, 0]), 2.0, TypeError, "num_classes"),
])
def test_one_hot_errors(make, num_classes, error, match):
    with pytest.raises(error):
        torch.nn.functional.one_hot(make(torch), num_classes)
    with pytest.raises(error, match=match):
        F.one_hot(make(gc), num_classes)


def test_one_hot_of_a_list_is_a_type_error():
    with pytest.raises(TypeError):
        torch.nn.functional.one_hot([1, 0], 2)
    with pytest.raises(TypeError, match="one_hot"):
        F.one_hot([1, 0], 2)


# ================================================================ randint

@pytest.mark.parametrize("args,kwargs,bounds", [
    ((10, (3,)), {}, (0, 10)), ((3, 10, (2, 2)), {}, (3, 10)), ((10,), {"size": (3,)}, (0, 10)),
    ((3, 10), {"size": [2, 1, 2]}, (3, 10)), ((), {"high": 10, "size": (3,)}, (0, 10)),
    ((), {"low": 3, "high": 10, "size": (3,)}, (3, 10)),
    ((2,), {"high": 10, "size": (4,)}, (2, 10)), ((10, [3]), {}, (0, 10)),
    ((10, ()), {}, (0, 10)), ((-5, 0, (4,)), {}, (-5, 0)),
    ((10, (3,)), {"dtype": "float32"}, (0, 10)), ((10, (3,)), {"dtype": "int32"}, (0, 10)),
    ((2, (5,)), {"dtype": "bool"}, (0, 2)), ((0, 2 ** 31, (3,)), {"dtype": "int32"}, (0, 2 ** 31)),
    ((10, (2, 3)), {"dtype": "float32", "requires_grad": True}, (0, 10)),
    ((4, (0, 2)), {"device": "cpu"}, (0, 4)),
])
def test_randint_overloads_match_torch(args, kwargs, bounds):
    def call(m):
        options = dict(kwargs)
        if "dtype" in options:
            options["dtype"] = getattr(m, options["dtype"])
        return m.randint(*args, **options)
    theirs, ours = call(torch), call(gc)
    assert ours.shape == tuple(theirs.shape) and ours.dtype.name == str(theirs.dtype)[6:]
    assert ours.requires_grad == theirs.requires_grad
    drawn = ours.numpy().astype(np.int64)
    assert drawn.size == 0 or (drawn.min() >= bounds[0] and drawn.max() < bounds[1])


def test_randint_forms_draw_the_same_numbers():
    draws = []
    for call in (lambda: gc.randint(10, (200,)), lambda: gc.randint(0, 10, (200,)),
                 lambda: gc.randint(10, size=(200,)), lambda: gc.randint(high=10, size=[200]),
                 lambda: gc.randint(low=0, high=10, size=gc.Size([200]))):
        gc.manual_seed(7)
        draws.append(call().tolist())
    assert all(d == draws[0] for d in draws) and len(set(draws[0])) == 10


@pytest.mark.parametrize("args,kwargs,error", [
    ((10, 3), {}, TypeError), ((10,), {}, TypeError), ((), {"low": 3, "size": (3,)}, TypeError),
    ((5, 5, (3,)), {}, RuntimeError), ((6, 5, (3,)), {}, RuntimeError),
    ((0, (3,)), {}, RuntimeError), ((10.5, (3,)), {}, TypeError),
    ((2.0, 10.0, (3,)), {}, TypeError), ((True, (2,)), {}, TypeError),
    ((10, (-1,)), {}, RuntimeError), ((10, (2, 3.0)), {}, TypeError),
    ((10, (3,)), {"dtype": "bool"}, RuntimeError), ((-1, 2, (3,)), {"dtype": "bool"}, RuntimeError),
    ((0, 2 ** 40, (3,)), {"dtype": "int32"}, RuntimeError),
    ((10, (3,)), {"requires_grad": True}, RuntimeError),
    ((2, 10, (3,), 5), {}, TypeError),
])
def test_randint_errors(args, kwargs, error):
    def call(m):
        options = dict(kwargs)
        if "dtype" in options:
            options["dtype"] = getattr(m, options["dtype"])
        return m.randint(*args, **options)
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match="randint|random_|dimension|ints|gradients"):
        call(gc)


# ================================================================ indexing with lists and ranges

@pytest.mark.parametrize("key,value", [
    ([0, 2], np.full((2, 4), 1.5, np.float32)),
    ((slice(None), range(1, 3)), 5.0),
    (range(3), np.arange(4, dtype=np.float32)),
    ([[0, 1], [1, 2]], 7.0),
    ([2, 0], np.array([[1.0], [2.0]], np.float32)),
    ([True, False, True], -3.0),
    ((range(0, 3, 2), [3, 0]), np.array([8.0, 9.0], np.float32)),
    ([0, 0], np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], np.float32)),
    ([], 4.0),
])
def test_setitem_with_lists_and_ranges_matches_torch(key, value):
    start = rand(np.random.default_rng(10), 3, 4)
    ours, theirs = gc.tensor(start), torch.tensor(start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours[key] = gc.tensor(value) if isinstance(value, np.ndarray) else value
        theirs[key] = torch.tensor(value) if isinstance(value, np.ndarray) else value
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_list_of_lists_index_warns_as_torch_and_reads_as_a_tuple():
    x = gc.arange(12.0).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert x[[[0, 1], [1, 2]]].tolist() == [1.0, 6.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x[[0, 1]].shape == (2, 4) and x[range(2)].shape == (2, 4)
        assert x[np.array([[0, 1], [1, 2]])].shape == (2, 2, 4)


@pytest.mark.parametrize("key,error,match", [
    ([0, 3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (range(5), IndexError, "out of bounds"),
    ((slice(None), [4]), IndexError, "index 4 is out of bounds"),
    ([True, False], IndexError, "shape of the mask"),
    ([0, -4], IndexError, "index -4 is out of bounds"),
])
def test_list_index_errors(key, error, match):
    with pytest.raises(error):
        torch.zeros(3, 4)[key]
    with pytest.raises(error, match=match):
        gc.zeros(3, 4)[key]


# ================================================================ linalg

def _column_signs(ours, theirs):
    """+-1 per column that turns our singular/eigen vectors into torch's."""
    signs = np.sign(np.sum(ours * theirs, axis=-2, keepdims=True))
    signs[signs == 0] = 1.0
    return signs


def test_eigh_matches_torch_up_to_signs():
    r = np.random.default_rng(12)
    for a in (symmetric(r, 5, 5), symmetric(r, 2, 3, 4, 4), rand(r, 3, 3)):
        for uplo in ("L", "U", "u"):
            result = gc.linalg.eigh(gc.tensor(a), UPLO=uplo)
            expected = torch.linalg.eigh(torch.tensor(a, dtype=torch.float64), UPLO=uplo)
            w, v = result
            assert type(result).__name__ == "linalg_eigh" and result.eigenvalues is w
            assert w.dtype is gc.float32 and v.shape == a.shape and w.shape == a.shape[:-1]
            assert_close(w.numpy(), expected.eigenvalues.numpy(), 1e-5)
            theirs = expected.eigenvectors.numpy()
            assert_close(v.numpy() * _column_signs(v.numpy(), theirs), theirs, 1e-4)
            assert_close(gc.linalg.eigvalsh(gc.tensor(a), uplo).numpy(),
                         expected.eigenvalues.numpy(), 1e-5)
    empty = gc.linalg.eigh(gc.zeros(2, 0, 0))
    assert empty.eigenvalues.shape == (2, 0) and empty.eigenvectors.shape == (2, 0, 0)


def test_eigh_gradient_of_any_upstream_matches_torch():
    r = np.random.default_rng(13)
    a = symmetric(r, 2, 4, 4)
    ours = gc.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    w, v = gc.linalg.eigh(ours)
    tw, tv = torch.linalg.eigh(theirs)
    signs = _column_signs(v.numpy(), tv.detach().numpy())
    gw, gv = rand(r, 2, 4), rand(r, 2, 4, 4)
    ((w * gc.tensor(gw)).sum() + (v * gc.tensor(gv * signs)).sum()).backward()
    ((tw * torch.tensor(gw)).sum() + (tv * torch.tensor(gv, dtype=torch.float64)).sum()).backward()
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), 1e-4)


def test_eigenvalue_gradients_stay_finite_at_repeated_eigenvalues():
    a = np.eye(3, dtype=np.float32) * 2.0
    ours = gc.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    (gc.linalg.eigvalsh(ours) * gc.tensor([1.0, 2.0, 3.0])).sum().backward()
    (torch.linalg.eigvalsh(theirs) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum() \
        .backward()
    assert np.all(np.isfinite(ours.grad.numpy()))
    assert_close(np.trace(ours.grad.numpy()), np.trace(theirs.grad.numpy()), 1e-5)
    ours.grad = None
    gc.linalg.eigh(ours).eigenvalues.sum().backward()   # the vectors got no gradient
    assert_close(ours.grad.numpy(), np.eye(3), 1e-6)


def test_decompositions_do_not_read_their_input_in_backward():
    """As torch's, their backward reads the results, so the input may change in place."""
    a = symmetric(np.random.default_rng(18), 3, 3)
    for decompose in (lambda m, x: m.linalg.eigvalsh(x).sum(),
                      lambda m, x: m.linalg.svdvals(x).sum()):
        expected = None
        for m in (torch, gc):
            x = m.tensor(a, requires_grad=True)
            out = decompose(m, x)
            with m.no_grad():
                x.mul_(2.0)
            out.backward()
            expected = x.grad.numpy() if expected is None else expected
        assert_close(x.grad.numpy(), expected, 1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 4, 2), (1, 3), (0, 3)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_matches_torch_up_to_signs(shape, full):
    a = rand(np.random.default_rng(14), *shape)
    result = gc.linalg.svd(gc.tensor(a), full_matrices=full)
    expected = torch.linalg.svd(torch.tensor(a, dtype=torch.float64), full_matrices=full)
    u, s, vh = result
    assert type(result).__name__ == "linalg_svd" and result.Vh is vh
    for got, want in zip(result, expected):
        assert got.shape == tuple(want.shape) and got.dtype is gc.float32
    assert_close(s.numpy(), expected.S.numpy(), 1e-5)
    k = s.shape[-1]
    u_k, tu_k = u.numpy()[..., :k], expected.U.numpy()[..., :k]
    signs = _column_signs(u_k, tu_k)
    assert_close(u_k * signs, tu_k, 1e-4)
    assert_close(vh.numpy()[..., :k, :] * np.swapaxes(signs, -1, -2),
                 expected.Vh.numpy()[..., :k, :], 1e-4)
    eye = np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2)
    assert_close(np.swapaxes(u.numpy(), -1, -2) @ u.numpy(), eye, 1e-5)   # orthonormal
    assert_close(gc.linalg.svdvals(gc.tensor(a)).numpy(), expected.S.numpy(), 1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_gradient_of_any_upstream_matches_torch(shape, full):
    r = np.random.default_rng(15)
    a = rand(r, *shape)
    ours = gc.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    u, s, vh = gc.linalg.svd(ours, full_matrices=full)
    tu, ts, tvh = torch.linalg.svd(theirs, full_matrices=full)
    k = s.shape[-1]
    signs = _column_signs(u.numpy()[..., :k], tu.detach().numpy()[..., :k])
    column_signs = np.ones(u.shape[:-2] + (1, u.shape[-1]), np.float32)
    column_signs[..., :k] = signs
    row_signs = np.ones(vh.shape[:-1] + (1,), np.float32)
    row_signs[..., :k, :] = np.swapaxes(signs, -1, -2)
    gu, gs, gvh = rand(r, *u.shape), rand(r, *s.shape), rand(r, *vh.shape)
    gu[..., k:] = 0.0        # columns beyond k are a free basis (torch ignores them too)
    gvh[..., k:, :] = 0.0
    ((u * gc.tensor(gu * column_signs)).sum() + (s * gc.tensor(gs)).sum() +
     (vh * gc.tensor(gvh * row_signs)).sum()).backward()
    ((tu * torch.tensor(gu, dtype=torch.float64)).sum() + (ts * torch.tensor(gs)).sum() +
     (tvh * torch.tensor(gvh, dtype=torch.float64)).sum()).backward()
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), 1e-4)


def test_svd_extra_columns_get_no_gradient_as_in_torch():
    a = rand(np.random.default_rng(16), 4, 2)
    ours = gc.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    (gc.linalg.svd(ours).U[:, 2:] ** 2).sum().backward()
    (torch.linalg.svd(theirs).U[:, 2:] ** 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m.linalg.eigh(m.zeros(3, 4)), RuntimeError,
     "linalg.eigh: A must be batches of square matrices, but they are 3 by 4 matrices"),
    (lambda m: m.linalg.eigh(m.zeros(3)), RuntimeError, "at least 2 dimensions"),
    (lambda m: m.linalg.eigh(m.zeros(3, 3), UPLO="X"), RuntimeError,
     "Expected UPLO argument to be 'L' or 'U'"),
    (lambda m: m.linalg.eigh(m.zeros(3, 3, dtype=m.int64)), Exception, "floating point"),
    (lambda m: m.linalg.eigh(m.full((3, 3), float("nan"))), RuntimeError, "non-finite"),
    (lambda m: m.linalg.eigvalsh(m.zeros(2, 3)), RuntimeError, "square"),
    (lambda m: m.linalg.svd(m.zeros(3)), RuntimeError,
     "linalg.svd: The input tensor A must have at least 2 dimensions"),
    (lambda m: m.linalg.svd(m.zeros(3, 3, dtype=m.int64)), RuntimeError, "floating point"),
    (lambda m: m.linalg.svd(m.full((3, 3), float("inf"))), RuntimeError, "non-finite"),
    (lambda m: m.linalg.svd(m.zeros(3, 3), driver="gesvd"), RuntimeError, "driver"),
    (lambda m: m.linalg.svdvals(m.zeros(3)), RuntimeError, "at least 2 dimensions"),
    (lambda m: m.linalg.vector_norm(m.zeros(3, dtype=m.int64)), RuntimeError,
     "linalg.vector_norm: Expected a floating point"),
    (lambda m: m.linalg.vector_norm(m.zeros(2, 3), "fro"), TypeError, "ord"),
    (lambda m: m.linalg.vector_norm(m.zeros(2, 3), dim=(0, 0)), RuntimeError,
     "dim 0 appears multiple times"),
    (lambda m: m.linalg.vector_norm(m.zeros(0, 3), INF, dim=0), RuntimeError,
     "cannot compute the inf norm on the dimension 0"),
    (lambda m: m.linalg.vector_norm(m.zeros(0, 3), -1, dim=0), RuntimeError,
     "cannot compute the -1 norm"),
    (lambda m: m.linalg.matrix_norm(m.zeros(2, 3), dim=(-1, -1)), RuntimeError,
     r"dims must be different. Got \(1, 1\)"),
    (lambda m: m.linalg.matrix_norm(m.zeros(2, 3), dim=(0,)), RuntimeError, "2-tuple"),
    (lambda m: m.linalg.matrix_norm(m.zeros(3)), RuntimeError, "at least 2 dimensions"),
    (lambda m: m.linalg.matrix_norm(m.zeros(2, 3), 3), RuntimeError, "Order 3 not supported"),
    (lambda m: m.linalg.matrix_norm(m.zeros(2, 3), "abc"), RuntimeError, "Order abc"),
    (lambda m: m.linalg.norm(m.zeros(2, 3), dim=(0, 1, 0)), RuntimeError,
     r"must be of length 1 or 2. Got \[0, 1, 0\]"),
    (lambda m: m.linalg.norm(m.zeros(2, 3, 4), 2), RuntimeError, "must be 1D or 2D. Got 3D"),
    (lambda m: m.linalg.norm(m.zeros(3), "fro"), RuntimeError, "at least 2 dimensions"),
])
def test_linalg_errors(call, error, match):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=match):
        call(gc)


def test_norms_of_empty_matrices_follow_torch():
    """Positive orders give 0; the smallest of nothing is an error, as in torch."""
    for shape in ((0, 3), (3, 0), (2, 0, 4)):
        for ord in ("fro", "nuc", 2, -2, 1, -1, INF, -INF):
            try:
                theirs = torch.linalg.matrix_norm(torch.zeros(*shape), ord)
            except IndexError:
                with pytest.raises(IndexError, match="non-zero size|empty"):
                    gc.linalg.matrix_norm(gc.zeros(*shape), ord)
                continue
            ours = gc.linalg.matrix_norm(gc.zeros(*shape), ord)
            assert ours.shape == tuple(theirs.shape) and \
                ours.numpy().tolist() == theirs.numpy().tolist(), (shape, ord)


def test_the_zero_norm_counts_and_has_no_gradient_as_in_torch():
    r = np.random.default_rng(17)
    x = with_zero_row(r, 3, 4)
    x[0, 1] = 0.0
    ours = gc.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    for dim, keepdim in ((None, False), (1, True), ((0, 1), False)):
        got = gc.linalg.vector_norm(ours, 0, dim, keepdim)
        want = torch.linalg.vector_norm(theirs, 0, dim, keepdim)
        assert got.shape == tuple(want.shape) and got.requires_grad == want.requires_grad
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    gc.linalg.vector_norm(ours, 0).backward()
    torch.linalg.vector_norm(theirs, 0).backward()
    assert ours.grad is None and theirs.grad is None


def test_bad_arguments_are_refused_before_any_kernel_runs(no_kernels):
    r = np.random.default_rng(19)
    x, square = gc.tensor(rand(r, 2, 5)), gc.tensor(rand(r, 3, 3))
    a, b, ints = gc.tensor(rand(r, 2, 3, 4)), gc.tensor(rand(r, 2, 4, 5)), gc.tensor([[1, 2]])
    for call, error in [
        (lambda: gc.bmm(a, a), ValueError), (lambda: gc.baddbmm(x, a, b), ValueError),
        (lambda: x.baddbmm_(a, b), ValueError), (lambda: gc.bmm(a, ints), ValueError),
        (lambda: x.unfold(1, 6, 1), ValueError), (lambda: x.unfold(1, 2, 0), ValueError),
        (lambda: x.flip(0, 0), ValueError), (lambda: x.roll((1, 2), 0), ValueError),
        (lambda: x.lerp(ints, 0.5), TypeError), (lambda: x.lerp(x, ints), TypeError),
        (lambda: F.one_hot(gc.tensor([0.0]), 3), TypeError),
        (lambda: F.one_hot(gc.tensor([0]), 2.5), TypeError),
        (lambda: gc.randint(5, 5, (3,)), ValueError),
        (lambda: gc.randint(10, (3,), dtype=gc.bool), ValueError),
        (lambda: gc.linalg.eigh(x), ValueError),
        (lambda: gc.linalg.svd(gc.tensor([1.0])), ValueError),
        (lambda: gc.linalg.eigh(square, UPLO="X"), ValueError),
        (lambda: gc.linalg.eigh(gc.tensor(np.full((2, 2), np.nan, np.float32))), ValueError),
        (lambda: gc.linalg.matrix_norm(x, 3), ValueError),
        (lambda: gc.linalg.vector_norm(x, "fro"), TypeError),
        (lambda: gc.linalg.norm(a, 2), ValueError),
    ]:
        with pytest.raises(error):
            call()
