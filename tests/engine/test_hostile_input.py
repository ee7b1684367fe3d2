"""Hostile and careless input to the API: every entry point refuses cleanly, and nothing the
user gave is lost or changed. One test class per class of problem, several cases each."""
import json
import os
import struct
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

import gpucnn as gc
import gpucnn.nn.functional as F
from gpucnn.serialization import partial_path


# ---------------------------------------------------------------- the caller's arrays

class TestTensorCopiesItsInput:
    def test_changing_the_source_does_not_change_the_tensor(self):
        source = np.arange(6, dtype=np.float32)
        t = gc.tensor(source)
        source[:] = -1
        assert t.numpy().tolist() == [0, 1, 2, 3, 4, 5]

    def test_an_optimizer_step_does_not_write_into_the_callers_array(self):
        source = np.ones((3, 2), np.float32)
        param = gc.nn.Parameter(source)
        (param * 2.0).sum().backward()
        gc.optim.SGD([param], lr=0.5).step()
        assert np.all(source == 1.0)
        assert np.all(param.numpy() == 0.0)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
    def test_read_only_arrays_work(self, dtype):
        source = np.arange(4).astype(dtype)
        source.setflags(write=False)
        if np.dtype(dtype).kind == "f":
            param = gc.nn.Parameter(source)
            (param * 3.0).sum().backward()
            gc.optim.Adam([param], lr=0.1).step()
            assert not np.array_equal(param.numpy(), source)
        else:
            assert gc.tensor(source).numpy().tolist() == [0, 1, 2, 3]

    def test_from_numpy_shares_and_a_read_only_one_is_refused_at_step(self):
        shared = np.zeros(3, np.float32)
        t = gc.from_numpy(shared)
        shared[1] = 5
        assert t.numpy().tolist() == [0, 5, 0]
        frozen = np.ones(3, np.float32)
        frozen.setflags(write=False)
        param = gc.nn.Parameter(gc.from_numpy(frozen))
        (param * 1.0).sum().backward()
        with pytest.raises(ValueError, match="read-only NumPy array"):
            gc.optim.SGD([param], lr=0.1).step()
        assert np.all(frozen == 1.0)

    def test_from_numpy_refuses_what_it_cannot_share(self):
        with pytest.raises(TypeError, match="float32, int64, int32 or bool"):
            gc.from_numpy(np.ones(3))
        with pytest.raises(ValueError, match="non-negative strides"):
            gc.from_numpy(np.ones((4, 4), np.float32)[::-1])

    def test_from_numpy_shares_a_strided_view(self):
        base = np.arange(16, dtype=np.float32).reshape(4, 4)
        shared = gc.from_numpy(base[:, ::2])
        assert shared.shape == (4, 2) and shared.stride() == (4, 2)
        base[1, 2] = -1.0
        assert shared[1, 1].item() == -1.0


class TestIntegerRange:
    def test_uint64_labels_beyond_int64_are_refused(self):
        big = np.array([1, 2**63 + 5], dtype=np.uint64)
        with pytest.raises(ValueError, match="do not fit in int64"):
            gc.tensor(big)

    @pytest.mark.parametrize("values", [[0, 9], [2**63 - 1]])
    def test_uint64_in_range_is_kept_exactly(self, values):
        assert gc.tensor(np.array(values, np.uint64)).numpy().tolist() == values


# ---------------------------------------------------------------- layers and geometry

class TestLayerArguments:
    @pytest.mark.parametrize("kwargs, error, match", [
        (dict(groups=0), ValueError, "groups must be a positive int"),
        (dict(kernel_size=0), ValueError, "kernel_size must be >= 1"),
        (dict(kernel_size=(3, 0)), ValueError, "kernel_size must be >= 1"),
        (dict(stride=0), ValueError, "stride must be >= 1"),
        (dict(in_channels=3.5), TypeError, "in_channels must be a positive int"),
        (dict(out_channels=True), TypeError, "out_channels must be a positive int"),
        (dict(padding=-1), ValueError, "padding must be >= 0"),
        (dict(padding="full"), ValueError, "'same' or 'valid'"),
        (dict(padding="same", stride=2), ValueError, "not supported for strided"),
        (dict(groups=2), ValueError, "must divide in_channels=3"),
    ])
    def test_conv2d(self, kwargs, error, match):
        args = {**dict(in_channels=3, out_channels=6, kernel_size=3), **kwargs}
        with pytest.raises(error, match=match):
            gc.nn.Conv2d(**args)

    @pytest.mark.parametrize("args, error", [((3.5, 2), TypeError), ((0, 2), ValueError),
                                             ((4, -1), ValueError), (("4", 2), TypeError)])
    def test_linear(self, args, error):
        with pytest.raises(error, match="Linear"):
            gc.nn.Linear(*args)

    @pytest.mark.parametrize("kwargs", [dict(kernel_size=0), dict(kernel_size=2.5),
                                        dict(kernel_size=2, stride=0),
                                        dict(kernel_size=2, padding=-1)])
    def test_max_pool2d(self, kwargs):
        with pytest.raises((TypeError, ValueError), match="MaxPool2d"):
            gc.nn.MaxPool2d(**kwargs)


