"""The engine end to end on device="cuda" under the CUDA simulator: every op against torch,
then a small LeNet forward / backward / SGD-momentum and Adam steps against the same model on
"cpu" (which the CPU tests tie to PyTorch)."""
import numpy as np
import pytest

import gpucnn as gc
import gpucnn.nn.functional as F
from tests.engine.op_cases import op_cases
from tests.helpers import assert_close, check_op


def test_cuda_is_available_in_the_simulator():
    assert gc.cuda.is_available()


@pytest.mark.parametrize("case", op_cases(small=True), ids=lambda c: c[0])
def test_op_on_cuda_matches_torch(case):
    _, gc_fn, torch_fn, make_inputs = case
    check_op(gc_fn, torch_fn, make_inputs(np.random.default_rng(4)), device="cuda")


def small_lenet():
    return gc.nn.Sequential(
        gc.nn.Conv2d(1, 4, 3, padding=1), gc.nn.ReLU(), gc.nn.MaxPool2d(2),
        gc.nn.Conv2d(4, 6, 3), gc.nn.ReLU(), gc.nn.MaxPool2d(2), gc.nn.Flatten(),
        gc.nn.Linear(6, 12), gc.nn.ReLU(), gc.nn.Linear(12, 10))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_lenet_training_steps_on_cuda_match_cpu(optimizer):
    gc.manual_seed(3)
    cpu_model = small_lenet()
    cuda_model = small_lenet()
    cuda_model.load_state_dict(cpu_model.state_dict())
    cuda_model.to("cuda")
    assert all(p.device == "cuda" for p in cuda_model.parameters())

    def make(params):
        if optimizer == "sgd":
            return gc.optim.SGD(params, lr=0.1, momentum=0.9)
        return gc.optim.Adam(params, lr=1e-2)

    opts = {"cpu": make(cpu_model.parameters()), "cuda": make(cuda_model.parameters())}
    rng = np.random.default_rng(5)
    for _ in range(2):
        x = rng.uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 10, 3)
        losses = {}
        for device, model in (("cpu", cpu_model), ("cuda", cuda_model)):
            opts[device].zero_grad()
            loss = F.cross_entropy(model(gc.tensor(x, device=device)), gc.tensor(y, device=device))
            loss.backward()
            opts[device].step()
            assert loss.device == device
            losses[device] = loss.item()
        assert losses["cuda"] == pytest.approx(losses["cpu"], rel=1e-5)
    cpu_state = cpu_model.state_dict()
    for key, value in cuda_model.state_dict().items():
        assert_close(value, cpu_state[key], 1e-4, key)


def test_tensors_on_different_devices_are_refused():
    a = gc.tensor(np.ones(3), device="cuda")
    b = gc.tensor(np.ones(3), device="cpu")
    with pytest.raises(ValueError, match=r"different devices.*\(3,\) on cuda.*\(3,\) on cpu"):
        a + b


def test_round_trips_between_devices():
    host = np.random.default_rng(0).uniform(-1, 1, (2, 3)).astype(np.float32)
    t = gc.tensor(host, device="cuda")
    np.testing.assert_array_equal(t.numpy(), host)
    np.testing.assert_array_equal(t.to("cpu").numpy(), host)
    assert t.to("cpu").device == "cpu"
    labels = gc.tensor([3, 1], device="cuda")
    assert labels.dtype == gc.int64 and labels.numpy().tolist() == [3, 1]
