"""gpucnn.transforms on "cpu": RandomCrop against np.pad + slicing at the offsets the generator
draws (one image as torchvision draws them; a batch with one offset per image), the flip against
its draws, Compose's fused crop + flip against the two run apart, Normalize against torch in
float64, ToTensor against torch's conversion, and the argument checks."""
import numpy as np
import pytest
import torch

import gpucnn as gc
import gpucnn.transforms as T
from gpucnn.generator import Generator
from tests.helpers import assert_close

MODES = ["constant", "edge", "reflect", "symmetric"]


def images(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def padded(image, padding, mode, fill=0.0):
    """np.pad of a (C, H, W) image by torchvision's padding (int, (lr, tb) or (l, t, r, b))."""
    if isinstance(padding, int):
        padding = (padding,) * 4
    if len(padding) == 2:
        padding = (padding[0], padding[1], padding[0], padding[1])
    left, top, right, bottom = padding
    kwargs = {"constant_values": fill} if mode == "constant" else {}
    return np.pad(image.astype(np.float64), ((0, 0), (top, bottom), (left, right)), mode=mode,
                  **kwargs)


def torchvision_pad_if_needed(image, size, padding, mode, fill):
    """torchvision's RandomCrop.forward before get_params: pad, then pad again by the
    shortfall on both sides of each axis still too small (width first, then height)."""
    image = padded(image, padding, mode, fill) if padding is not None else image.astype(np.float64)
    th, tw = size
    if image.shape[2] < tw:
        image = padded(image, (tw - image.shape[2], 0), mode, fill)
    if image.shape[1] < th:
        image = padded(image, (0, th - image.shape[1]), mode, fill)
    return image


# ================================================================ RandomCrop

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", [None, 2, (1, 3), (3, 0, 1, 2)], ids=str)
def test_random_crop_one_image_matches_numpy_at_the_drawn_offsets(mode, padding):
    image = images(3, 7, 9)
    size = (6, 5)
    crop = T.RandomCrop(size, padding=padding, padding_mode=mode, fill=0.25)
    for seed in range(4):
        gc.manual_seed(seed)
        out = crop(gc.tensor(image))
        reference = padded(image, padding or 0, mode, 0.25)
        gc.manual_seed(seed)
        i, j, th, tw = T.RandomCrop.get_params(gc.tensor(reference), size)
        assert out.shape == (3, 6, 5)
        np.testing.assert_array_equal(out.numpy(), reference[:, i:i + th, j:j + tw])


@pytest.mark.parametrize("mode", MODES)
def test_random_crop_batch_draws_one_offset_per_image(mode):
    batch = images(9, 2, 6, 7, seed=1)
    crop = T.RandomCrop((5, 4), padding=(2, 1), padding_mode=mode, fill=-3.0)
    gc.manual_seed(21)
    out = crop(gc.tensor(batch))
    gc.manual_seed(21)   # all N rows first, then all N columns, from the same stream
    tops = gc.randint(0, 8 - 5 + 1, (9,)).numpy()
    lefts = gc.randint(0, 11 - 4 + 1, (9,)).numpy()
    assert len(set(zip(tops.tolist(), lefts.tolist()))) > 1, "every image got one offset"
    for n in range(9):
        reference = padded(batch[n], (2, 1), mode, -3.0)
        np.testing.assert_array_equal(out.numpy()[n],
                                      reference[:, tops[n]:tops[n] + 5, lefts[n]:lefts[n] + 4])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding", [None, 1, (0, 2)], ids=str)
def test_pad_if_needed_as_torchvision(mode, padding):
    """Including reflect/symmetric padding padded again (two paddings, not one)."""
    image = images(2, 4, 3, seed=2)
    size = (7, 6)
    if mode == "reflect":   # reflect adds at most H - 1 rows (W - 1 columns) per side
        size = {None: (6, 5), 1: (7, 6), (0, 2): (7, 5)}[padding]
    crop = T.RandomCrop(size, padding=padding, pad_if_needed=True, padding_mode=mode, fill=0.5)
    gc.manual_seed(3)
    out = crop(gc.tensor(image))
    reference = torchvision_pad_if_needed(image, size, padding, mode, 0.5)
    gc.manual_seed(3)
    i, j, th, tw = T.RandomCrop.get_params(gc.tensor(reference), size)
    np.testing.assert_array_equal(out.numpy(), reference[:, i:i + th, j:j + tw])


def test_whole_image_crop_returns_the_input_and_draws_nothing():
    x = gc.tensor(images(2, 3, 5, 4))
    gc.manual_seed(0)
    before = gc.get_rng_state()
    assert T.RandomCrop((5, 4))(x) is x
    assert gc.get_rng_state() == before
    out = T.RandomCrop((7, 6), padding=1)(x)           # padded to exactly the crop: no draw
    assert gc.get_rng_state() == before
    np.testing.assert_array_equal(out.numpy()[0], padded(x.numpy()[0], 1, "constant"))


def test_plane_image_and_batch_forms():
    gc.manual_seed(1)
    plane = gc.tensor(images(6, 5))
    assert T.RandomCrop(3)(plane).shape == (3, 3)
    assert T.RandomHorizontalFlip(1.0)(plane).numpy().tolist() == plane.numpy()[:, ::-1].tolist()


# ================================================================ RandomHorizontalFlip

def test_flip_batch_follows_its_draws():
    batch = images(12, 3, 4, 5, seed=4)
    gc.manual_seed(8)
    out = T.RandomHorizontalFlip(p=0.4)(gc.tensor(batch))
    gc.manual_seed(8)
    flips = (gc.rand(12) < 0.4).numpy()
    assert 0 < flips.sum() < 12
    expected = np.where(flips[:, None, None, None], batch[..., ::-1], batch)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_flip_one_image_as_torchvision_draws():
    image = gc.tensor(images(3, 4, 5, seed=5))
    flipped = 0
    for seed in range(12):
        gc.manual_seed(seed)
        out = T.RandomHorizontalFlip()(image)
        gc.manual_seed(seed)
        if gc.rand(1).item() < 0.5:
            flipped += 1
            np.testing.assert_array_equal(out.numpy(), image.numpy()[..., ::-1])
        else:
            assert out is image
    assert 0 < flipped < 12
    assert T.RandomHorizontalFlip(0.0)(image) is image


# ================================================================ Compose

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(10, 3, 6, 7), (3, 6, 7)], ids=["batch", "image"])
def test_compose_fused_crop_flip_equals_the_two_apart(mode, shape):
    x = gc.tensor(images(*shape, seed=6))
    crop = T.RandomCrop((5, 6), padding=(1, 2), pad_if_needed=True, padding_mode=mode)
    flip = T.RandomHorizontalFlip(0.5)
    normalize = T.Normalize([0.1, -0.2, 0.3], [0.5, 0.25, 2.0])
    composed = T.Compose([crop, flip, normalize])
    for seed in range(3):
        gc.manual_seed(seed)
        fused = composed(x)
        after = gc.get_rng_state()
        gc.manual_seed(seed)
        apart = normalize(flip(crop(x)))
        assert gc.get_rng_state() == after
        assert fused.shape == apart.shape
        np.testing.assert_array_equal(fused.numpy(), apart.numpy())