class TestFloatGeometryIsRefusedNotTruncated:
    x = gc.tensor(np.random.default_rng(0).uniform(-1, 1, (1, 2, 8, 8)))
    w = gc.tensor(np.random.default_rng(1).uniform(-1, 1, (3, 2, 3, 3)))

    @pytest.mark.parametrize("kwargs", [dict(stride=(1.7, 1.7)), dict(stride=1.0),
                                        dict(padding=(1.2, 1)), dict(dilation=(1, 2.0))])
    def test_conv2d_functional(self, kwargs):
        with pytest.raises(TypeError, match="conv2d"):
            F.conv2d(self.x, self.w, **kwargs)

    @pytest.mark.parametrize("kwargs", [dict(kernel_size=2.5), dict(kernel_size=2, stride=(2, 1.5)),
                                        dict(kernel_size=(2.0, 2))])
    def test_max_pool2d_functional(self, kwargs):
        with pytest.raises(TypeError, match="max_pool2d"):
            F.max_pool2d(self.x, **kwargs)

    def test_conv2d_layer(self):
        with pytest.raises(TypeError, match="Conv2d: stride"):
            gc.nn.Conv2d(2, 3, 3, stride=(1.7, 1.7))


class TestLayerMemory:
    def test_a_dense_layer_needs_about_its_own_size(self):
        """Weights are drawn in float32 straight into the parameter: the peak is the weights
        (80 MB here), not the 3x a float64 draw and a cast would take."""
        tracemalloc.start()
        layer = gc.nn.Linear(20_000, 1_000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        weights = 20_000 * 1_000 * 4
        assert layer.weight.numpy().dtype == np.float32
        assert peak < 1.25 * weights, f"peak {peak / 2**20:.0f} MiB for {weights / 2**20:.0f}"


# ---------------------------------------------------------------- state dicts and optimizers

class TestLoadStateDictIsAllOrNothing:
    @pytest.fixture
    def model(self):
        gc.manual_seed(0)
        return gc.nn.Sequential(gc.nn.Linear(4, 3), gc.nn.ReLU(), gc.nn.Linear(3, 2))

    def _unchanged(self, model, bad):
        before = {k: v.numpy() for k, v in model.state_dict().items()}
        with pytest.raises(ValueError):
            model.load_state_dict(bad)
        for key, value in model.state_dict().items():
            np.testing.assert_array_equal(value, before[key])

    def test_one_misshaped_key_changes_nothing(self, model):
        state = {k: np.full(v.shape, 7.0, np.float32) for k, v in model.state_dict().items()}
        state["2.bias"] = np.zeros(5, np.float32)   # last in order: everything before fits
        self._unchanged(model, state)

    def test_one_non_numeric_key_changes_nothing(self, model):
        state = {k: np.full(v.shape, 7.0, np.float32) for k, v in model.state_dict().items()}
        state["2.weight"] = np.full((2, 3), "x")
        self._unchanged(model, state)

    def test_an_unexpected_key_changes_nothing(self, model):
        state = {k: np.full(v.shape, 7.0, np.float32) for k, v in model.state_dict().items()}
        state["9.weight"] = np.zeros(1, np.float32)
        self._unchanged(model, state)


class TestOptimizerArguments:
    def params(self):
        return [gc.nn.Parameter(np.ones(3, np.float32)), gc.nn.Parameter(np.ones(2, np.float32))]

    def test_the_same_parameter_in_two_groups_is_refused(self):
        p = self.params()
        with pytest.raises(ValueError, match="more than one parameter group"):
            gc.optim.SGD([{"params": [p[0]]}, {"params": [p[0], p[1]]}], lr=0.1)

    def test_the_same_parameter_twice_in_one_group_is_refused(self):
        p = self.params()
        with pytest.raises(ValueError, match="appears twice"):
            gc.optim.Adam([p[0], p[1], p[0]])

    @pytest.mark.parametrize("bad", [np.ones(3, np.float32), [1.0, 2.0], "weights"])
    def test_non_tensors_are_refused_at_construction(self, bad):
        with pytest.raises(TypeError, match="can only optimize gpucnn Tensors"):
            gc.optim.SGD([self.params()[0], bad], lr=0.1)

    def test_a_non_leaf_tensor_is_refused(self):
        p = self.params()[0]
        with pytest.raises(ValueError, match="non-leaf"):
            gc.optim.SGD([p * 2.0], lr=0.1)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(lr=float("nan")), "learning rate"), (dict(lr=-1e-3), "learning rate"),
        (dict(lr=float("inf")), "learning rate"), (dict(eps=-1e-8), "eps"),
        (dict(eps=float("nan")), "eps"), (dict(weight_decay=float("nan")), "weight_decay"),
        (dict(weight_decay=-0.1), "weight_decay"), (dict(betas=(1.0, 0.999)), "betas"),
        (dict(betas=(0.9, -0.1)), "betas"), (dict(betas=(float("nan"), 0.9)), "betas"),
        (dict(betas=(0.9,)), "betas")])
    def test_adam_hyper_parameters(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            gc.optim.Adam(self.params(), **kwargs)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(lr=float("nan")), "learning rate"), (dict(lr=0.1, momentum=float("nan")),
                                                   "momentum"),
        (dict(lr=0.1, momentum=-0.5), "momentum"), (dict(lr=0.1, weight_decay=float("inf")),
                                                    "weight_decay")])
    def test_sgd_hyper_parameters(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            gc.optim.SGD(self.params(), **kwargs)

    def test_a_damaged_optimizer_state_changes_nothing(self):
        p = self.params()
        opt = gc.optim.SGD(p, lr=0.1, momentum=0.9)
        for param in p:
            param.grad = gc.tensor(np.ones(param.shape, np.float32))
        opt.step()
        good = opt.state_dict()
        bad = {"state": {index: dict(values) for index, values in good["state"].items()},
               "param_groups": [{**good["param_groups"][0], "lr": 0.5}]}
        bad["state"][1]["momentum_buffer"] = np.zeros(7, np.float32)
        with pytest.raises(ValueError, match="shape"):
            opt.load_state_dict(bad)
        assert opt.param_groups[0]["lr"] == 0.1
        np.testing.assert_array_equal(opt.state_dict()["state"][1]["momentum_buffer"].numpy(),
                                      good["state"][1]["momentum_buffer"].numpy())


# ---------------------------------------------------------------- devices

class TestDeviceNames:
    @pytest.mark.parametrize("name", ["cudafoo", "gpu", "cuda:x", "cpu1", "", "CUDA"])
    def test_unknown_names_are_refused(self, name):
        with pytest.raises(ValueError, match="unknown device"):
            gc.tensor([1.0], device=name)

    @pytest.mark.parametrize("name", ["cpu", "cpu:0", None])
    def test_the_cpu_names(self, name):
        assert gc.tensor([1.0], device=name).device == "cpu"

    def test_cuda_index_without_a_gpu(self, monkeypatch):
        monkeypatch.setattr(gc.cuda, "is_available", lambda: False)
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            gc.tensor([1.0], device="cuda:7")


# ---------------------------------------------------------------- files

def _write_raw(path, header, data=b""):
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


class TestLoadRefusesHostileFiles:
    @pytest.mark.parametrize("name, header, data, match", [
        ("huge_header_length", None, b"", "truncated or not a safetensors"),
        ("deep_nesting", b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}", b"", "corrupt header"),
        ("string_offsets", {"w": {"dtype": "F32", "shape": [2], "data_offsets": ["a", 8]}},
         b"\0" * 8, "corrupt header"),
        ("negative_offset", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}},
         b"\0" * 8, "corrupt header"),
        ("offsets_past_the_end", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
         b"\0" * 8, "truncated or damaged"),
        ("overlapping", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "v": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
         b"\0" * 8, "safetensors"),
        ("shape_disagrees", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
         b"\0" * 8, "safetensors"),
        ("unknown_dtype", {"w": {"dtype": "F7", "shape": [2], "data_offsets": [0, 8]}},
         b"\0" * 8, "safetensors"),
        ("metadata_not_strings", {"__metadata__": {"a": 1}}, b"", "safetensors"),
        ("header_not_a_dict", [1, 2, 3], b"", "safetensors"),
    ])
    def test_malformed_files_are_a_value_error_naming_the_file(self, tmp_path, name, header,
                                                              data, match):
        path = tmp_path / f"{name}.safetensors"
        if header is None:
            path.write_bytes((10**12).to_bytes(8, "little") + b"{}")
        else:
            _write_raw(path, header, data)
        with pytest.raises(ValueError, match=match) as info:
            gc.load(path)
        assert str(path) in str(info.value)

    def test_dev_zero_is_refused_without_reading_it(self):
        if not os.path.exists("/dev/zero"):
            pytest.skip("no /dev/zero on this system")
        started = time.perf_counter()
        with pytest.raises(ValueError, match="not a regular file"):
            gc.load("/dev/zero")
        assert time.perf_counter() - started < 5

    def test_a_fifo_is_refused(self, tmp_path):
        fifo = tmp_path / "pipe.safetensors"
        os.mkfifo(fifo)
        with pytest.raises(ValueError, match="not a regular file"):
            gc.load(fifo)

    def test_bfloat16_loads_as_float32(self, tmp_path):
        values = np.array([1.0, -2.5, 3.140625], np.float32)
        bits = (values.view(np.uint32) >> 16).astype("<u2")
        path = _write_raw(tmp_path / "bf16.safetensors",
                          {"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}},
                          bits.tobytes())
        loaded = gc.load(path)["w"]
        assert isinstance(loaded, gc.Tensor) and loaded.dtype == gc.float32
        np.testing.assert_array_equal(loaded, values)

    def test_a_header_with_a_million_entries_loads_in_bounded_time(self, tmp_path):
        n = 1_000_000
        header = {f"k{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
                  for i in range(n)}
        path = _write_raw(tmp_path / "many.safetensors", header, bytes(n))
        started = time.perf_counter()
        assert len(gc.load(path)) == n
        assert time.perf_counter() - started < 120


class TestSaveKeepsFilesSafe:
    def test_a_new_file_gets_the_umask_mode(self, tmp_path):
        for umask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
            previous = os.umask(umask)
            try:
                path = tmp_path / f"u{umask:o}.safetensors"
                gc.save({"a": np.ones(2, np.float32)}, path)
            finally:
                os.umask(previous)
            assert path.stat().st_mode & 0o777 == mode

    def test_overwriting_keeps_the_files_mode(self, tmp_path):
        path = tmp_path / "w.safetensors"
        gc.save({"a": np.ones(2, np.float32)}, path)
        for mode in (0o640, 0o604, 0o755):
            path.chmod(mode)
            gc.save({"a": np.zeros(2, np.float32)}, path)
            assert path.stat().st_mode & 0o777 == mode

    def test_saving_through_a_symlink_writes_its_target(self, tmp_path):
        real = tmp_path / "store" / "weights.safetensors"
        real.parent.mkdir()
        gc.save({"a": np.ones(2, np.float32)}, real)
        link = tmp_path / "latest.safetensors"
        link.symlink_to(real)
        gc.save({"a": np.full(2, 5.0, np.float32)}, link)
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert gc.load(real)["a"].tolist() == [5.0, 5.0]

    def test_a_killed_save_leaves_at_most_one_file_and_the_next_save_clears_it(self, tmp_path):
        path = tmp_path / "w.safetensors"
        gc.save({"a": np.ones(2, np.float32)}, path)
        leftover = partial_path(path)
        for _ in range(3):   # three saves killed after writing the temporary file
            with open(leftover, "wb") as f:
                f.write(b"half a file")
        assert sorted(p.name for p in tmp_path.iterdir()) == [".w.safetensors.partial",
                                                              "w.safetensors"]
        gc.save({"a": np.zeros(2, np.float32)}, path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]

    def test_kill_9_mid_save_keeps_the_previous_file(self, tmp_path):
        path = tmp_path / "big.safetensors"
        gc.save({"a": np.ones(4, np.float32)}, path)
        script = ("import numpy as np, gpucnn as gc, sys\n"
                  "big = {'a': np.zeros(64 << 20, np.float32)}\n"
                  "print('ready', flush=True)\n"
                  "while True: gc.save(big, sys.argv[1])\n")
        for _ in range(3):
            child = subprocess.Popen([sys.executable, "-c", script, str(path)],
                                     stdout=subprocess.PIPE, text=True)
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.3)
            child.kill()
            child.wait()
            loaded = gc.load(path)["a"]          # the old file or a complete new one
            assert loaded.shape in ((4,), (64 << 20,))
            assert len(list(tmp_path.iterdir())) <= 2

    def test_unserialisable_metadata_names_its_key(self, tmp_path):
        with pytest.raises(TypeError, match="'created'"):
            gc.save({"a": np.ones(1, np.float32)}, tmp_path / "m.st", metadata={"created": object()})
        with pytest.raises(TypeError, match="'nan'"):
            gc.save({"a": np.ones(1, np.float32)}, tmp_path / "m.st",
                    metadata={"nan": float("nan")})
        assert not (tmp_path / "m.st").exists()

    def test_two_identical_saves_give_identical_bytes(self, tmp_path):
        state = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(3, np.int64)}
        meta = {"z": "1", "a": "2", "m": {"x": [1, 2]}}
        gc.save(state, tmp_path / "one.st", metadata=meta)
        gc.save(state, tmp_path / "two.st", metadata=meta)
        assert (tmp_path / "one.st").read_bytes() == (tmp_path / "two.st").read_bytes()
