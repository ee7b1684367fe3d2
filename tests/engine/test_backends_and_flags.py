"""gpucnn.backends (cudnn, cuda.matmul, mkldnn, mps), the deterministic-algorithm and matmul
precision switches, gpucnn.device(int), gpucnn.cpu, gpucnn.cuda.OutOfMemoryError and the
Tensor.is_* flags, each against torch's names, defaults, checks and answers."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from numba.cuda import MemoryInfo
from numba.cuda.cudadrv.driver import CudaAPIError, NumbaCUDAMemoryManager

import gpucnn as gc
import gpucnn.backends.cudnn as cudnn
from gpucnn.backends import _flags


@pytest.fixture(autouse=True)
def restore_flags():
    """Every test leaves gpucnn's and torch's flags as it found them."""
    names = ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit",
             "fp32_precision", "depthwise_kernel")
    saved = {name: getattr(cudnn, name) for name in names}
    conv, rnn = cudnn.conv.fp32_precision, cudnn.rnn.fp32_precision
    matmul = dict(gc.backends.cuda.matmul._state)
    mkldnn = {name: getattr(gc.backends.mkldnn, name) for name in
              ("enabled", "deterministic", "allow_tf32", "fp32_precision")}
    deterministic = dict(gc.backends.deterministic._state)
    yield
    _flags._frozen = False
    with _flags.allow_changes():
        for name, value in saved.items():
            object.__setattr__(cudnn, name, value)
        object.__setattr__(cudnn.conv, "_value", conv)
        object.__setattr__(cudnn.rnn, "_value", rnn)
        for name, value in mkldnn.items():
            object.__setattr__(gc.backends.mkldnn, name, value)
    gc.backends.cuda.matmul._state.update(matmul)
    gc.backends.deterministic._state.update(deterministic)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.use_deterministic_algorithms(False)


def fresh_torch(expression):
    """An expression's value in a fresh process that has just imported torch: its defaults,
    untouched by the tests here (torch cannot go back to some of them once set)."""
    code = f"import json, torch; print(json.dumps({expression}))"
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True).stdout)


# ---------------------------------------------------------------- cudnn

CUDNN_FLAGS = ("enabled", "benchmark", "deterministic", "allow_tf32", "fp32_precision",
               "depthwise_kernel")
MATMUL_FLAGS = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                "allow_fp16_reduced_precision_reduction_split_k",
                "allow_bf16_reduced_precision_reduction",
                "allow_bf16_reduced_precision_reduction_split_k", "allow_fp16_accumulation",
                "fp32_precision")


def test_backend_flags_have_torchs_defaults():
    cudnn_names = CUDNN_FLAGS + ("conv.fp32_precision", "rnn.fp32_precision")
    mkldnn_names = ("enabled", "deterministic", "allow_tf32", "fp32_precision")
    theirs = fresh_torch(
        "[[eval('torch.backends.cudnn.' + n) for n in %r], "
        "[getattr(torch.backends.cuda.matmul, n) for n in %r], "
        "[getattr(torch.backends.mkldnn, n) for n in %r], "
        "torch.get_float32_matmul_precision()]" % (cudnn_names, MATMUL_FLAGS, mkldnn_names))
    assert [eval("cudnn." + n) for n in cudnn_names] == theirs[0]
    assert [getattr(gc.backends.cuda.matmul, n) for n in MATMUL_FLAGS] == theirs[1]
    assert [getattr(gc.backends.mkldnn, n) for n in mkldnn_names] == theirs[2]
    assert gc.get_float32_matmul_precision() == theirs[3]


def test_cudnn_flags_read_back_what_is_set():
    assert cudnn.benchmark_limit is None   # torch's where there is no cuDNN
    assert cudnn.is_available() is False and cudnn.version() is None
    assert gc.backends.cudnn is cudnn
    gc.backends.cudnn.benchmark = True
    gc.backends.cudnn.deterministic = True
    assert cudnn.benchmark is True and cudnn.deterministic is True
    cudnn.allow_tf32 = False   # torch's legacy flag sets both operators' precision
    torch.backends.cudnn.allow_tf32 = False
    try:
        assert cudnn.conv.fp32_precision == torch.backends.cudnn.conv.fp32_precision == "none"
    finally:
        torch.backends.cudnn.allow_tf32 = True


@pytest.mark.parametrize("name, value", [("benchmark", 1), ("enabled", None),
                                         ("deterministic", "yes"), ("allow_tf32", 0)])
def test_cudnn_flags_take_bools_only_as_torch(name, value):
    with pytest.raises(RuntimeError, match="expects a bool"):
        setattr(torch.backends.cudnn, name, value)
    with pytest.raises(RuntimeError, match=f"cudnn.{name} expects a bool, but got"):
        setattr(cudnn, name, value)


def test_cudnn_precision_and_depthwise_kernel_are_checked():
    with pytest.raises(RuntimeError, match="depthwise kernel mode: x"):
        cudnn.depthwise_kernel = "x"
    cudnn.depthwise_kernel = "native"
    assert cudnn.depthwise_kernel == "native"
    with pytest.raises(RuntimeError, match="fp32_precision"):
        cudnn.conv.fp32_precision = "fast"
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        cudnn.conv.foo = 1


def test_cudnn_flags_block_sets_torchs_defaults_inside_and_restores():
    cudnn.benchmark = True
    with cudnn.flags():
        inside = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32)
        with torch.backends.cudnn.flags():
            assert inside == (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark,
                              torch.backends.cudnn.deterministic,
                              torch.backends.cudnn.allow_tf32)
    assert inside == (False, False, False, True)
    assert (cudnn.enabled, cudnn.benchmark) == (True, True)
    with pytest.raises(ValueError, match="boom"):
        with cudnn.flags(enabled=True, deterministic=True):
            assert cudnn.deterministic is True
            raise ValueError("boom")
    assert cudnn.deterministic is False
    assert cudnn.set_flags(_benchmark=False) == (True, True, None, False, True, "none", "auto")


def test_disable_global_flags_freezes_them_outside_flags_blocks():
    gc.backends.disable_global_flags()
    assert gc.backends.flags_frozen()
    with pytest.raises(RuntimeError, match="not allowed to set .*cudnn flags"):
        cudnn.benchmark = True
    with pytest.raises(RuntimeError, match="not allowed to set .*matmul flags"):
        gc.backends.cuda.matmul.allow_tf32 = True
    with cudnn.flags(benchmark=True):
        assert cudnn.benchmark is True
    assert cudnn.benchmark is False


# ---------------------------------------------------------------- cuda.matmul, precision

def test_cuda_is_built_and_matmul_flags_read_back():
    assert gc.backends.cuda.is_built() is True
    gc.backends.cuda.matmul.allow_fp16_accumulation = True
    assert gc.backends.cuda.matmul.allow_fp16_accumulation is True


# torch refuses to answer once its legacy and new TF32 flags were both set: the sequences
# below use one API each, from the same starting point (allow_tf32 set False).
@pytest.mark.parametrize("steps", [
    [("allow_tf32", True)], [("allow_tf32", True), ("allow_tf32", False)],
    [("precision", "high")], [("precision", "medium")],
    [("precision", "high"), ("precision", "highest")], [("allow_tf32", False)]])
def test_allow_tf32_and_the_matmul_precision_move_together_as_torchs(steps):
    gc.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    for what, value in steps:
        for matmul, set_precision in ((gc.backends.cuda.matmul, gc.set_float32_matmul_precision),
                                      (torch.backends.cuda.matmul,
                                       torch.set_float32_matmul_precision)):
            if what == "precision":
                set_precision(value)
            else:
                setattr(matmul, what, value)
        ours, theirs = gc.backends.cuda.matmul, torch.backends.cuda.matmul
        assert (ours.allow_tf32, ours.fp32_precision, gc.get_float32_matmul_precision()) == \
            (theirs.allow_tf32, theirs.fp32_precision, torch.get_float32_matmul_precision())


def test_reduced_precision_reductions_take_a_bool_or_one_or_two_bools():
    matmul = gc.backends.cuda.matmul
    matmul.allow_fp16_reduced_precision_reduction = (False, False)
    assert matmul.allow_fp16_reduced_precision_reduction is False
    assert matmul.allow_fp16_reduced_precision_reduction_split_k is False
    matmul.allow_bf16_reduced_precision_reduction = [False]
    assert (matmul.allow_bf16_reduced_precision_reduction,
            matmul.allow_bf16_reduced_precision_reduction_split_k) == (False, True)
    for bad, match in ((1, "expects a bool or a tuple"), ((), "at least one"),
                       ((True, True, True), "at most two"), ((True, 1), "allow_splitk")):
        with pytest.raises(TypeError, match=match):
            matmul.allow_fp16_reduced_precision_reduction = bad
    with pytest.raises(RuntimeError, match="expects a bool"):
        matmul.allow_tf32 = 1
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        matmul.foo
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        matmul.foo = True


def test_float32_matmul_precision_checks_as_torch():
    with pytest.warns(UserWarning, match="fast is not one of 'highest', 'high', or 'medium'"):
        gc.set_float32_matmul_precision("fast")
    assert gc.get_float32_matmul_precision() == "highest"
    with pytest.raises(RuntimeError, match="expects a str, but got int"):
        gc.set_float32_matmul_precision(1)


# ---------------------------------------------------------------- mkldnn, mps

def test_mkldnn_and_mps_answer_as_torch_without_them():
    mkldnn = gc.backends.mkldnn
    assert mkldnn.is_available() is False
    with pytest.warns(UserWarning, match="TF32 acceleration on top of oneDNN is available for "
                                         "Intel GPUs"):
        with mkldnn.flags():
            assert mkldnn.enabled is False
    assert mkldnn.enabled is True
    with pytest.warns(UserWarning, match="Intel GPUs"):   # and it reads None, as torch's
        mkldnn.allow_tf32 = True
    with pytest.warns(UserWarning, match="Intel GPUs"):
        torch.backends.mkldnn.allow_tf32 = True
    assert mkldnn.allow_tf32 is torch.backends.mkldnn.allow_tf32 is None
    with pytest.raises(RuntimeError, match="expects a bool"):
        mkldnn.allow_tf32 = 1
    mkldnn.enabled = False
    assert mkldnn.enabled is False
    with pytest.raises(RuntimeError, match="expects a bool"):
        mkldnn.deterministic = "no"
    assert gc.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert gc.backends.mps.is_built() is False


# ---------------------------------------------------------------- deterministic algorithms

def test_deterministic_algorithms_switch_reads_back_as_torchs():
    for mode, warn_only in ((True, False), (True, True), (False, False)):
        gc.use_deterministic_algorithms(mode, warn_only=warn_only)
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
        assert (gc.are_deterministic_algorithms_enabled(),
                gc.is_deterministic_algorithms_warn_only_enabled(),
                gc.get_deterministic_debug_mode()) == \
            (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.get_deterministic_debug_mode())
    for debug_mode in ("warn", "error", "default", 2, 1, 0):
        gc.set_deterministic_debug_mode(debug_mode)
        torch.set_deterministic_debug_mode(debug_mode)
        assert gc.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
        assert gc.are_deterministic_algorithms_enabled() == \
            torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("call, error, match", [
    (lambda m: m.use_deterministic_algorithms(1), TypeError, "'mode' .* must be bool"),
    (lambda m: m.use_deterministic_algorithms(True, warn_only=1), TypeError, "'warn_only'"),
    (lambda m: m.set_deterministic_debug_mode("x"), RuntimeError, "invalid value of debug_mode"),
    (lambda m: m.set_deterministic_debug_mode(3), RuntimeError, "expected 0, 1, or 2"),
    (lambda m: m.set_deterministic_debug_mode(1.0), TypeError, "must be str or int")])
def test_deterministic_switch_refuses_what_torch_refuses(call, error, match):
    with pytest.raises(error, match=match):
        call(torch)
    with pytest.raises(error, match=match):
        call(gc)


# ---------------------------------------------------------------- devices, gpucnn.cpu

def test_an_int_device_is_the_accelerators_gpu_and_an_error_without_one():
    if gc.cuda.is_available():
        assert gc.device(0) == gc.device("cuda:0") and gc.device(0).index == 0
    else:
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none "
                                               "is available"):
            gc.device(0)
    with pytest.raises(RuntimeError, match="must not be negative"):
        gc.device(-1)
    with pytest.raises(ValueError):
        gc.device(True)


def test_gpucnn_cpu_answers_as_torch_cpu():
    for name in ("is_available", "is_initialized", "current_device", "device_count"):
        assert getattr(gc.cpu, name)() == getattr(torch.cpu, name)(), name
    assert gc.cpu.synchronize() is None and gc.cpu.synchronize("cpu") is None
    assert gc.cpu.set_device("cpu") is None


# ---------------------------------------------------------------- out of memory

def test_out_of_memory_error_is_torchs_runtime_error():
    assert issubclass(gc.cuda.OutOfMemoryError, RuntimeError)
    assert gc.OutOfMemoryError is gc.cuda.OutOfMemoryError
    assert issubclass(torch.cuda.OutOfMemoryError, RuntimeError)


def test_numbas_allocator_raises_out_of_memory_error_for_a_full_gpu(monkeypatch):
    manager_class = gc.cuda._numba_memory_manager_class()
    manager = manager_class.__new__(manager_class)   # no context: memalloc is stubbed below
    monkeypatch.setattr(manager_class, "get_memory_info",
                        lambda self: MemoryInfo(free=3 * 2 ** 20, total=80 * 2 ** 30))
    failure = {"code": 2}

    def full_gpu(self, size):
        raise CudaAPIError(failure["code"], "CUDA_ERROR_OUT_OF_MEMORY")
    monkeypatch.setattr(NumbaCUDAMemoryManager, "memalloc", full_gpu)
    with pytest.raises(gc.cuda.OutOfMemoryError,
                       match=r"CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a "
                             r"total capacity of 80.00 GiB of which 3.00 MiB is free") as info:
        manager.memalloc(3 * 2 ** 29)
    assert isinstance(info.value.__cause__, CudaAPIError)
    failure["code"] = 700   # any other driver error passes through unchanged
    with pytest.raises(CudaAPIError):
        manager.memalloc(1024)


# ---------------------------------------------------------------- Tensor.is_*

FLAGS = ("is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_ipu", "is_xla", "is_maia",
         "is_mtia", "is_vulkan", "is_sparse", "is_sparse_csr", "is_quantized", "is_mkldnn",
         "is_nested", "is_leaf")
QUESTIONS = ("is_floating_point", "is_complex", "is_signed", "is_inference", "is_conj",
             "is_neg", "is_pinned", "is_shared", "is_distributed", "is_contiguous")


def pairs():
    rng = np.random.default_rng(31)
    arrays = [rng.uniform(-1, 1, (3, 5)).astype(np.float32), rng.integers(-5, 5, (4,)),
              rng.integers(-5, 5, (2, 3)).astype(np.int32), rng.uniform(size=(3,)) > 0.5,
              np.float32(2.5), np.zeros((0, 3), np.float32)]
    return [(gc.tensor(a), torch.tensor(a)) for a in arrays]


@pytest.mark.parametrize("index", range(6))
def test_every_is_flag_answers_as_torchs(index):
    ours, theirs = pairs()[index]
    for view_ours, view_theirs in ((ours, theirs), (ours.t(), theirs.t()) if ours.ndim == 2
                                   else (ours, theirs)):
        for name in FLAGS:
            assert getattr(view_ours, name) == getattr(view_theirs, name), name
        for name in QUESTIONS:
            assert getattr(view_ours, name)() == getattr(view_theirs, name)(), name
    with pytest.raises(AttributeError):
        ours.is_xpu = True
    with pytest.raises(RuntimeError, match="is_coalesced expected sparse coordinate tensor "
                                           "layout but got Strided"):
        ours.is_coalesced()


def test_is_set_to_and_is_same_size_as_torch():
    rng = np.random.default_rng(32)
    a = rng.uniform(-1, 1, (4, 6)).astype(np.float32)
    x, t = gc.tensor(a), torch.tensor(a)
    for f in (lambda v: v, lambda v: v.view(4, 6), lambda v: v[:], lambda v: v[1:],
              lambda v: v.t(), lambda v: v.reshape(24), lambda v: v.clone(),
              lambda v: v.detach()):
        assert x.is_set_to(f(x)) == t.is_set_to(f(t))
        assert x.is_same_size(f(x)) == t.is_same_size(f(t))
    with pytest.raises(TypeError, match="argument 'tensor' must be Tensor"):
        x.is_set_to(a)


@pytest.mark.parametrize("values", [[0.0], [2.0], [-3], [True], [False], 7.0])
def test_is_nonzero_as_torch(values):
    assert gc.tensor(values).is_nonzero() == torch.tensor(values).is_nonzero()


@pytest.mark.parametrize("values, match", [([], "no values"), ([1.0, 2.0], "more than one")])
def test_is_nonzero_refuses_what_torch_refuses(values, match):
    with pytest.raises(RuntimeError, match=match):
        torch.tensor(values).is_nonzero()
    with pytest.raises(RuntimeError, match=match):
        gc.tensor(values).is_nonzero()


def test_tensors_made_in_inference_mode_are_inference_tensors_as_torchs():
    x, t = gc.ones(3), torch.ones(3)
    with gc.inference_mode(), torch.inference_mode():
        made = (gc.zeros(2), x + 1, x.detach())
        theirs = (torch.zeros(2), t + 1, t.detach())
        assert gc.is_inference_mode_enabled() == torch.is_inference_mode_enabled() is True
        with gc.inference_mode(False), torch.inference_mode(False):
            assert gc.is_inference_mode_enabled() == torch.is_inference_mode_enabled()
            assert gc.is_grad_enabled() == torch.is_grad_enabled()
            assert gc.ones(1).is_inference() == torch.ones(1).is_inference()
    assert [m.is_inference() for m in made] == [m.is_inference() for m in theirs]
    assert x.is_inference() == t.is_inference() is False
    with gc.no_grad(), torch.no_grad():   # no_grad is not inference mode
        assert gc.is_inference_mode_enabled() == torch.is_inference_mode_enabled() is False
        assert gc.ones(1).is_inference() is False


def test_inference_mode_as_a_decorator_turns_gradients_off():
    @gc.inference_mode()
    def called():
        return gc.is_grad_enabled(), gc.is_inference_mode_enabled(), gc.ones(1).is_inference()

    @gc.inference_mode
    def bare():
        return gc.is_grad_enabled(), gc.is_inference_mode_enabled()

    @torch.inference_mode()
    def reference():
        return torch.is_grad_enabled(), torch.is_inference_mode_enabled(), \
            torch.ones(1).is_inference()
    assert called() == reference() == (False, True, True)
    assert bare() == (False, True)
    assert gc.is_grad_enabled() and not gc.is_inference_mode_enabled()


def test_flags_that_do_not_apply_warn_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cudnn.benchmark = True
        gc.backends.cuda.matmul.allow_tf32 = True
