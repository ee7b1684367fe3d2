"""The augmentation kernel in numba's simulator against its CPU twin (outputs poisoned with NaN,
every padding mode, partial blocks and, with MAX_GRID lowered, every grid-stride loop); the
transforms and the DataLoader on device="cuda" giving exactly what they give on "cpu" for the
same seed. Blocks are made small here (in the simulator only: one OS thread per CUDA thread)."""
import numpy as np
import pytest
from numba import cuda
from numba.cuda import config

import gpucnn as gc
import gpucnn.transforms as T
import gpucnn.utils.data as gud
from gpucnn.generator import Generator
from gpucnn.kernels import augment
from tests.cudasim.small_geometry import grid_stride, shrink_engine_blocks
from tests.helpers import poisoned, rand


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    if config.ENABLE_CUDASIM:
        monkeypatch.setattr(augment, "THREADS_X", 4)
        monkeypatch.setattr(augment, "THREADS_Y", 2)
    shrink_engine_blocks(monkeypatch)


# MAX_GRID = 1 leaves one block per grid dimension: every loop strides.
stride = grid_stride(augment, "MAX_GRID", 1)


# (id, x shape, size, padding (top, bottom, left, right)): crops 5-7 wide over blocks 4 wide
GEOMETRIES = [
    ("pad-crop", (3, 2, 5, 7), (5, 6), (2, 1, 2, 3)),
    ("crop-no-pad", (2, 3, 6, 5), (3, 5), (0, 0, 0, 0)),
    ("pad-to-more", (2, 1, 4, 3), (7, 5), (3, 3, 2, 2)),
]


@pytest.mark.parametrize("mode", sorted(augment.PADDING_MODES))
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_cuda_kernel_matches_cpu_twin(geometry, mode, stride):
    _, shape, size, padding = geometry
    rng = np.random.default_rng(5)
    x = rand(rng, *shape)
    padded_h, padded_w = shape[2] + padding[0] + padding[1], shape[3] + padding[2] + padding[3]
    n = shape[0]
    params = np.stack([rng.integers(0, padded_h - size[0] + 1, n),
                       rng.integers(0, padded_w - size[1] + 1, n),
                       np.arange(n) % 2], axis=1).astype(np.int32)
    params[0, :2] = [-3, padded_w]     # outside the padded image: both twins read it alike
    out = cuda.to_device(poisoned(shape[:2] + size))
    got = augment.pad_crop_flip_cuda(cuda.to_device(x), cuda.to_device(params), size, padding,
                                     mode, 0.75, out=out)
    assert got is out
    expected = augment.pad_crop_flip_cpu(x, params, size, padding, mode, 0.75)
    np.testing.assert_array_equal(out.copy_to_host(), expected)


def test_cuda_launcher_checks_first():
    x = cuda.to_device(rand(np.random.default_rng(6), 2, 2, 4, 4))
    params = cuda.to_device(np.zeros((2, 3), np.int32))
    out = cuda.to_device(poisoned((2, 2, 3, 3)))
    with pytest.raises(TypeError, match="pad_crop_flip_cuda: x must be a device array"):
        augment.pad_crop_flip_cuda(np.zeros((2, 2, 4, 4), np.float32), params, 3, out=out)
    with pytest.raises(TypeError, match="pad_crop_flip_cuda: params must be a device array"):
        augment.pad_crop_flip_cuda(x, np.zeros((2, 3), np.int32), 3, out=out)
    with pytest.raises(ValueError, match="pad_crop_flip_cuda: reflect padding"):
        augment.pad_crop_flip_cuda(x, params, 3, 4, "reflect", out=out)
    assert np.isnan(out.copy_to_host()).all(), "a refused call wrote into out"


# ================================================================ transforms on both devices

def _on_both_devices(transform, array, seed):
    results = []
    for device in ("cpu", "cuda"):
        gc.manual_seed(seed)
        out = transform(gc.tensor(array, device=device))
        assert out.device == device
        results.append(out.numpy())
    return results


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric"])
@pytest.mark.parametrize("shape", [(5, 3, 6, 7), (3, 6, 7)], ids=["batch", "image"])
def test_transforms_give_the_same_batch_on_cpu_and_cuda(shape, mode):
    array = rand(np.random.default_rng(7), *shape)
    crop = T.RandomCrop((6, 5), padding=(2, 1), pad_if_needed=True, padding_mode=mode, fill=0.5)
    flip = T.RandomHorizontalFlip()
    normalize = T.Normalize((0.2, 0.3, 0.4), (0.5, 1.5, 2.5))
    for transform in (T.Compose([crop, flip, normalize]), crop, flip, normalize):
        on_cpu, on_cuda = _on_both_devices(transform, array, seed=3)
        np.testing.assert_array_equal(on_cpu, on_cuda)


def test_transforms_with_a_generator_on_cuda():
    array = rand(np.random.default_rng(8), 4, 2, 5, 5)
    results = []
    for device in ("cpu", "cuda"):
        g = Generator(device).manual_seed(9)
        tf = T.Compose([T.RandomCrop(4, padding=1, generator=g),
                        T.RandomHorizontalFlip(generator=g)])
        results.append(tf(gc.tensor(array, device=device)).numpy())
    np.testing.assert_array_equal(*results)


# ================================================================ DataLoader on cuda

def test_dataloader_over_cuda_tensors_gives_cuda_batches():
    rng = np.random.default_rng(10)
    images, labels = rand(rng, 11, 2, 3, 3), rng.integers(0, 5, 11)
    batches = {}
    for device in ("cpu", "cuda"):
        ds = gud.TensorDataset(gc.tensor(images, device=device), gc.tensor(labels, device=device))
        gc.manual_seed(4)
        loader = gud.DataLoader(gud.Subset(ds, list(range(10, -1, -1))), batch_size=4,
                                shuffle=True)
        batches[device] = list(loader)
        for x, y in batches[device]:
            assert x.device == device and y.device == device
    assert len(batches["cpu"]) == len(batches["cuda"]) == 3
    for (xc, yc), (xg, yg) in zip(batches["cpu"], batches["cuda"]):
        np.testing.assert_array_equal(xc.numpy(), xg.numpy())
        np.testing.assert_array_equal(yc.numpy(), yg.numpy())


def test_default_collate_stacks_cuda_samples_on_cuda():
    samples = [(gc.tensor(rand(np.random.default_rng(i), 2, 3), device="cuda"), i)
               for i in range(3)]
    x, y = gud.default_collate(samples)
    assert x.device == "cuda" and x.shape == (3, 2, 3) and y.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(x.numpy(), np.stack([s[0].numpy() for s in samples]))


def test_randperm_with_a_generator_on_cuda():
    on_cpu = gc.randperm(25, generator=Generator().manual_seed(2))
    on_cuda = gc.randperm(25, generator=Generator("cuda").manual_seed(2), device="cuda")
    assert on_cuda.device == "cuda" and on_cuda.tolist() == on_cpu.tolist()