def test_compose_runs_in_order_and_prints_like_torchvision():
    composed = T.Compose([T.RandomCrop(4, padding=1), T.RandomHorizontalFlip(p=0.3),
                          T.Normalize((0.5,), (0.5,)), T.ToTensor()])
    assert repr(composed) == ("Compose(\n    RandomCrop(size=(4, 4), padding=1)\n"
                              "    RandomHorizontalFlip(p=0.3)\n"
                              "    Normalize(mean=(0.5,), std=(0.5,))\n    ToTensor()\n)")
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))])
    array = (np.arange(12, dtype=np.uint8) * 20).reshape(3, 4)
    np.testing.assert_allclose(tf(array).numpy()[0], (array / 255 - 0.5) / 0.25, rtol=1e-6)


def test_transforms_with_a_generator_reproduce_and_leave_the_global_stream():
    x = gc.tensor(images(6, 2, 5, 5, seed=7))

    def run(seed):
        g = Generator().manual_seed(seed)
        tf = T.Compose([T.RandomCrop(4, padding=2, generator=g),
                        T.RandomHorizontalFlip(generator=g)])
        return tf(x).numpy()

    gc.manual_seed(0)
    before = gc.get_rng_state()
    first = run(11)
    assert gc.get_rng_state() == before
    np.testing.assert_array_equal(run(11), first)
    assert not np.array_equal(run(12), first)


def test_results_carry_no_gradient_history():
    x = gc.tensor(images(2, 3, 5, 5), requires_grad=True)
    for tf in (T.RandomCrop(3, padding=1), T.RandomHorizontalFlip(1.0),
               T.Normalize((0.5, 0.5, 0.5), (0.2, 0.2, 0.2))):
        out = tf(x)
        assert out.grad_fn is None and not out.requires_grad


# ================================================================ Normalize

@pytest.mark.parametrize("shape", [(3, 5, 4), (4, 3, 5, 4)], ids=["image", "batch"])
def test_normalize_matches_torch_float64(shape):
    x = images(*shape, seed=8)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    expected = (torch.tensor(x, dtype=torch.float64) - torch.tensor(mean).view(-1, 1, 1)) / \
        torch.tensor(std).view(-1, 1, 1)
    out = T.Normalize(mean, std)(gc.tensor(x))
    assert_close(out.numpy(), expected.numpy(), 1e-6, "normalize")
    one = T.Normalize(0.5, [2.0])(gc.tensor(x))
    assert_close(one.numpy(), (x.astype(np.float64) - 0.5) / 2.0, 1e-6, "scalar normalize")


