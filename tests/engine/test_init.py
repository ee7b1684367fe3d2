"""gpucnn.nn.init against PyTorch's: gains and fans equal to torch's, the distributions' bounds
and moments over large tensors, the exact structure of the deterministic fills (constant,
eye, dirac: equal to torch's; orthogonal: QᵀQ = I), seeding, in-place use on parameters, and
the errors torch raises."""
import math

import numpy as np
import pytest
import torch

import gpucnn as gc
from gpucnn.nn import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
SHAPES = [(3, 4), (7, 1), (1, 1), (5, 3, 2), (6, 4, 3, 3), (2, 3, 1, 4, 5)]
BIG = (300, 400)


def _empty(*shape):
    return gc.empty(*shape)


# ================================================================ gains and fans

@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity):
    ours, theirs = init.calculate_gain(nonlinearity), torch.nn.init.calculate_gain(nonlinearity)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.5, -0.5])
@pytest.mark.parametrize("nonlinearity", ["leaky_relu", "relu", "tanh", "selu"])
def test_calculate_gain_with_param_equals_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("args", [("softmax",), ("leaky_relu", "0.2"), ("leaky_relu", True)])
def test_calculate_gain_errors_as_torch(args):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError, match="calculate_gain"):
        init.calculate_gain(*args)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_fans_equal_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(_empty(*shape)) == expected
    for mode in ("fan_in", "fan_out", "FAN_OUT"):
        assert init._calculate_correct_fan(_empty(*shape), mode) == \
            torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


@pytest.mark.parametrize("shape", [(5,), ()], ids=str)
def test_fans_need_two_dims_as_torch(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        torch.nn.init.xavier_uniform_(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(_empty(*shape))


def test_bad_fan_mode_as_torch():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_empty(3, 4), mode="fan_avg")


# ================================================================ distributions

def _stats(t):
    v = t.numpy().astype(np.float64)
    return v.min(), v.max(), v.mean(), v.std()


def test_uniform_bounds_and_moments():
    gc.manual_seed(0)
    low, high, mean, std = _stats(init.uniform_(_empty(*BIG), a=-2.0, b=3.0))
    assert -2.0 <= low < -1.99 and 2.99 < high < 3.0
    assert abs(mean - 0.5) < 0.02
    assert abs(std / (5 / math.sqrt(12)) - 1) < 0.01


def test_normal_moments():
    gc.manual_seed(1)
    _, _, mean, std = _stats(init.normal_(_empty(*BIG), mean=1.0, std=2.0))
    assert abs(mean - 1.0) < 0.03 and abs(std / 2.0 - 1) < 0.01


@pytest.mark.parametrize("shape,gain", [(BIG, 1.0), ((64, 32, 5, 5), 0.5)], ids=["2d", "4d"])
def test_xavier_bounds_and_std(shape, gain):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    gc.manual_seed(2)
    low, high, mean, measured = _stats(init.xavier_uniform_(_empty(*shape), gain=gain))
    bound = math.sqrt(3.0) * std
    assert -bound <= low < -0.99 * bound and 0.99 * bound < high <= bound
    assert abs(measured / std - 1) < 0.02 and abs(mean) < 0.02 * std
    _, _, mean, measured = _stats(init.xavier_normal_(_empty(*shape), gain=gain))
    assert abs(measured / std - 1) < 0.02 and abs(mean) < 0.03 * std


@pytest.mark.parametrize("a,mode,nonlinearity", [(0, "fan_in", "leaky_relu"),
                                                 (math.sqrt(5), "fan_in", "leaky_relu"),
                                                 (0, "fan_out", "relu"),
                                                 (0.1, "fan_out", "tanh"),
                                                 (0, "fan_in", "selu")])
def test_kaiming_bounds_and_std(a, mode, nonlinearity):
    shape = (96, 50, 3, 3)
    fan = torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    gc.manual_seed(3)
    low, high, _, measured = _stats(init.kaiming_uniform_(_empty(*shape), a, mode, nonlinearity))
    bound = math.sqrt(3.0) * std
    assert -bound <= low < -0.99 * bound and 0.99 * bound < high <= bound
    assert abs(measured / std - 1) < 0.02
    _, _, mean, measured = _stats(init.kaiming_normal_(_empty(*shape), a, mode, nonlinearity))
    assert abs(measured / std - 1) < 0.02 and abs(mean) < 0.03 * std


def _truncated_normal_moments(mean, std, a, b):
    def pdf(x):
        return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / mass
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift ** 2
    return mean + std * shift, std * math.sqrt(variance)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 1.0, -1.0, 1.0),
                                          (1.0, 0.1, 0.5, 2.0), (0.0, 1.0, 2.0, 3.0),
                                          (0.0, 1.0, -0.3, 0.3)],
                         ids=["redraw", "redraw-off-centre", "redraw-narrow",
                              "rejection-tail", "rejection-narrow"])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    gc.manual_seed(4)
    low, high, measured_mean, measured_std = _stats(
        init.trunc_normal_(_empty(*BIG), mean, std, a, b))
    expected_mean, expected_std = _truncated_normal_moments(mean, std, a, b)
    assert a <= low and high <= b
    assert abs(measured_mean - expected_mean) < 0.01 * expected_std
    assert abs(measured_std / expected_std - 1) < 0.01


