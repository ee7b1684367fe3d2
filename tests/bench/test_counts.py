"""FLOP and byte formulas against hand-computed values; the float64 references against torch."""
import numpy as np
import pytest

from gpucnn.bench import flops, reference
from gpucnn.bench.cases.scaling import parameter_comparison


def test_conv_counts_lenet_conv2():
    # x 64x6x14x14, w 16x6x5x5, no padding -> y 64x16x10x10
    cs = flops.ConvShape(64, 6, 14, 14, 16, 5, 5, 1, 0)
    assert (cs.p, cs.q) == (10, 10)
    # 64*16*10*10 outputs, each 6*5*5 = 150 multiply-adds of 2 FLOPs
    assert flops.conv2d_flops(cs) == 64 * 16 * 100 * 150 * 2 == 30_720_000
    # forward reads x (75,264) + w (2,400) + bias (16), writes y (102,400): 180,080 floats
    assert flops.conv2d_bytes(cs, "conv2d_forward") == 4 * 180_080 == 720_320
    # backward data reads dy + w, writes dx; backward weight reads x + dy, writes dw
    assert flops.conv2d_bytes(cs, "conv2d_backward_data") == 4 * (102_400 + 2_400 + 75_264)
    assert flops.conv2d_bytes(cs, "conv2d_backward_weight") == 4 * (75_264 + 102_400 + 2_400)


def test_conv_counts_with_padding():
    cs = flops.ConvShape(64, 1, 28, 28, 6, 5, 5, 1, 2)   # LeNet conv1: pad 2 keeps 28x28
    assert cs.y_shape == (64, 6, 28, 28)
    assert flops.conv2d_flops(cs) == 2 * 64 * 6 * 28 * 28 * 25 == 15_052_800


def test_matmul_counts_lenet_fc1_forward():
    # y (64x120) = x (64x400) . W^T (400x120) + b: 64*120 dot products of length 400
    assert flops.matmul_flops(64, 120, 400) == 6_144_000
    # read x 25,600 + W 48,000 + b 120, write y 7,680 floats
    assert flops.matmul_bytes(64, 120, 400, bias=True) == 4 * 81_400 == 325_600
    assert flops.matmul_bytes(64, 120, 400) == 4 * 81_280


def test_pool_counts():
    # x 64x6x28x28 -> y 64x6x14x14: read x; write y and int32 indices
    assert flops.max_pool2d_bytes((64, 6, 28, 28), 2, 2, "max_pool2d_forward") == \
        4 * 301_056 + 8 * 75_264
    assert flops.max_pool2d_bytes((64, 6, 28, 28), 2, 2, "max_pool2d_backward") == \
        8 * 75_264 + 4 * 301_056


def test_rates_and_roofline_fraction():
    gflops, gbs = flops.rates(2e9, 1e9, 0.5)
    assert (gflops, gbs) == (4.0, 2.0)
    peaks = {"fp32_gflops": 100.0, "bandwidth_gbs": 10.0}
    # intensity 2 FLOP/byte: the roof there is min(100, 2 * 10) = 20 GFLOP/s
    assert flops.peak_fraction(4.0, 2.0, 2e9, 1e9, peaks) == pytest.approx(0.2)
    assert flops.bound(2e9, 1e9, peaks) == "memory"
    assert flops.bound(2e12, 1e9, peaks) == "compute"
    assert flops.peak_fraction(None, 5.0, 0, 1e9, peaks) == pytest.approx(0.5)  # pooling


def test_model_flops_lenet():
    from gpucnn.models import lenet5
    forward, train = flops.model_flops(lenet5(), (1, 28, 28))
    conv1, conv2 = 2 * 6 * 28 * 28 * 25, 2 * 16 * 10 * 10 * 150
    dense = 2 * (400 * 120 + 120 * 84 + 84 * 10)
    assert forward == conv1 + conv2 + dense == 833_040
    assert train == 3 * forward - conv1


def test_parameter_comparison():
    p = parameter_comparison()
    assert p["inputs"] == 720 * 960 * 3 == 2_073_600
    assert p["dense_params"] == 2_073_601_000
    assert p["conv_params"] == 448


@pytest.mark.parametrize("stride,pad", [(1, 0), (1, 2), (2, 1)])
def test_conv_references_match_torch_float64(stride, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    y = torch.nn.functional.conv2d(tx, tw, torch.tensor(b), stride, pad)
    dy = rng.standard_normal(tuple(y.shape))
    y.backward(torch.tensor(dy))
    np.testing.assert_allclose(reference.conv2d_forward(x, w, b, stride, pad),
                               y.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(reference.conv2d_backward_data(dy, w, x.shape, stride, pad),
                               tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(reference.conv2d_backward_weight(x, dy, w.shape, stride, pad),
                               tw.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_pool_references_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 10, 8))
    y, ind = reference.max_pool2d_forward(x, 2, 2)
    ty, tind = torch.nn.functional.max_pool2d(torch.tensor(x), 2, 2, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(ind, tind.numpy())
    dy = np.random.default_rng(2).standard_normal(y.shape)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2, 2).backward(torch.tensor(dy))
    np.testing.assert_allclose(reference.max_pool2d_backward(dy, ind, x.shape), tx.grad.numpy())


def test_rel_error_rejects_nan_and_shape_mismatch():
    assert reference.relative_l2_error(np.array([np.nan, 1.0]), np.array([1.0, 1.0])) == float("inf")
    assert reference.relative_l2_error(np.ones(3), np.ones(4)) == float("inf")
    assert reference.relative_l2_error(np.ones(3), np.ones(3)) == 0.0


def test_the_roofline_does_not_apply_to_cache_resident_inputs():
    peaks = {"fp32_gflops": 100.0, "bandwidth_gbs": 10.0, "cache_bytes": 32 << 20}
    note = flops.cache_resident(1 << 20, 8, peaks)          # 8 MiB of input sets in 32 MiB
    assert note and "fit in the 32 MiB cache" in note
    assert flops.cache_resident(8 << 20, 8, peaks) is None   # 64 MiB: from DRAM
    assert flops.cache_resident(1 << 20, 8, {"fp32_gflops": 1.0}) is None  # cache unknown
