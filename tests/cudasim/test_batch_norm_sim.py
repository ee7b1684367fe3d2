"""Batch normalization on "cuda", in numba's simulator (or on a GPU with GPUCNN_TEST_GPU=1):
every CUDA kernel against its CPU twin, then the engine checks of tests/engine/test_batch_norm.py
(F.batch_norm and the layers against PyTorch) on device "cuda", and Module.to moving the
buffers.

The twins agree closely, not exactly: the GPU adds in float32 trees, the CPU in float64. Outputs
are poisoned with NaN before each launch, so a value no thread writes fails. The geometry is
made small (4 threads a block in the simulator, chunks of a few values, two grid rows of
channels) so that tiny shapes reach every path: S = 1, S below and above a block (the (n, s)
stepping with and without a wrap), a channel loop (C above the grid's rows, in the chunk
kernels and in the finish kernel), one chunk per channel, and more chunks than threads (each
thread then folds several partials in order before the tree).
"""
import numpy as np
import pytest
import torch
from numba import cuda
from numba.cuda import config

import gpucnn as gc
from gpucnn.kernels import batch_norm as K
from tests.cudasim.small_geometry import shrink_engine_blocks
from tests.engine import test_batch_norm as engine
from tests.helpers import assert_close, poisoned, rand


@pytest.fixture(autouse=True)
def small(monkeypatch):
    monkeypatch.setattr(K, "GPU_BLOCKS", 16)
    monkeypatch.setattr(K, "MIN_ITEMS", 1)
    monkeypatch.setattr(K, "MAX_CHANNEL_BLOCKS", 2)
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(K, "THREADS", 4)
    shrink_engine_blocks(monkeypatch)


# (id, (N, C, S))
CASES = [
    ("s1", (37, 3, 1)),                  # (N, C): a thread steps 16 images at a time
    ("s3-channel-loop", (9, 5, 3)),      # steps of 5 images and 1 position; C > 2 grid rows
    ("s40-above-block", (2, 3, 40)),     # S > 16 threads: steps within a row, then wraps
    ("more-chunks-than-threads", (4, 3, 100)),
    ("one-chunk", (1, 2, 3)),
]
IDS = [c[0] for c in CASES]


def test_cases_reach_every_path():
    if not config.ENABLE_CUDASIM:
        pytest.skip("on a GPU the block size is compiled in (256 threads), not patched")
    threads = K.THREADS
    plans = {name: K._gpu_chunks(shape[0] * shape[2], shape[1]) for name, shape in CASES}
    assert plans["one-chunk"][0] == 1
    assert plans["more-chunks-than-threads"][0] > threads
    assert any(shape[1] > K.MAX_CHANNEL_BLOCKS for _, shape in CASES)
    assert {shape[2] > threads for _, shape in CASES} == {True, False}


def _device(*arrays):
    return [None if a is None else cuda.to_device(a) for a in arrays]


@pytest.mark.parametrize("shape", [c[1] for c in CASES], ids=IDS)
def test_stats_match_cpu_twin(shape):
    rng = np.random.default_rng(1)
    c = shape[1]
    x = rand(rng, *shape) + np.float32(3.0)
    running = [rand(rng, c), rng.uniform(0.5, 1.5, c).astype(np.float32)]
    cpu_running = [a.copy() for a in running]
    mean, var = K.batch_norm_stats_cpu(x, *cpu_running, momentum=0.2)
    out_mean, out_var = _device(poisoned((c,)), poisoned((c,)))
    d_running = _device(*running)
    got = K.batch_norm_stats_cuda(cuda.to_device(x), *d_running, momentum=0.2,
                                  out_mean=out_mean, out_var=out_var)
    assert got[0] is out_mean and got[1] is out_var
    assert_close(out_mean.copy_to_host(), mean, 1e-6, "mean")
    assert_close(out_var.copy_to_host(), var, 1e-5, "var")
    assert_close(d_running[0].copy_to_host(), cpu_running[0], 1e-6, "running_mean")
    assert_close(d_running[1].copy_to_host(), cpu_running[1], 1e-5, "running_var")
    # Without running statistics: the same statistics, nothing else written.
    m2, v2 = K.batch_norm_stats_cuda(cuda.to_device(x))
    np.testing.assert_array_equal(m2.copy_to_host(), out_mean.copy_to_host())
    np.testing.assert_array_equal(v2.copy_to_host(), out_var.copy_to_host())


@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape", [c[1] for c in CASES], ids=IDS)
def test_forward_matches_cpu_twin(shape, affine):
    rng = np.random.default_rng(2)
    c = shape[1]
    x, mean = rand(rng, *shape), rand(rng, c)
    var = rng.uniform(0.1, 2.0, c).astype(np.float32)
    weight = rand(rng, c) if affine != "none" else None
    bias = rand(rng, c) if affine == "both" else None
    expected = K.batch_norm_forward_cpu(x, mean, var, weight, bias, 1e-3)
    out = cuda.to_device(poisoned(shape))
    y = K.batch_norm_forward_cuda(*_device(x, mean, var, weight, bias), 1e-3, out=out)
    assert y is out
    assert_close(y.copy_to_host(), expected, 1e-6)


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize("has_weight", [True, False], ids=["weight", "no-weight"])
@pytest.mark.parametrize("shape", [c[1] for c in CASES], ids=IDS)
def test_backward_matches_cpu_twin(shape, has_weight, training):
    rng = np.random.default_rng(3)
    c = shape[1]
    x, dy = rand(rng, *shape), rand(rng, *shape)
    mean, var = K.batch_norm_stats_cpu(x) if training else \
        (rand(rng, c), rng.uniform(0.1, 2.0, c).astype(np.float32))
    weight = rand(rng, c) if has_weight else None
    expected = K.batch_norm_backward_cpu(dy, x, mean, var, weight, 1e-5, training)
    outs = _device(poisoned(shape), poisoned((c,)), poisoned((c,)))
    got = K.batch_norm_backward_cuda(*_device(dy, x, mean, var, weight), 1e-5, training,
                                     out_dx=outs[0], out_dweight=outs[1], out_dbias=outs[2])
    assert all(g is o for g, o in zip(got, outs))
    for name, g, e in zip(("dx", "dweight", "dbias"), got, expected):
        assert_close(g.copy_to_host(), e, 1e-5, name)


