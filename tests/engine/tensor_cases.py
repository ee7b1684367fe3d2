"""The Tensor API sweep, shared by the CPU tests and the simulator ("cuda") tests.

Each case is written once as a function of a namespace `m` (gpucnn or torch) and the input
tensors, so the very same code runs on both: that is the parity being tested. Two kinds:

    GRAD_CASES    float outputs: values and every float input's gradient against PyTorch
                  float64 (tests/helpers.check_op), and gc.gradcheck
    VALUE_CASES   everything else (bool, int64 results, no gradient): values and dtype
"""
import numpy as np

from tests.helpers import rand

RNG_SEED = 11


def positive(r, *shape):
    return r.uniform(0.5, 2.0, size=shape).astype(np.float32)


def distinct(r, *shape):
    """Values at least 0.1 apart (max/argmax and sorting-like ops have one answer, and a
    finite-difference step cannot change it)."""
    size = int(np.prod(shape))
    return (r.permutation(size).reshape(shape) * 0.1 - size * 0.05).astype(np.float32)


def labels(r, *shape, high=4):
    return r.integers(0, high, size=shape).astype(np.int64)


def mask_of(shape, seed=3):
    return np.random.default_rng(seed).random(shape) < 0.5


def _mask_index(m, x):
    """x[mask] with a mask built on x's device from fixed values (the same in both libraries)."""
    return x[m.tensor(mask_of(tuple(x.shape))).to(x.device)]


def _index_tensor(m, x, values):
    return m.tensor(values).to(x.device)


def _weighted(m, pieces):
    """One float output from several pieces (each scaled differently, so a swapped piece
    or gradient shows)."""
    total = None
    for i, p in enumerate(pieces):
        term = (p * (i + 1.0)).sum()
        total = term if total is None else total + term
    return total


# ================================================================ differentiable cases
# (id, fn(m, *inputs), inputs factory(rng))

