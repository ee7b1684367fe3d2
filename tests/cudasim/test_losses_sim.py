"""The losses on device="cuda" under the simulator: a sweep of tests/engine/test_losses.py's
cases (every loss and option family) against PyTorch, the fused path, stability at large
logits, PyTorch's NaN case, device checks; and the training utilities that work on the same
tensors -- nn.init filling cuda tensors in place (the same numbers as on "cpu" for one seed)
and gradient clipping of cuda gradients. Blocks are made small here (in the simulator only:
one OS thread per CUDA thread)."""
import math

import numpy as np
import pytest
import torch
from numba.cuda import config

import gpucnn as gc
import gpucnn.nn.functional as F
from gpucnn.kernels import softmax_xent
from gpucnn.nn import init, utils
from tests.cudasim.small_geometry import shrink_engine_blocks
from tests.engine.test_losses import LOSS_CASES, run_loss_case

# One case per loss and option family (the CPU tests run the whole product).
SIM_CASES = [
    "cross_entropy-2d-mean-noweight-ls0.0-none_ignored",      # the fused kernels
    "cross_entropy-2d-sum-weight-ls0.15-ignored_class",
    "cross_entropy-2d-mean-weight-ls0.0-ignored_default",
    "cross_entropy-4d-mean-weight-ls0.15-ignored_default",
    "cross_entropy-4d-none-noweight-ls0.0-ignored_class",
    "cross_entropy-1d-none-weight-ls0.15-none_ignored",
    "nll_loss-2d-mean-weight-ls0.0-ignored_class",
    "nll_loss-4d-none-noweight-ls0.0-none_ignored",
    "cross_entropy_probabilities-2d-mean-weight-ls0.2",
    "cross_entropy_probabilities-4d-none-noweight-ls0.0",
    "mse_loss-mean-weight", "mse_loss-none", "l1_loss-sum", "l1_loss-mean-weight",
    "smooth_l1_loss-mean-beta0.3", "smooth_l1_loss-sum-beta0.0",
    "huber_loss-none-delta0.4", "huber_loss-mean-weight",
    "binary_cross_entropy-mean-weight", "binary_cross_entropy-none",
    "binary_cross_entropy_with_logits-mean-weight-pos_weight",
    "binary_cross_entropy_with_logits-none",
]
CASES = {case[0]: case for case in LOSS_CASES}


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(softmax_xent, "THREADS", 32)
    shrink_engine_blocks(monkeypatch)


def test_the_sweep_names_existing_cases():
    assert set(SIM_CASES) <= set(CASES)


@pytest.mark.parametrize("name", SIM_CASES)
def test_loss_on_cuda_matches_torch(name):
    run_loss_case(CASES[name], "cuda", seed=5)


def test_plain_cross_entropy_on_cuda_takes_the_fused_kernel():
    rng = np.random.default_rng(1)
    logits = gc.tensor(rng.uniform(-3, 3, (5, 4)), device="cuda", requires_grad=True)
    loss = F.cross_entropy(logits, gc.tensor(rng.integers(0, 4, 5), device="cuda"))
    assert type(loss.grad_fn).__name__ == "CrossEntropy" and loss.device == "cuda"


def test_large_logits_on_cuda_stay_finite_and_match_torch():
    rng = np.random.default_rng(2)
    x = (rng.choice([-1.0, 1.0], (4, 3)) * rng.uniform(5e3, 1e4, (4, 3))).astype(np.float32)
    y = rng.integers(0, 3, 4)
    t = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    for fn in (lambda F, a, b, _: F.cross_entropy(a, b, label_smoothing=0.1, reduction="none"),
               lambda F, a, _, p: F.binary_cross_entropy_with_logits(a, p, reduction="none")):
        ours = gc.tensor(x, device="cuda", requires_grad=True)
        theirs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = fn(F, ours, gc.tensor(y, device="cuda"), gc.tensor(t, device="cuda"))
        expected = fn(torch.nn.functional, theirs, torch.tensor(y),
                      torch.tensor(t, dtype=torch.float64))
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_every_target_ignored_on_cuda_gives_nan_and_zero_gradient():
    x = gc.tensor(np.random.default_rng(3).uniform(-1, 1, (3, 4)), device="cuda",
                  requires_grad=True)
    loss = F.cross_entropy(x, gc.tensor([-100, -100, -100], device="cuda"), label_smoothing=0.1)
    assert math.isnan(loss.item())
    loss.backward()
    assert x.grad.device == "cuda" and not x.grad.numpy().any()


