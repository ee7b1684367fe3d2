"""What only a real GPU can show: CuPy's pool behind "cuda" tensors, zero-copy exchange with
torch and CuPy on the device, and views that survive load_state_dict."""
import numpy as np
import pytest

import gpucnn as gc

cupy = pytest.importorskip("cupy")
torch = pytest.importorskip("torch")


def test_numba_allocates_from_cupys_pool():
    assert gc.cuda.install_memory_pool()
    from numba import cuda
    manager = cuda.current_context().memory_manager
    assert type(manager).__name__ == "CuPyPoolMemoryManager"
    assert gc.cuda.memory_pool_in_use()


def test_the_pool_grows_when_gpucnn_allocates():
    pool = cupy.get_default_memory_pool()
    before = pool.used_bytes()
    t = gc.tensor(np.ones((1024, 1024), np.float32), device="cuda")
    assert pool.used_bytes() >= before + t.numel() * 4
    del t


def test_dlpack_round_trip_with_torch_shares_memory():
    t = gc.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), device="cuda")
    viewed = torch.from_dlpack(t)
    assert viewed.device.type == "cuda"
    assert viewed.data_ptr() == t.__cuda_array_interface__["data"][0]
    back = gc.from_dlpack(viewed)
    assert back.__cuda_array_interface__["data"][0] == viewed.data_ptr()
    viewed.mul_(2)
    np.testing.assert_array_equal(back.numpy(), np.arange(12).reshape(3, 4) * 2)


def test_dlpack_round_trip_with_cupy_shares_memory():
    t = gc.tensor(np.arange(6, dtype=np.float32), device="cuda")
    viewed = cupy.asarray(t)
    assert viewed.data.ptr == t.__cuda_array_interface__["data"][0]
    back = gc.from_dlpack(cupy.arange(5, dtype=cupy.float32))
    assert back.device == "cuda" and back.numpy().tolist() == [0, 1, 2, 3, 4]


def test_a_torch_cuda_tensor_that_requires_grad_is_refused_clearly():
    source = torch.ones(3, device="cuda", requires_grad=True)
    with pytest.raises((TypeError, ValueError, RuntimeError), match="grad|detach"):
        gc.from_dlpack(source)
    np.testing.assert_array_equal(gc.from_dlpack(source.detach()).numpy(), np.ones(3))


def test_a_non_contiguous_cuda_source_is_refused():
    source = cupy.arange(12, dtype=cupy.float32).reshape(3, 4)[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        gc.from_dlpack(source)


def test_a_view_taken_before_load_state_dict_sees_the_loaded_weights():
    model = gc.nn.Linear(4, 3).to("cuda")
    view = cupy.asarray(model.weight)
    weights = np.random.default_rng(0).uniform(-1, 1, (3, 4)).astype(np.float32)
    model.load_state_dict({"weight": weights, "bias": np.zeros(3, np.float32)})
    np.testing.assert_array_equal(cupy.asnumpy(view), weights)