def test_trunc_normal_warns_as_torch_when_the_mean_is_far_outside():
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(_empty(10, 10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_sparse_zeroes_a_fraction_of_every_column():
    gc.manual_seed(5)
    w = init.sparse_(_empty(50, 40), sparsity=0.3, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == math.ceil(0.3 * 50)).all()
    assert abs(w[w != 0].std() / 0.5 - 1) < 0.05
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(_empty(3, 4, 5), 0.1)


# ================================================================ exact structure

def test_constant_ones_zeros():
    w = _empty(3, 4)
    assert init.constant_(w, 2.5) is w and (w.numpy() == 2.5).all()
    assert (init.ones_(w).numpy() == 1).all()
    assert (init.zeros_(w).numpy() == 0).all()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 1)], ids=str)
def test_eye_equals_torch(shape):
    w = init.normal_(_empty(*shape))
    np.testing.assert_array_equal(init.eye_(w).numpy(),
                                  torch.nn.init.eye_(torch.empty(shape)).numpy())


@pytest.mark.parametrize("shape,groups", [((4, 2, 3, 3), 1), ((4, 2, 3, 3), 2), ((6, 3, 5), 3),
                                          ((2, 4, 3, 3, 3), 1), ((8, 4, 2, 4), 2),
                                          ((3, 5, 4), 1)], ids=str)
def test_dirac_equals_torch(shape, groups):
    w = init.normal_(_empty(*shape))
    np.testing.assert_array_equal(init.dirac_(w, groups).numpy(),
                                  torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_eye_and_dirac_errors_as_torch():
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_empty(2, 3, 4))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(_empty(3, 4))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(_empty(5, 2, 3, 3), groups=2)


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 1.0), ((5, 3, 2), 2.0),
                                        ((7, 7), 0.5), ((3, 2, 2, 2), 1.0)], ids=str)
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    gc.manual_seed(6)
    w = _empty(*shape)
    assert init.orthogonal_(w, gain=gain) is w
    q = w.numpy().astype(np.float64).reshape(shape[0], -1)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(q.shape)), atol=1e-5)


def test_orthogonal_errors_and_empty_as_torch():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(_empty(5))
    empty = _empty(0, 3)
    assert init.orthogonal_(empty) is empty


# ================================================================ how they are used

def test_the_same_seed_gives_the_same_values():
    def draw(seed):
        gc.manual_seed(seed)
        return [f(_empty(20, 30)).numpy() for f in (init.xavier_uniform_, init.kaiming_normal_,
                                                    init.trunc_normal_, init.orthogonal_)]
    first, again, other = draw(7), draw(7), draw(8)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