GRAD_CASES = [
    # arithmetic with broadcasting, reversed operators, scalars
    ("add_broadcast", lambda m, a, b: a + b, lambda r: [rand(r, 3, 1, 5), rand(r, 4, 1)]),
    ("sub_row", lambda m, a, b: a - b, lambda r: [rand(r, 2, 3), rand(r, 3)]),
    ("mul_zero_dim", lambda m, a, b: a * b, lambda r: [rand(r, 2, 3), rand(r)]),
    ("div_column", lambda m, a, b: a / b, lambda r: [rand(r, 3, 4), positive(r, 3, 1)]),
    ("add_alpha", lambda m, a, b: m.add(a, b, alpha=-2.5), lambda r: [rand(r, 5), rand(r, 5)]),
    ("reversed_scalars", lambda m, a: (2.0 - a) * 3 + 1.5 / (a + 3.0) - (-a) / 4.0 + 2 ** a,
     lambda r: [rand(r, 2, 3, 4)]),
    ("pow_scalars", lambda m, a: a ** 2 + a ** 3 - a ** 0.5 + a ** -1.5 + a ** 0,
     lambda r: [positive(r, 4, 3)]),
    ("pow_tensor", lambda m, a, b: a ** b, lambda r: [positive(r, 3, 4), rand(r, 4)]),
    ("neg_abs", lambda m, a: -a.abs() + abs(a) * 0.5 + (+a), lambda r: [rand(r, 7)]),
    ("exp_log", lambda m, a: a.exp() + m.log(a + 2.0) + a.log2() + a.log10(),
     lambda r: [positive(r, 3, 5)]),
    ("sqrt_rsqrt", lambda m, a: a.sqrt() + m.rsqrt(a) + m.sqrt(a) * 2, lambda r: [positive(r, 6)]),
    ("clamp", lambda m, a: a.clamp(-0.3, 0.4) + a.clamp(min=0.1) + m.clamp(a, max=-0.2)
     + a.clip(-0.5, 0.5), lambda r: [rand(r, 4, 5)]),
    ("maximum_minimum", lambda m, a, b: m.maximum(a, b) + m.minimum(a, b) * 2,
     lambda r: [rand(r, 3, 4), rand(r, 4)]),
    ("sigmoid_tanh_relu", lambda m, a: a.sigmoid() + m.tanh(a) * 2 + a.relu() * 3 + m.relu(a),
     lambda r: [rand(r, 3, 7) * 4]),
    ("square_reciprocal", lambda m, a: a.square() + a.reciprocal(), lambda r: [positive(r, 5)]),
    ("log1p_expm1_erf", lambda m, a: a.log1p() + a.expm1() + a.erf(),
     lambda r: [positive(r, 4)]),
    ("shared_input", lambda m, a: a * a + a - a / 2, lambda r: [rand(r, 5, 2)]),
    # matmul in every form
    ("matmul_2d", lambda m, a, b: a @ b, lambda r: [rand(r, 3, 4), rand(r, 4, 5)]),
    ("matmul_vectors", lambda m, a, b, c: (a @ b) * 2 + (c @ a) .sum() + (a @ c.t()).sum(),
     lambda r: [rand(r, 4), rand(r, 4, 2), rand(r, 3, 4)]),
    ("matmul_dot", lambda m, a, b: m.matmul(a, b) + a.dot(b), lambda r: [rand(r, 6), rand(r, 6)]),
    ("matmul_transposed", lambda m, x, w: x @ w.t() + m.mm(x, w.T),
     lambda r: [rand(r, 5, 3), rand(r, 4, 3)]),
    ("matmul_batched", lambda m, a, b: a @ b, lambda r: [rand(r, 2, 1, 3, 4), rand(r, 3, 4, 2)]),
    ("matmul_nd_2d", lambda m, a, b: a @ b, lambda r: [rand(r, 2, 3, 4), rand(r, 4, 5)]),
    # reductions
    ("sum_dims", lambda m, a: a.sum(1) .sum() + a.sum((0, 2), keepdim=True).sum() * 2
     + m.sum(a, dim=-1).sum() * 3 + a.sum(), lambda r: [rand(r, 3, 4, 5)]),
    ("mean_dims", lambda m, a: a.mean(0).sum() + a.mean((1, 2), keepdim=True).sum() + a.mean(),
     lambda r: [rand(r, 3, 4, 5)]),
    ("max_min_dim", lambda m, a: a.max(dim=1)[0].sum() + a.min(1, keepdim=True).values.sum() * 2
     + m.max(a, 0).values.sum() * 3, lambda r: [distinct(r, 3, 5)]),
    ("max_all_amax", lambda m, a: a.max() * 3 + a.min() * 2 + a.amax(1) + a.amin((0, 1)) + 10,
     lambda r: [distinct(r, 4, 3)]),
    ("var_std", lambda m, a: a.var() + a.var(1).sum() + a.var(0, unbiased=False).sum()
     + a.std(1, keepdim=True).sum() + a.var(1, correction=0).sum() + m.std(a),
     lambda r: [rand(r, 4, 6)]),
    ("logsumexp", lambda m, a: a.logsumexp(1).sum() + m.logsumexp(a, dim=(0, 1)),
     lambda r: [rand(r, 3, 5) * 3]),
    ("nn_functional_activations",
     lambda m, a: (m.nn.functional.leaky_relu(a, 0.2) + m.nn.functional.elu(a, 0.7) * 2
                   + m.nn.functional.gelu(a) * 3 + m.nn.functional.gelu(a, approximate="tanh") * 4
                   + m.nn.functional.silu(a) * 5 + m.nn.functional.softmax(a, dim=1) * 6
                   + m.nn.functional.log_softmax(a, 0)),
     lambda r: [rand(r, 3, 7) * 3]),
    ("nn_activation_modules",
     lambda m, a: m.nn.Sequential(m.nn.LeakyReLU(), m.nn.ELU(alpha=1.5), m.nn.GELU("tanh"),
                                  m.nn.SiLU(), m.nn.Tanh(), m.nn.Identity(), m.nn.Softmax(dim=-1),
                                  m.nn.Sigmoid())(a)
     + m.nn.LogSoftmax(dim=1)(m.nn.ReLU(inplace=True)(a * 1)) + m.nn.GELU()(a),
     lambda r: [rand(r, 4, 5) * 2]),
    ("nn_functional_pad_constant",
     lambda m, a: m.cat([m.nn.functional.pad(a, (1, 2, 0, 1)).flatten() * 2,
                         m.nn.functional.pad(a, (2, -1, -1, 1), value=0.5).flatten(),
                         m.nn.functional.pad(a, (1, 1, 1, 1, 1, 0)).flatten() * 3]),
     lambda r: [rand(r, 2, 3, 4, 5)]),
    ("nn_functional_pad_modes",
     lambda m, a: m.nn.functional.pad(a, (2, 1, 1, 2), mode="reflect") * 3
     + m.nn.functional.pad(a, (2, 1, 1, 2), mode="replicate") * 2
     + m.nn.functional.pad(a, (2, 1, 1, 2), mode="circular"),
     lambda r: [rand(r, 2, 2, 3, 4)]),
    ("softmax", lambda m, a: a.softmax(1) * m.arange(5.0).to(a.device), lambda r: [rand(r, 3, 5) * 3]),
    ("log_softmax", lambda m, a: m.log_softmax(a, dim=0), lambda r: [rand(r, 4, 3) * 3]),
    ("norm", lambda m, a: a.norm() + a.norm(dim=1).sum() + a.norm(p=1) + a.norm(2, dim=0,
                                                                              keepdim=True).sum(),
     lambda r: [rand(r, 3, 4)]),
    ("sum_of_empty_dim", lambda m, a, b: a.sum(0) + b, lambda r: [rand(r, 0, 3), rand(r, 3)]),
    # shapes and views
    ("view_reshape", lambda m, a: a.view(4, 6) @ a.reshape(-1, 4) + a.view(-1).sum(),
     lambda r: [rand(r, 2, 3, 4)]),
    ("flatten", lambda m, a: a.flatten(1) * 2 + m.flatten(a, 0, 1).reshape(6, 4)[:3] .sum(),
     lambda r: [rand(r, 3, 2, 2, 2)]),
    ("permute_transpose", lambda m, a: a.permute(2, 0, 1) * m.arange(24.0).reshape(4, 2, 3).to(a.device)
     + a.transpose(0, 2).transpose(1, 2) + m.permute(a, (2, 0, 1)), lambda r: [rand(r, 2, 3, 4)]),
    ("t_T_mT", lambda m, a, b: a.t() + a.T * 2 + b.mT.sum(),
     lambda r: [rand(r, 3, 2), rand(r, 2, 3, 4)]),
    ("unsqueeze_squeeze", lambda m, a: a.unsqueeze(1).squeeze(1) * 2 + a.unsqueeze(-1).squeeze()
     + a.unsqueeze(0).squeeze(0) + m.squeeze(m.unsqueeze(a, 2), dim=2),
     lambda r: [rand(r, 3, 4)]),
    ("expand", lambda m, a, b: a.expand(3, 4) * m.arange(12.0).reshape(3, 4).to(a.device)
     + b.expand_as(m.ones(2, 3, 4).to(a.device)).sum(), lambda r: [rand(r, 4), rand(r, 3, 1)]),
    ("contiguous_of_view", lambda m, a: a.t().contiguous().view(-1) * m.arange(6.0).to(a.device),
     lambda r: [rand(r, 2, 3)]),
    ("cat_stack", lambda m, a, b: m.cat([a, b, a * 2], 0) * 1.5 + m.cat((a, b), dim=1).sum()
     + m.stack([a, b, b], 1).sum(1).sum() + m.stack([a, b]).sum(),
     lambda r: [rand(r, 2, 3), rand(r, 2, 3)]),
    ("cat_with_empty", lambda m, a, b: m.cat([a, b], 0), lambda r: [rand(r, 0, 3), rand(r, 2, 3)]),
    ("chunk_split", lambda m, a: _weighted(m, a.chunk(3, 1) + a.split(2, 0) + a.split([1, 3], 0)
                                           + m.split(a, 4, dim=1)),
     lambda r: [rand(r, 4, 7)]),
    ("narrow_unbind", lambda m, a: _weighted(m, (a.narrow(1, 1, 2),) + a.unbind(0)),
     lambda r: [rand(r, 3, 4)]),
    ("repeat", lambda m, a: a.repeat(2, 3) * m.arange(36.0).reshape(6, 6).to(a.device),
     lambda r: [rand(r, 3, 2)]),
    # indexing
    ("index_basic", lambda m, a: a[1] .sum() + a[:, 2].sum() * 2 + a[0:3:2, ::2].sum() * 3
     + a[-1, -2] + a[..., 1].sum() + a[None, 1:, None].sum() * 5, lambda r: [rand(r, 4, 5)]),
    ("index_int_tensor", lambda m, a: a[_index_tensor(m, a, [2, 0, 2, 3])] * 1.5,
     lambda r: [rand(r, 4, 3)]),
    ("index_list_dim1", lambda m, a: a[:, [1, 1, 0]], lambda r: [rand(r, 2, 3, 2)]),
    ("index_two_tensors", lambda m, a: a[_index_tensor(m, a, [0, 2, 2]),
                                         _index_tensor(m, a, [1, 1, 0])],
     lambda r: [rand(r, 3, 4, 2)]),
    ("index_non_adjacent", lambda m, a: a[_index_tensor(m, a, [1, 0]), :, _index_tensor(m, a, [2, 2])],
     lambda r: [rand(r, 2, 3, 4)]),
    ("index_negative", lambda m, a: a[_index_tensor(m, a, [-1, 0, -3])], lambda r: [rand(r, 3, 2)]),
    ("index_mask", lambda m, a: _mask_index(m, a) * 2.0, lambda r: [rand(r, 4, 5)]),
    ("index_select_masked_select", lambda m, a: a.index_select(1, _index_tensor(m, a, [2, 0]))
     .sum() + a.masked_select(a > 0).sum(), lambda r: [rand(r, 3, 4)]),
    ("iterate_rows", lambda m, a: _weighted(m, list(a)), lambda r: [rand(r, 3, 2)]),
    # selection
    ("where", lambda m, a, b: m.where(a > 0, a, b) + m.where(b < 0, a, 0.5).sum(),
     lambda r: [rand(r, 3, 4), rand(r, 4)]),
    ("masked_fill", lambda m, a: a.masked_fill(a < 0, -1.0) * 2, lambda r: [rand(r, 3, 4)]),
    # conversions that keep the graph
    ("float_and_clone", lambda m, a: a.float().clone() * 2 + a.to(m.float32) + a.type_as(a),
     lambda r: [rand(r, 3)]),
]