def test_operands_on_another_device_are_refused():
    x = gc.tensor(np.ones((3, 4)), device="cuda")
    with pytest.raises(ValueError, match=r"cross_entropy: target \(3,\) is on cpu but input "
                                         r"\(3, 4\) is on cuda"):
        F.cross_entropy(x, gc.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="nll_loss: weight .* is on cpu"):
        F.nll_loss(x, gc.tensor([0, 1, 2], device="cuda"), weight=gc.ones(4))
    with pytest.raises(ValueError, match="mse_loss: target .* is on cpu"):
        F.mse_loss(x, gc.ones(3, 4))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: pos_weight"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=gc.ones(4))


def test_binary_cross_entropy_on_cuda_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(gc.tensor([0.5, 1.5], device="cuda"),
                               gc.tensor([0.5, 0.5], device="cuda"))


def test_loss_module_moves_its_weight_to_cuda():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-2, 2, (5, 3)).astype(np.float32), rng.integers(0, 3, 5)
    loss = gc.nn.CrossEntropyLoss(weight=gc.tensor([0.5, 1.0, 2.0]), label_smoothing=0.1)
    on_cpu = loss(gc.tensor(x), gc.tensor(y)).item()
    loss.to("cuda")
    assert loss.weight.device == "cuda"
    on_cuda = loss(gc.tensor(x, device="cuda"), gc.tensor(y, device="cuda"))
    assert on_cuda.device == "cuda" and on_cuda.item() == pytest.approx(on_cpu, rel=1e-6)


# ================================================================ nn.init on cuda

@pytest.mark.parametrize("fn", [lambda t: init.uniform_(t, -1, 2), lambda t: init.normal_(t, 1, 3),
                                init.xavier_uniform_, init.kaiming_normal_],
                         ids=["uniform", "normal", "xavier_uniform", "kaiming_normal"])
def test_init_on_cuda_gives_the_cpu_numbers(fn):
    gc.manual_seed(11)
    on_cpu = fn(gc.empty(6, 7)).numpy()
    gc.manual_seed(11)
    weight = gc.empty(6, 7, device="cuda")
    assert fn(weight) is weight and weight.device == "cuda"
    np.testing.assert_allclose(weight.numpy(), on_cpu, rtol=1e-6, atol=1e-6)


def test_init_from_a_generator_on_cuda_gives_the_cpu_numbers():
    on_cpu = init.xavier_normal_(gc.empty(5, 6), generator=gc.Generator().manual_seed(2))
    on_cuda = init.xavier_normal_(gc.empty(5, 6, device="cuda"),
                                  generator=gc.Generator("cuda").manual_seed(2))
    assert on_cuda.device == "cuda"
    np.testing.assert_allclose(on_cuda.numpy(), on_cpu.numpy(), rtol=1e-6, atol=1e-6)


def test_structured_inits_on_cuda():
    gc.manual_seed(12)
    q = init.orthogonal_(gc.empty(5, 3, device="cuda"), gain=2.0)
    assert q.device == "cuda"
    values = q.numpy().astype(np.float64)
    np.testing.assert_allclose(values.T @ values, 4 * np.eye(3), atol=1e-5)
    np.testing.assert_array_equal(init.dirac_(gc.empty(4, 2, 3, 3, device="cuda"), 2).numpy(),
                                  torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), 2).numpy())
    np.testing.assert_array_equal(init.eye_(gc.empty(3, 4, device="cuda")).numpy(), np.eye(3, 4))
    bounded = init.trunc_normal_(gc.empty(8, 8, device="cuda"), 0.0, 1.0, -0.5, 0.5).numpy()
    assert bounded.min() >= -0.5 and bounded.max() <= 0.5 and bounded.std() > 0.2


# ================================================================ gradient clipping on cuda

def test_clip_grad_on_cuda_matches_cpu():
    rng = np.random.default_rng(6)
    grads = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (5,)]]
    results = {}
    for device in ("cpu", "cuda"):
        params = [gc.zeros(*g.shape, device=device, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = gc.tensor(g, device=device)
        total = utils.clip_grad_norm_(params, 0.5, norm_type=3.0)
        assert total.device == device
        utils.clip_grad_value_(params, 0.1)
        results[device] = (total.item(), [p.grad.numpy() for p in params])
    assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-6)
    for a, b in zip(results["cuda"][1], results["cpu"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