def test_launchers_refuse_host_arrays():
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(TypeError, match="batch_norm_stats_cuda: x must be a device array"):
        K.batch_norm_stats_cuda(x)
    c = cuda.to_device(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="weight must be a device array"):
        K.batch_norm_forward_cuda(cuda.to_device(x), c, c, np.ones(3, np.float32), None, 1e-5)


# ---------------------------------------------------------------- the engine on "cuda"

@pytest.mark.parametrize("training,running,affine", [
    (True, True, "both"), (True, False, "none"), (True, True, "bias"), (False, True, "weight"),
    (False, True, "both")])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4, 5)], ids=["nc", "nchw"])
def test_functional_on_cuda_matches_torch(shape, training, running, affine):
    engine.run_functional("cuda", shape, training, running, affine, eps=1e-3)


@pytest.mark.parametrize("case", [
    ("2d-default", "BatchNorm2d", (3, 2, 3, 4), {}),
    ("2d-momentum-none", "BatchNorm2d", (2, 3, 3, 3), {"momentum": None}),
    ("2d-affine-false", "BatchNorm2d", (3, 2, 2, 3), {"affine": False}),
    ("2d-untracked", "BatchNorm2d", (3, 2, 2, 3), {"track_running_stats": False}),
    ("1d-2d-input", "BatchNorm1d", (6, 3), {}),
    ("1d-3d-input", "BatchNorm1d", (3, 2, 5), {"momentum": None}),
], ids=lambda c: c[0])
def test_module_steps_on_cuda_match_torch(case):
    _, cls_name, shape, kwargs = case
    engine.run_module_steps("cuda", cls_name, shape, steps=2, **kwargs)


def test_to_moves_buffers_and_training_continues_on_cuda():
    rng = np.random.default_rng(4)
    layer = gc.nn.BatchNorm2d(2)
    layer(gc.tensor(rng.uniform(-1, 1, (3, 2, 3, 3)).astype(np.float32)))
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    assert layer.to("cuda") is layer
    for name, buf in layer.named_buffers():
        assert buf.device == "cuda", name
        np.testing.assert_array_equal(buf.numpy(), before[name])
    assert layer.num_batches_tracked.dtype == gc.int64 and layer.num_batches_tracked.shape == ()
    assert all(p.device == "cuda" for p in layer.parameters())
    y = layer(gc.tensor(rng.uniform(-1, 1, (3, 2, 3, 3)).astype(np.float32), device="cuda"))
    assert y.device == "cuda"
    assert layer.num_batches_tracked.item() == 2 and layer.num_batches_tracked.device == "cuda"
    assert not np.array_equal(layer.running_mean.numpy(), before["running_mean"])
    layer.to("cpu")
    assert all(b.device == "cpu" for b in layer.buffers())
    assert layer.num_batches_tracked.item() == 2


def test_layer_made_on_cuda_loads_a_state_dict():
    layer = gc.nn.BatchNorm1d(3, device="cuda")
    assert all(t.device == "cuda" for t in [*layer.parameters(), *layer.buffers()])
    source = gc.nn.BatchNorm1d(3)
    source(gc.tensor(np.random.default_rng(5).uniform(0, 2, (4, 3)).astype(np.float32)))
    layer.load_state_dict(source.state_dict())
    expected = {k: torch.tensor(v.numpy()) for k, v in source.state_dict().items()}
    engine.compare_state_dicts(layer.state_dict(), expected, "cuda")


def test_gpu_results_are_the_same_bits_run_to_run():
    rng = np.random.default_rng(6)
    x, dy = rand(rng, 4, 3, 100), rand(rng, 4, 3, 100)
    weight = cuda.to_device(rand(rng, 3))
    runs = []
    for _ in range(2):
        mean, var = K.batch_norm_stats_cuda(cuda.to_device(x))
        grads = K.batch_norm_backward_cuda(cuda.to_device(dy), cuda.to_device(x), mean, var,
                                           weight, 1e-5, True)
        runs.append([a.copy_to_host() for a in (mean, var, *grads)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_statistics_on_another_device_are_refused():
    x = gc.zeros(2, 3, 4, device="cuda")
    with pytest.raises(ValueError, match=r"batch_norm: running_mean is on cpu, input \(2, 3, 4\) "
                                         r"on cuda"):
        gc.nn.functional.batch_norm(x, gc.zeros(3), gc.ones(3), training=True)
    layer = gc.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"running_mean is on cpu, input \(2, 3\) on cuda"):
        layer(gc.ones(2, 3, device="cuda"))