# ================================================================ value-only cases
# (id, fn(m, *inputs) -> tensor (or tuple of tensors), inputs factory)

VALUE_CASES = [
    ("compare_ops", lambda m, a, b: m.stack([a == b, a != b, a < b, a <= b, a > b, a >= b]),
     lambda r: [np.round(rand(r, 3, 4)), np.round(rand(r, 4))]),
    ("compare_methods", lambda m, a, b: m.stack([a.eq(b), a.ne(1.0), a.lt(0), a.le(b), a.gt(b),
                                                  a.ge(0.0), m.eq(a, b)]),
     lambda r: [np.round(rand(r, 2, 3)), np.round(rand(r, 2, 3))]),
    ("prediction_count", lambda m, logits, y: (logits.argmax(1) == y).sum(),
     lambda r: [rand(r, 9, 4), labels(r, 9)]),
    ("argmax_argmin", lambda m, a: m.stack([a.argmax(1), a.argmin(1)]).sum(0) + a.argmax()
     + a.argmax(0, keepdim=True).sum(), lambda r: [distinct(r, 4, 5)]),
    ("max_indices", lambda m, a: m.cat([a.max(1).indices * 10,
                                        a.min(dim=0, keepdim=True)[1].flatten()]),
     lambda r: [distinct(r, 3, 4)]),
    ("logic", lambda m, a, b: m.stack([(a > 0) & (b > 0), (a > 0) | (b > 0), (a > 0) ^ (b > 0),
                                       ~(a > 0), (a > 0).logical_not(),
                                       m.logical_and(a > 0, b < 0)]),
     lambda r: [rand(r, 3, 4), rand(r, 3, 4)]),
    ("any_all", lambda m, a: m.stack([(a > 0).any(), (a > -2).all(), (a > 0.9).any()]),
     lambda r: [rand(r, 3, 4)]),
    ("any_all_dims", lambda m, a: m.cat([(a > 0).any(1), (a > -0.5).all(0), a.any(dim=0)]),
     lambda r: [rand(r, 3, 4)]),
    ("int_arithmetic", lambda m, a, b: m.stack([a + b, a - b, a * b, a // b, a % b, -a, abs(a),
                                                a * 3 - 2, 7 // b, 7 % b, a.clamp(-2, 3)]),
     lambda r: [labels(r, 3, 4, high=9) - 4, labels(r, 3, 4, high=4) + 1]),
    ("int_division_is_float", lambda m, a, b: a / b + a / 2, lambda r: [labels(r, 5) - 2,
                                                                         labels(r, 5) + 1]),
    ("int_float_promotion", lambda m, a, b: a + b + a * 0.5, lambda r: [labels(r, 3, 2),
                                                                          rand(r, 3, 2)]),
    ("bool_sum_is_int", lambda m, a: (a > 0).sum() + (a > 0).sum(1).sum(), lambda r: [rand(r, 4, 5)]),
    ("isnan_isinf", lambda m, a: m.stack([(a / a).isnan(), (1 / a).isinf(), a.isfinite()]),
     lambda r: [np.array([0.0, 1.0, -2.0, 0.0], np.float32)]),
    ("nonzero", lambda m, a: (a > 0).nonzero(), lambda r: [rand(r, 3, 4)]),
    ("dtype_conversions", lambda m, a: m.stack([a.long().float(), a.int().float(), a.bool().float(),
                                                a.to(m.int64).float(), a.type(m.int32).float()]),
     lambda r: [rand(r, 5) * 4]),
    ("int_indexing", lambda m, a, i: a[i] * 2 + a[i, 1:].sum(), lambda r: [labels(r, 4, 3, high=9),
                                                                          labels(r, 5, high=4)]),
    ("setitem", lambda m, a: _setitem(m, a), lambda r: [rand(r, 4, 5)]),
    ("inplace", lambda m, a: _inplace(m, a), lambda r: [rand(r, 3, 4)]),
    ("factories", lambda m, a: m.cat([m.zeros(2, 3, device=a.device).flatten(),
                                      m.ones((4,), device=a.device),
                                      m.full((2,), 7.5, device=a.device),
                                      m.zeros_like(a).flatten(), m.ones_like(a).flatten(),
                                      m.full_like(a, -2).flatten(),
                                      m.arange(5, device=a.device).float(),
                                      m.arange(1, 4, 0.5, device=a.device),
                                      m.linspace(-1, 1, 7, device=a.device),
                                      m.eye(3, device=a.device).flatten(),
                                      m.eye(2, 3, device=a.device).flatten()]),
     lambda r: [rand(r, 2, 2)]),
    ("factory_dtypes", lambda m, a: m.stack([m.zeros(3, dtype=m.int64, device=a.device),
                                             m.ones(3, dtype=m.int32, device=a.device).long(),
                                             m.arange(3, device=a.device),
                                             m.full((3,), 2, device=a.device),
                                             m.tensor([1, 2, 3], device=a.device)]),
     lambda r: [rand(r, 1)]),
]


def _setitem(m, a):
    a = a.clone()
    a[0] = 1.0
    a[1, 2:4] = m.tensor([5.0, 6.0], dtype=a.dtype).to(a.device)
    a[:, 0] = a[:, 1]
    a[a > 0.5] = 0.25
    a[m.tensor([3, 2]).to(a.device)] = -1.0
    a[2, m.tensor([0, 4]).to(a.device)] = m.tensor([7.0, 8.0], dtype=a.dtype).to(a.device)
    a[..., -1] += 1
    return a


def _inplace(m, a):
    a = a.clone()
    a.add_(1.0).mul_(2.0).sub_(a[0].clone(), alpha=0.5).div_(3.0)
    a.clamp_(-0.8, 1.5)
    b = m.zeros_like(a)
    b.copy_(a.t().contiguous().t())
    b.add_(a)
    a[0].zero_()
    a += 1
    a *= b
    return m.stack([a, b])