INITS = [lambda t: init.uniform_(t), lambda t: init.normal_(t), lambda t: init.constant_(t, 3),
         init.ones_, init.zeros_, init.eye_, init.xavier_uniform_, init.xavier_normal_,
         init.kaiming_uniform_, init.kaiming_normal_, init.trunc_normal_, init.orthogonal_,
         lambda t: init.sparse_(t, 0.5)]


@pytest.mark.parametrize("fn", INITS)
def test_initialises_a_parameter_in_place_without_a_graph(fn):
    layer = gc.nn.Linear(6, 4)
    weight = layer.weight
    version = weight._version.value
    assert fn(weight) is weight
    assert layer.weight is weight and weight.requires_grad and weight.grad_fn is None
    assert weight._version.value > version
    (layer(gc.ones(2, 6)).sum()).backward()   # still a usable leaf
    assert weight.grad is not None


def test_strided_views_are_filled_in_place():
    base = gc.zeros(4, 6)
    init.ones_(base[:, ::2])
    np.testing.assert_array_equal(base.numpy()[:, ::2], 1)
    np.testing.assert_array_equal(base.numpy()[:, 1::2], 0)
    init.orthogonal_(base.t())
    q = base.numpy().T.astype(np.float64)   # (6, 4): orthonormal columns
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_kaiming_of_a_zero_element_tensor_warns_as_torch():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            fn(_empty(0, 3))


def test_deprecated_aliases_warn_as_torch():
    with pytest.warns(FutureWarning, match=r"nn.init.xavier_uniform` is now deprecated"):
        w = init.xavier_uniform(_empty(3, 4))
    assert np.abs(w.numpy()).max() > 0
    for name in ("uniform", "normal", "constant", "eye", "dirac", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        assert callable(getattr(init, name)) and getattr(init, name).__name__ == name


def test_bad_tensors_are_refused():
    with pytest.raises(TypeError, match="nn.init.normal_: tensor must be a gpucnn Tensor"):
        init.normal_(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="float32"):
        init.uniform_(gc.zeros(3, dtype=gc.int64))


def test_a_foreign_generator_is_refused_naming_the_initialiser():
    with pytest.raises(TypeError, match=r"nn.init.uniform_: generator must be a "
                                        r"gpucnn.Generator"):
        init.uniform_(_empty(3), generator=object())
    with pytest.raises(TypeError, match=r"nn.init.orthogonal_: generator must be"):
        init.orthogonal_(_empty(3, 3), generator=torch.Generator())


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.xavier_normal_, init.orthogonal_,
                                init.trunc_normal_, lambda t, generator: init.sparse_(
                                    t, 0.3, generator=generator)],
                         ids=["kaiming_uniform", "xavier_normal", "orthogonal", "trunc_normal",
                              "sparse"])
def test_a_gpucnn_generator_drives_the_draws_and_leaves_the_global_one(fn):
    gc.manual_seed(9)
    global_state = gc.get_rng_state()
    first = fn(_empty(20, 30), generator=gc.Generator().manual_seed(3)).numpy()
    again = fn(_empty(20, 30), generator=gc.Generator().manual_seed(3)).numpy()
    other = fn(_empty(20, 30), generator=gc.Generator().manual_seed(4)).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert gc.get_rng_state() == global_state


def test_generator_draws_keep_the_distribution():
    generator = gc.Generator().manual_seed(5)
    low, high, mean, std = _stats(init.uniform_(_empty(*BIG), -1.0, 3.0, generator=generator))
    assert -1.0 <= low and high < 3.0 and abs(mean - 1.0) < 0.02
    _, _, mean, std = _stats(init.normal_(_empty(*BIG), 2.0, 0.5, generator=generator))
    assert abs(mean - 2.0) < 0.01 and abs(std / 0.5 - 1) < 0.01