def test_normalize_inplace_writes_into_the_input():
    x = gc.tensor(images(2, 3, 4, 4, seed=9))
    expected = T.Normalize((0.1, 0.2, 0.3), (1.5, 2.5, 3.5))(x).numpy()
    result = T.Normalize((0.1, 0.2, 0.3), (1.5, 2.5, 3.5), inplace=True)(x)
    assert result is x
    np.testing.assert_array_equal(x.numpy(), expected)


def test_normalize_rejects_bad_input():
    x = gc.tensor(images(3, 4, 4))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.1, 0.2, 0.3), (1.0, 0.0, 1.0))(x)
    with pytest.raises(TypeError, match="should be a float tensor, got int64"):
        T.Normalize((0.1,), (1.0,))(gc.zeros(3, 4, 4, dtype=gc.int64))
    with pytest.raises(ValueError, match=r"size \(\.\.\., C, H, W\), got shape \(4, 4\)"):
        T.Normalize((0.1,), (1.0,))(gc.zeros(4, 4))
    with pytest.raises(ValueError, match=r"mean has 2 values for an image of 3 channels"):
        T.Normalize((0.1, 0.2), (1.0,))(x)
    with pytest.raises(TypeError, match="img should be a gpucnn Tensor"):
        T.Normalize((0.1,), (1.0,))(np.zeros((3, 4, 4)))


# ================================================================ ToTensor

def test_to_tensor_matches_torch_conversion():
    image = np.random.default_rng(10).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    out = T.ToTensor()(image)
    expected = torch.from_numpy(image).permute(2, 0, 1).contiguous().float().div(255)
    assert out.shape == (3, 7, 5) and out.dtype == gc.float32 and out.device == "cpu"
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    batch = np.stack([image, image[::-1]])
    np.testing.assert_array_equal(T.ToTensor()(batch).numpy(),
                                  np.stack([out.numpy(), T.ToTensor()(image[::-1]).numpy()]))
    gray = image[:, :, 0]
    np.testing.assert_array_equal(T.ToTensor()(gray).numpy(), out.numpy()[:1])


def test_to_tensor_keeps_non_byte_values():
    floats = images(4, 5, 2)
    np.testing.assert_array_equal(T.ToTensor()(floats.astype(np.float64)).numpy(),
                                  floats.transpose(2, 0, 1))
    ints = np.arange(6, dtype=np.int16).reshape(2, 3, 1) * 1000
    out = T.ToTensor()(ints)
    assert out.dtype == gc.int64 and out.numpy().tolist() == ints.transpose(2, 0, 1).tolist()


def test_to_tensor_reads_pil_images():
    from PIL import Image
    array = np.random.default_rng(11).integers(0, 256, (6, 4, 3)).astype(np.uint8)
    for mode, data in (("RGB", array), ("L", array[:, :, 0])):
        out = T.ToTensor()(Image.fromarray(data, mode))
        np.testing.assert_array_equal(out.numpy(), T.ToTensor()(data).numpy())
    bits = Image.fromarray(array[:, :, 0] > 128)
    np.testing.assert_array_equal(T.ToTensor()(bits).numpy()[0],
                                  (array[:, :, 0] > 128).astype(np.float32))


def test_to_tensor_rejects_bad_input():
    with pytest.raises(TypeError, match="pic should be a PIL Image or a NumPy array"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional.*got 1 dimensions"):
        T.ToTensor()(np.zeros(3, np.uint8))


# ================================================================ argument checks

def test_random_crop_and_flip_reject_bad_arguments():
    x = gc.tensor(images(3, 4, 4))
    with pytest.raises(ValueError, match="Required crop size \\(5, 5\\) is larger than input "
                                         "image size \\(4, 4\\)"):
        T.RandomCrop(5)(x)
    with pytest.raises(ValueError, match="reflect padding.*smaller than the image"):
        T.RandomCrop(4, padding=4, padding_mode="reflect")(x)
    with pytest.raises(ValueError, match="only two dimensions"):
        T.RandomCrop((1, 2, 3))
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3 element tuple"):
        T.RandomCrop(3, padding=(1, 2, 3))
    with pytest.raises(TypeError, match="inappropriate padding arg"):
        T.RandomCrop(3, padding=1.5)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        T.RandomCrop(3, padding=-1)
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        T.RandomCrop(3, padding_mode="wrap")
    with pytest.raises(TypeError, match="fill must be a number"):
        T.RandomCrop(3, fill=(1, 2, 3))
    with pytest.raises(ValueError, match="p should be a probability"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(TypeError, match="RandomCrop: generator must be a gpucnn.Generator"):
        T.RandomCrop(3, generator=torch.Generator())
    with pytest.raises(TypeError, match="float32 images, got int64"):
        T.RandomCrop(2)(gc.zeros(3, 4, 4, dtype=gc.int64))
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 3, 4, 4\)"):
        T.RandomHorizontalFlip()(gc.zeros(1, 1, 3, 4, 4))
    with pytest.raises(TypeError, match="expected a gpucnn Tensor.*ToTensor"):
        T.RandomCrop(2)(np.zeros((3, 4, 4), np.float32))
