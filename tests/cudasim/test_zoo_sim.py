"""Two of the CIFAR zoo's architectures (tests/engine/zoo_models.py), made tiny, trained for
one step on device="cuda": train-mode logits, every gradient, one SGD step, the BatchNorm
buffers and eval-mode logits, judged against PyTorch in float64 exactly as
tests/engine/test_zoo_parity.py judges them on "cpu": MobileNetV2 (a depthwise
convolution, an empty Sequential as the identity shortcut) and DLA (a tree whose root joins
feature maps with cat, children fetched through self.__getattr__, BasicBlocks).

Each BatchNorm layer costs the simulator seconds per step (its kernels run a block of 256
threads per channel, each an OS thread here), so the models are as narrow and shallow as
their structure allows; the CPU test runs every architecture at full structure.
"""
import copy

import numpy as np
import pytest
import torch

import gpucnn as gc

from tests.engine import zoo_models
from tests.engine.test_zoo_parity import GPUCNN, TORCH, batch, compare, models, training_step

TINY = {   # name -> (builder, input side)
    "mobilenetv2": (lambda nn, F, lib: zoo_models.mobilenetv2(
        nn, F, lib, cfg=((1, 2, 1, 1),), stem=2, head=2), 4),
    "dla": (lambda nn, F, lib: zoo_models.dla(nn, F, lib, widths=(2, 2, 2), levels=(1,),
                                              pool=4), 4),
}


@pytest.mark.parametrize("name", TINY)
def test_training_step_on_cuda_matches_torch(name):
    build, side = TINY[name]
    torch32, torch64, ours = models(build, seed=5, device="cuda")
    assert all(p.device == "cuda" for p in ours.parameters())
    rng = np.random.default_rng(6)
    x, y = batch(rng, side, n=2)
    x_eval, _ = batch(rng, side, n=2)
    results = {
        "torch32": training_step(torch32, TORCH, x, y, x_eval, torch.float32),
        "torch64": training_step(torch64, TORCH, x, y, x_eval, torch.float64),
        "gpucnn": training_step(ours, GPUCNN, x, y, x_eval, device="cuda"),
    }
    failures = compare(results["gpucnn"], results["torch32"], results["torch64"])
    assert not failures, f"{name}: {len(failures)} tensors differ:\n" + "\n".join(failures)


def test_deepcopy_of_a_model_on_cuda_copies_device_memory():
    """copy.deepcopy of a "cuda" model: parameters and buffers in new device memory (a numba
    device array cannot be deep-copied itself), the same values, independent of the original."""
    model = gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.BatchNorm1d(2)).to("cuda")
    model.register_buffer("mask", gc.tensor([1.0, 0.0], device="cuda"), persistent=False)
    twin = copy.deepcopy(model)
    for (name, ours), (_, theirs) in zip(twin.state_dict(keep_vars=True).items(),
                                         model.state_dict(keep_vars=True).items()):
        assert ours.device == "cuda" and ours is not theirs, name
        assert type(ours) is type(theirs) and ours.requires_grad == theirs.requires_grad, name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    assert twin.mask.device == "cuda" and twin.mask.tolist() == [1.0, 0.0]
    with gc.no_grad():
        twin[0].weight.add_(1.0)
    np.testing.assert_allclose((twin[0].weight - model[0].weight).numpy(), 1.0, rtol=1e-6)
    x = gc.tensor(np.ones((4, 3), np.float32), device="cuda")
    assert twin(x).device == "cuda"
