"""gpucnn.onnx.export: every model, layer, functional and forward-pass tensor method exports to a
model that onnx.checker accepts (full_check) and that onnxruntime runs with gpucnn's results,
at several batch sizes through a dynamic batch axis; the export options as torch's; bad
arguments and unexportable forward passes are clear errors.

The oracle is gpucnn's own forward pass (itself tested against PyTorch elsewhere), run on
fresh random inputs of the batch size onnxruntime is given, not the ones the model was traced
with."""
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import gpucnn as gc
import gpucnn.onnx
from gpucnn import nn
from gpucnn.models import MODELS, get_model
from gpucnn.nn import functional as F
from gpucnn.nn.batchnorm import _BatchNorm
from gpucnn.onnx import OnnxExporterError, TrainingMode, UnsupportedOperatorError

from ..helpers import assert_close

TOL = 1e-5       # float32: max |ort - gpucnn| / max |gpucnn|
MODEL_TOL = 5e-5  # a deep network's sums in another order


def session(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _flat(result):
    if isinstance(result, gc.Tensor):
        return [result]
    if isinstance(result, dict):
        result = list(result.values())
    return [t for item in result for t in _flat(item)]


def randomize_batch_norms(model):
    """Running statistics and affine parameters other than the fresh ones, so that folding
    them into the convolutions is checked with numbers that matter."""
    with gc.no_grad():
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                n = module.num_features
                if module.running_mean is not None:
                    module.running_mean.copy_(gc.randn(n) * 0.3)
                    module.running_var.copy_(gc.rand(n) + 0.5)
                if module.weight is not None:
                    module.weight.copy_(gc.rand(n) + 0.5)
                    module.bias.copy_(gc.randn(n) * 0.2)
    return model


def check_export(model, make, batches=(2, 5), dynamic=True, tol=TOL, **options):
    """Export model(*make(batches[0])) with a dynamic batch axis on every input, check the
    model, run it in onnxruntime at every batch size on fresh inputs against gpucnn's
    output; returns the ModelProto."""
    if isinstance(model, nn.Module):
        model.eval()
    inputs = make(batches[0])
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    names = [f"in{i}" for i in range(len(inputs))]
    axes = {name: {0: "batch"} for name in names} if dynamic else None
    proto = gc.onnx.export(model, inputs, None, input_names=names, dynamic_axes=axes, **options)
    onnx.checker.check_model(proto, full_check=True)
    runner = session(proto)
    for n in batches if dynamic else batches[:1]:
        xs = make(n)
        xs = xs if isinstance(xs, tuple) else (xs,)
        feeds = {name: x.numpy() for name, x in zip(names, xs)}   # before an in-place forward
        with gc.no_grad():
            expected = _flat(model(*xs))
        got = runner.run(None, feeds)
        assert len(got) == len(expected)
        for out, ref in zip(got, expected):
            ref = ref.numpy()
            assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, ref.shape)
            if ref.dtype.kind == "f":
                assert_close(out, ref, tol, what=f"batch {n}")
            else:
                assert np.array_equal(out, ref), f"batch {n}: {out} != {ref}"
    return proto


def ops(proto):
    return [node.op_type for node in proto.graph.node]


def randn(*shape):
    return lambda n: gc.randn(n, *shape)


class Fn(nn.Module):
    """A forward pass written as a function (the tensor-method cases)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


# ================================================================ every model

@pytest.mark.parametrize("name", list(MODELS))
def test_every_model(name):
    gc.manual_seed(1)
    spec = MODELS[name]
    model = randomize_batch_norms(get_model(name))
    proto = check_export(model, randn(spec.in_channels, *spec.input_size), batches=(2, 1, 5),
                         tol=MODEL_TOL)
    assert "BatchNormalization" not in ops(proto)   # folded into the convolutions
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 10


@pytest.mark.parametrize("opset", [11, 12, 13, 15, 17, 18, 20, 23])
def test_models_at_every_opset(opset):
    gc.manual_seed(2)
    for name in ("resnet20", "bn_cnn"):
        spec = MODELS[name]
        model = randomize_batch_norms(get_model(name))
        proto = check_export(model, randn(spec.in_channels, *spec.input_size), batches=(2, 3),
                             tol=MODEL_TOL, opset_version=opset)
        assert proto.opset_import[0].version == opset


# ================================================================ every layer

def _bn(module):
    return randomize_batch_norms(module)


LAYERS = [
    ("conv", lambda: nn.Conv2d(3, 5, 3), (3, 9, 11)),
    ("conv_stride_pad_dilation_groups",
     lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (4, 11, 9)),
    ("conv_depthwise", lambda: nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False), (4, 7, 7)),
    ("conv_same_even_kernel", lambda: nn.Conv2d(3, 5, (2, 4), padding="same"), (3, 9, 11)),
    ("conv_valid", lambda: nn.Conv2d(3, 5, 3, padding="valid"), (3, 9, 11)),
    ("conv_four_pads", lambda: nn.Conv2d(3, 5, 3, padding=(1, 0, 2, 1)), (3, 9, 11)),
    ("conv_rectangular", lambda: nn.Conv2d(3, 2, (1, 3), stride=(2, 1), padding=(0, 1)),
     (3, 9, 11)),
    ("max_pool", lambda: nn.MaxPool2d(2), (3, 10, 9)),
    ("max_pool_pad_stride", lambda: nn.MaxPool2d(3, 2, 1), (3, 10, 9)),
    ("max_pool_ceil", lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), (3, 10, 9)),
    ("max_pool_ceil_rect", lambda: nn.MaxPool2d((3, 2), (2, 3), (1, 0), ceil_mode=True),
     (3, 10, 9)),
    ("avg_pool", lambda: nn.AvgPool2d(2), (3, 10, 9)),
    ("avg_pool_pad_include", lambda: nn.AvgPool2d(3, 2, 1), (3, 10, 9)),
    ("avg_pool_pad_exclude", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     (3, 10, 9)),
    ("avg_pool_ceil", lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True), (3, 10, 9)),
    ("avg_pool_ceil_exclude",
     lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (3, 10, 9)),
    ("avg_pool_divisor", lambda: nn.AvgPool2d(3, 2, 1, divisor_override=4), (3, 10, 9)),
    ("avg_pool_divisor_ceil",
     lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=5), (3, 10, 9)),
    ("adaptive_avg_global", lambda: nn.AdaptiveAvgPool2d(1), (3, 10, 9)),
    ("adaptive_avg_equal_bins", lambda: nn.AdaptiveAvgPool2d((5, 3)), (3, 10, 9)),
    ("adaptive_avg_unequal_bins", lambda: nn.AdaptiveAvgPool2d((4, 5)), (3, 10, 9)),
    ("adaptive_avg_keep_height", lambda: nn.AdaptiveAvgPool2d((None, 4)), (3, 10, 9)),
    ("adaptive_avg_larger", lambda: nn.AdaptiveAvgPool2d((12, 11)), (3, 10, 9)),
    ("adaptive_max_global", lambda: nn.AdaptiveMaxPool2d(1), (3, 10, 9)),
    ("adaptive_max_equal_bins", lambda: nn.AdaptiveMaxPool2d((2, 3)), (3, 10, 9)),
    ("adaptive_max_unequal_bins", lambda: nn.AdaptiveMaxPool2d((4, 5)), (3, 10, 9)),
    ("batch_norm_2d", lambda: _bn(nn.BatchNorm2d(3)), (3, 5, 4)),
    ("batch_norm_2d_no_affine", lambda: _bn(nn.BatchNorm2d(3, affine=False)), (3, 5, 4)),
    ("batch_norm_2d_batch_stats",
     lambda: nn.BatchNorm2d(3, track_running_stats=False), (3, 5, 4)),
    ("batch_norm_1d", lambda: _bn(nn.BatchNorm1d(6)), (6,)),
    ("batch_norm_1d_length", lambda: _bn(nn.BatchNorm1d(6, eps=1e-3)), (6, 7)),
    ("relu", nn.ReLU, (4, 5)),
    ("relu_inplace", lambda: nn.ReLU(inplace=True), (4, 5)),
    ("sigmoid", nn.Sigmoid, (4, 5)),
    ("tanh", nn.Tanh, (4, 5)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (4, 5)),
    ("leaky_relu_inplace", lambda: nn.LeakyReLU(0.3, inplace=True), (4, 5)),
    ("elu", lambda: nn.ELU(0.7), (4, 5)),
    ("elu_inplace", lambda: nn.ELU(inplace=True), (4, 5)),
    ("gelu", nn.GELU, (4, 5)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), (4, 5)),
    ("silu", nn.SiLU, (4, 5)),
    ("silu_inplace", lambda: nn.SiLU(inplace=True), (4, 5)),
    ("softmax", lambda: nn.Softmax(1), (4, 5)),
    ("softmax_last", lambda: nn.Softmax(-1), (4, 5)),
    ("log_softmax", lambda: nn.LogSoftmax(2), (4, 5)),
    ("linear", lambda: nn.Linear(5, 3), (5,)),
    ("linear_no_bias", lambda: nn.Linear(5, 3, bias=False), (5,)),
    ("flatten", nn.Flatten, (3, 4, 5)),
    ("flatten_middle", lambda: nn.Flatten(1, 2), (3, 4, 5)),
    ("flatten_all", lambda: nn.Flatten(0), (3, 4, 5)),
    ("identity", nn.Identity, (3, 4)),
    ("dropout", lambda: nn.Dropout(0.4), (3, 4)),
    ("dropout2d", lambda: nn.Dropout2d(0.4), (3, 4, 5)),
]


@pytest.mark.parametrize("name, build, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_every_layer(name, build, shape):
    gc.manual_seed(3)
    proto = check_export(build(), randn(*shape), batches=(2, 1, 3))
    if name.startswith("dropout") or name == "identity":
        assert not ops(proto) or ops(proto) == ["Identity"]


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("name, build, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_every_layer_at_old_opsets(name, build, shape, opset):
    gc.manual_seed(4)
    check_export(build(), randn(*shape), batches=(2, 3), opset_version=opset)


def test_gelu_is_one_node_from_opset_20_and_a_formula_before():
    assert ops(check_export(nn.GELU(), randn(5))) == ["Gelu"]
    assert "Erf" in ops(check_export(nn.GELU(), randn(5), opset_version=17))
    assert "Tanh" in ops(check_export(nn.GELU("tanh"), randn(5), opset_version=17))


def test_batch_norm_folding_is_do_constant_folding():
    gc.manual_seed(5)
    model = randomize_batch_norms(nn.Sequential(
        nn.Conv2d(2, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
        nn.Linear(4 * 5 * 5, 6, bias=False), nn.BatchNorm1d(6), nn.Linear(6, 3),
        nn.BatchNorm1d(3)))
    folded = check_export(model, randn(2, 9, 9))
    assert ops(folded) == ["Conv", "Relu", "Conv", "Reshape", "Gemm", "Gemm"]
    kept = check_export(model, randn(2, 9, 9), do_constant_folding=False)
    assert ops(kept).count("BatchNormalization") == 4
    names = {init.name for init in kept.graph.initializer}
    assert {"1.running_mean", "1.running_var", "0.weight", "7.weight"} <= names


def test_containers_and_a_custom_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Conv2d(3, 3, 3, padding=1) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 4)})
            self.stem = nn.Sequential(nn.Sequential(nn.ReLU(), nn.Identity()))

        def forward(self, x):
            for block in self.blocks:
                x = self.stem(block(x)) + x
            pooled = x.mean((2, 3))
            return {"a": self.heads["a"](pooled), "b": self.heads["b"](pooled).softmax(1)}

    gc.manual_seed(6)
    proto = check_export(Net(), randn(3, 6, 7))
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]


# ================================================================ functionals

gc.manual_seed(0)
# weights made once, outside forward: constants of the graph (a tensor drawn inside forward
# would be random, which the exporter refuses)
WEIGHT, BIAS, MATRIX = gc.randn(4, 3, 3, 3), gc.randn(4), gc.randn(3, 5)
MEAN, VAR, SCALE, SHIFT = gc.randn(3) * 0.1, gc.rand(3) + 0.5, gc.rand(3) + 0.5, gc.randn(3)

FUNCTIONALS = [
    ("conv2d", lambda x: F.conv2d(x, WEIGHT, BIAS, 2, 1, 1, 1), (3, 8, 7)),
    ("conv2d_groups", lambda x: F.conv2d(x, WEIGHT[:3, :1], None, 1, "same", 2, 3), (3, 8, 7)),
    ("linear", lambda x: F.linear(x, MATRIX, BIAS[:3]), (5,)),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (3, 8, 7)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), (3, 8, 7)),
    ("avg_pool2d_unbatched_style", lambda x: F.avg_pool2d(x, (2, 1)), (3, 8, 7)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (3, 8, 7)),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, 3), (3, 8, 7)),
    ("batch_norm_eval", lambda x: F.batch_norm(x, MEAN, VAR, SCALE, SHIFT), (3, 4, 5)),
    ("batch_norm_batch_stats", lambda x: F.batch_norm(x, None, None, training=True),
     (3, 4, 5)),
    ("dropout_eval", lambda x: F.dropout(x, 0.3, training=False) * 2, (3, 4)),
    ("dropout2d_eval", lambda x: F.dropout2d(x, 0.3, training=False) * 2, (3, 4, 5)),
    ("relu", F.relu, (4, 5)),
    ("relu_inplace", lambda x: F.relu(x * 1, inplace=True), (4, 5)),
    ("sigmoid", F.sigmoid, (4, 5)),
    ("tanh", F.tanh, (4, 5)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.05), (4, 5)),
    ("elu", lambda x: F.elu(x, 1.3), (4, 5)),
    ("gelu", F.gelu, (4, 5)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), (4, 5)),
    ("silu", F.silu, (4, 5)),
    ("softmax", lambda x: F.softmax(x, dim=1), (4, 5)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=-1), (4, 5)),
    ("softmax_of_ints", lambda x: F.softmax((x * 3).long(), dim=1), (4, 5)),
    ("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (3, 4, 5)),
    ("pad_reflect", lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), (3, 4, 5)),
    ("pad_replicate", lambda x: F.pad(x, (2, 0, 1, 3), mode="replicate"), (3, 4, 5)),
    ("pad_circular", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), (3, 4, 5)),
    ("pad_negative", lambda x: F.pad(x, (-1, 2, 1, -2)), (3, 4, 5)),
    ("pad_negative_reflect", lambda x: F.pad(x, (-1, 1, 2, -1), mode="reflect"), (3, 4, 5)),
    ("pad_channels", lambda x: F.pad(x, (0, 0, 0, 0, 2, 1)), (3, 4, 5)),
    ("pad_batch", lambda x: F.pad(x, (0, 0, 0, 0, 0, 0, 1, 2)), (3, 4, 5)),
    ("one_hot", lambda x: F.one_hot(x.argmax(1), 5), (5,)),
]


@pytest.mark.parametrize("name, fn, shape", FUNCTIONALS, ids=[c[0] for c in FUNCTIONALS])
def test_every_functional(name, fn, shape):
    gc.manual_seed(7)
    check_export(Fn(fn), randn(*shape), batches=(2, 1, 3))


def test_circular_pad_before_opset_19_uses_the_recorded_ops():
    proto = check_export(Fn(lambda x: F.pad(x, (1, 2, 2, 1), mode="circular")),
                         randn(3, 4, 5), opset_version=18)
    assert "Pad" not in ops(proto)
    assert ops(check_export(Fn(lambda x: F.pad(x, (1, 2, 0, 1), mode="circular")),
                            randn(3, 4, 5))) == ["Pad"]


LOSSES = [
    ("cross_entropy", nn.CrossEntropyLoss, None),
    ("cross_entropy_smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=0.1), None),
    ("cross_entropy_sum", lambda: nn.CrossEntropyLoss(reduction="sum"), None),
    ("cross_entropy_weight", lambda: nn.CrossEntropyLoss(weight=gc.rand(5) + 0.5), None),
    ("nll", nn.NLLLoss, None),
    ("mse", nn.MSELoss, "float"),
    ("l1_none", lambda: nn.L1Loss(reduction="none"), "float"),
    ("smooth_l1", lambda: nn.SmoothL1Loss(beta=0.5), "float"),
    ("huber", lambda: nn.HuberLoss(delta=0.7), "float"),
    ("bce", nn.BCELoss, "probability"),
    ("bce_with_logits", lambda: nn.BCEWithLogitsLoss(pos_weight=gc.rand(5) + 0.5),
     "probability"),
]


@pytest.mark.parametrize("name, build, target", LOSSES, ids=[c[0] for c in LOSSES])
def test_losses(name, build, target):
    """A loss module of (input, target), both with the dynamic batch."""
    gc.manual_seed(8)

    def make(n):
        if target is None:
            return gc.randn(n, 5), gc.randint(0, 5, (n,))
        x = gc.rand(n, 5) * 0.9 + 0.05 if name == "bce" else gc.randn(n, 5)
        t = gc.rand(n, 5) if target == "probability" else gc.randn(n, 5)
        return x, t

    check_export(build(), make, batches=(3, 1, 4))


# ================================================================ tensor methods in forward

METHODS = [
    ("view_batch", lambda x: x.view(x.size(0), -1), (3, 4, 5)),
    ("view_rows", lambda x: x.view(-1, 5), (3, 4, 5)),
    ("reshape_after_permute", lambda x: x.permute(0, 2, 1).reshape(x.shape[0], 5, 2, 2),
     (4, 5)),
    ("reshape_batch_into_rows", lambda x: x.reshape(-1, 4), (3, 4)),
    ("flatten_method", lambda x: x.flatten(1), (3, 4, 5)),
    ("transpose", lambda x: x.transpose(1, 2).contiguous(), (4, 5)),
    ("t_and_mT", lambda x: x.mT + x[0].t(), (4, 4)),
    ("unsqueeze_squeeze", lambda x: x.unsqueeze(1).unsqueeze(-1).squeeze(-1), (4, 5)),
    ("expand", lambda x: x[:, :1].expand(-1, 4, 5) + x.sum(0, keepdim=True).expand_as(x),
     (4, 5)),
    ("repeat", lambda x: x.repeat(1, 2, 1), (4, 5)),
    ("cat_channels", lambda x: gc.cat([x, x * 2, x + 1], 1), (4, 5)),
    ("cat_batch", lambda x: gc.cat([x, x * 2], 0), (4, 5)),
    ("stack", lambda x: gc.stack([x, x * 2], 1), (4, 5)),
    ("slices", lambda x: x[:, 1:3, ::2], (4, 5)),
    ("slice_int_none", lambda x: x[:, 1, None, 2:], (4, 5)),
    ("slice_batch", lambda x: x[1:], (4,)),
    ("ellipsis_last", lambda x: x[..., -1], (4, 5)),
    ("narrow_split_chunk", lambda x: x.narrow(1, 1, 2) + x.split(2, 1)[1] + x.chunk(2, 1)[0],
     (4, 5)),
    ("unbind", lambda x: x.unbind(1)[2], (4, 5)),
    ("index_tensor", lambda x: x[:, gc.tensor([0, 2, 3])] + x[:, [1, 1, 0], :], (4, 5)),
    ("index_two_tensors", lambda x: x[:, gc.tensor([0, 2]), gc.tensor([1, 3])], (4, 5)),
    ("index_select", lambda x: x.index_select(2, gc.tensor([4, 0])), (4, 5)),
    ("unfold", lambda x: x.unfold(2, 2, 1), (4, 5)),
    ("flip_roll", lambda x: x.flip(1, 2) + x.flip(-1) + x.roll(1, 2), (4, 5)),
    ("mean_dims", lambda x: x.mean((1, 2), keepdim=True), (4, 5)),
    ("mean_all", lambda x: x.mean(), (4, 5)),
    ("mean_batch", lambda x: x.mean(0), (4, 5)),
    ("sum", lambda x: x.sum(1) + x.sum(), (4, 5)),
    ("sum_batch", lambda x: x.sum(0), (4, 5)),
    ("max_min_with_dim", lambda x: x.max(1)[0] + x.min(2).values.sum(1, keepdim=True), (4, 5)),
    ("max_indices", lambda x: x.max(1).indices, (4, 5)),
    ("amax_amin", lambda x: x.amax((0, 2)) + x.amin(), (4, 5)),
    ("argmax_argmin", lambda x: x.argmax(1) + x.argmin(1), (4, 5)),
    ("argmax_all", lambda x: x.argmax(), (4, 5)),
    ("var_std", lambda x: x.var(1) + x.std(1, keepdim=True).squeeze(1), (4, 5)),
    ("logsumexp_norm", lambda x: x.logsumexp(1) + x.norm(dim=1), (4, 5)),
    ("scalar_arithmetic", lambda x: (2 - x) * 3 / 4 + 1.5 - x / 2 + 2 / (x.abs() + 1)
     + x ** 2 + 2 ** x + x ** 3, (4, 5)),
    ("broadcast_arithmetic", lambda x: x + x[:, :1] * x[:1] - x.mean(0) / (x[0] + 5), (4, 5)),
    ("divide_by_batch_size", lambda x: x / x.shape[0] + x.sum(0) / len(x), (4, 5)),
    ("matmul_batched", lambda x: x @ x.transpose(1, 2), (4, 5)),
    ("matmul_matrix", lambda x: x @ MATRIX.t(), (4, 5)),
    ("matmul_vector", lambda x: x @ gc.ones(5), (4, 5)),
    ("bmm_baddbmm", lambda x: gc.bmm(x, x.transpose(1, 2)) + x.baddbmm(x, x.mT[:, :, :4],
                                                                       alpha=0.5)[:, :, :1],
     (4, 4)),
    ("softmax_methods", lambda x: x.softmax(0) + x.log_softmax(-1), (4, 5)),
    ("math", lambda x: x.exp() + x.abs().log() + x.abs().sqrt() + (x.abs() + 0.1).rsqrt()
     + x.abs().log1p() + x.expm1() + x.abs().log2() + x.abs().log10() + x.erf() + x.sign()
     + x.square() + (x.abs() + 0.5).reciprocal() + x.neg(), (4, 5)),
    ("rounding", lambda x: (x * 3).floor() + (x * 3).ceil() + (x * 3).round()
     + (x * 3).trunc(), (4, 5)),
    ("clamp", lambda x: x.clamp(-0.5, 0.5) + x.clamp(min=0) + x.clamp(max=0.1)
     + x.clamp(x * 0.5, x * 0.5 + 0.1), (4, 5)),
    ("maximum_minimum", lambda x: gc.maximum(x, x * 0.5) + gc.minimum(x, -x), (4, 5)),
    ("where_masked_fill", lambda x: gc.where(x > 0, x, x * 0.1) + x.masked_fill(x < -1, 0.0),
     (4, 5)),
    ("comparisons_logic", lambda x: ((x > 0) & (x < 1)) | (x == 0) ^ (x != x) | ~(x >= 0.5)
     | (x <= -0.5), (4, 5)),
    ("nan_tests", lambda x: x.isnan() | x.isinf() | ~x.isfinite(), (4, 5)),
    ("integer_division", lambda x: (x * 10).long() // 3 + (x * 10).long() % 3
     - (x * 10).long() // -3 + (x * 10).long().remainder((x * 4).long().abs() + 1), (4, 5)),
    ("float_floor_division", lambda x: x // 0.3 + x % 0.3 + x.remainder(x.abs() + 0.2)
     + x // (x.abs() + 0.1), (4, 5)),
    ("integer_tensors", lambda x: (x > 0).long() * 3 + 1 + (x * 5).int().abs(), (4, 5)),
    ("bitwise_integers", lambda x: ((x * 9).long() & 5) | ((x * 7).long() ^ 3) | ~(x * 2).long(),
     (4, 5)),
    ("casts", lambda x: (x * 5).int().float() + (x > 0).float() + (x * 5).long().to(gc.float32),
     (4, 5)),
    ("integer_relu", lambda x: (x * 5).long().relu(), (4, 5)),
    ("inplace_chain", lambda x: x.clone().add_(1).mul_(2).relu_().sub_(0.5).div_(3), (4, 5)),
    ("inplace_operators", lambda x: _iadd(x * 2, x), (4, 5)),
    ("constants_made_in_forward", lambda x: x * gc.tensor([1., 2, 3, 4, 5]) + gc.arange(5)
     + gc.ones(5) * 2, (4, 5)),
    ("new_zeros_batch", lambda x: x + x.new_zeros(x.shape), (4, 5)),
    ("detach_and_data", lambda x: x.detach() * 2 + x.data, (4, 5)),
    ("dropout_functional_eval", lambda x: F.dropout(x, 0.5, training=False), (4, 5)),
]


def _iadd(y, x):
    y += x
    y *= 2
    y -= 1
    y /= 3
    return y


@pytest.mark.parametrize("name, fn, shape", METHODS, ids=[c[0] for c in METHODS])
def test_tensor_methods_in_forward(name, fn, shape):
    gc.manual_seed(9)
    check_export(Fn(fn), randn(*shape), batches=(2, 3, 1))


OLD_OPSET_METHODS = [c for c in METHODS if c[0] != "bitwise_integers"]   # BitwiseAnd: 18


@pytest.mark.parametrize("name, fn, shape", OLD_OPSET_METHODS,
                         ids=[c[0] for c in OLD_OPSET_METHODS])
def test_tensor_methods_at_opset_11(name, fn, shape):
    gc.manual_seed(9)
    check_export(Fn(fn), randn(*shape), batches=(2, 3), opset_version=11)


def test_bitwise_ops_on_integers_need_opset_18():
    with pytest.raises(UnsupportedOperatorError, match="BitwiseAnd on integers needs "
                                                       "opset_version >= 18"):
        gc.onnx.export(Fn(lambda x: (x * 9).long() & 5), gc.randn(2, 3), None,
                       opset_version=17)


def test_matmul_over_a_dynamic_batch_is_one_node():
    """Batched matmul runs one product per batch element in gpucnn; the export is one
    MatMul, not a loop that froze the traced batch size."""
    proto = check_export(Fn(lambda x: x @ x.transpose(1, 2)), randn(4, 5), batches=(2, 7))
    assert ops(proto) == ["Transpose", "MatMul"]


def test_inplace_relu_adds_no_node():
    assert ops(check_export(nn.ReLU(inplace=True), randn(4))) == ["Relu"]


# ================================================================ small networks

class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1))
        self.c = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(3, 2, 1))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 3),
                                  nn.LogSoftmax(1))

    def forward(self, x):
        return self.head(gc.cat([self.a(x), self.b(x), self.c(x)], 1))


class TinyUNet(nn.Module):
    """Down, up by a stride-free trick (a pad and a depthwise conv), skip by cat and crop."""

    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ELU(), nn.AvgPool2d(2))
        self.mid = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.out = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        low = self.mid(self.down(x))
        wide = F.pad(low, (0, low.shape[-1], 0, low.shape[-2]), mode="replicate")
        return self.out(gc.cat([x, F.gelu(wide)[:, :, :x.shape[2], :x.shape[3]]], 1)).sigmoid()


class ChannelAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q, self.k = nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        q = self.q(x).flatten(2)
        k = self.k(x).flatten(2).transpose(1, 2)
        weights = (q @ k / (h * w) ** 0.5).softmax(-1)
        return (weights @ x.flatten(2)).view(n, c, h, w) + x


@pytest.mark.parametrize("build, shape", [
    (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), randomize_batch_norms(ResidualBlock(4))),
     (3, 9, 9)),
    (Inception, (3, 8, 8)),
    (TinyUNet, (2, 8, 10)),
    (lambda: ChannelAttention(3), (3, 5, 4)),
    (lambda: nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8),
                           nn.SiLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                           nn.Conv2d(8, 4, 1), nn.Dropout2d(0.2), nn.AdaptiveMaxPool2d((2, 3)),
                           nn.Flatten(), nn.Dropout(), nn.Linear(24, 5), nn.Softmax(-1)),
     (3, 15, 13)),
], ids=["residual", "inception", "unet", "attention", "mobile"])
def test_small_networks(build, shape):
    gc.manual_seed(10)
    check_export(build(), randn(*shape), batches=(2, 1, 3), tol=2 * TOL)


# ================================================================ export's options

def test_export_params_false_makes_parameters_inputs():
    gc.manual_seed(11)
    model = randomize_batch_norms(get_model("bn_cnn")).eval()
    x = gc.randn(2, 1, 28, 28)
    proto = gc.onnx.export(model, x, None, export_params=False, input_names=["image"])
    onnx.checker.check_model(proto, full_check=True)
    names = [i.name for i in proto.graph.input]
    assert names[0] == "image" and "0.weight" in names and "1.running_var" in names
    assert not {i.name for i in proto.graph.initializer} & set(names)
    state = model.state_dict()
    feeds = {name: state[name].numpy() for name in names[1:]}
    feeds["image"] = x.numpy()
    with gc.no_grad():
        assert_close(session(proto).run(None, feeds)[0], model(x).numpy(), TOL)


def test_keep_initializers_as_inputs_lets_weights_be_overridden():
    gc.manual_seed(12)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    x = gc.randn(2, 4)
    proto = gc.onnx.export(model, x, None, keep_initializers_as_inputs=True, input_names=["x"])
    listed = [i.name for i in proto.graph.input]
    assert "0.weight" in listed and "BatchNormalization" in ops(proto)   # not folded away
    other = gc.randn(3, 4)
    got = session(proto).run(None, {"x": x.numpy(), "0.weight": other.numpy()})[0]
    with gc.no_grad():
        model[0].weight.copy_(other)
        assert_close(got, model(x).numpy(), TOL)


def test_written_to_a_path_with_and_without_external_data(tmp_path):
    gc.manual_seed(13)
    model = get_model("lenet5").eval()
    x = gc.randn(3, 1, 28, 28)
    with gc.no_grad():
        expected = model(x).numpy()
    gc.onnx.export(model, x, tmp_path / "split.onnx", input_names=["x"])
    assert sorted(os.listdir(tmp_path)) == ["split.onnx", "split.onnx.data"]
    assert os.path.getsize(tmp_path / "split.onnx") < 20_000 < os.path.getsize(
        tmp_path / "split.onnx.data")
    onnx.checker.check_model(str(tmp_path / "split.onnx"), full_check=True)
    gc.onnx.export(model, x, str(tmp_path / "one.onnx"), input_names=["x"],
                   external_data=False)
    assert not (tmp_path / "one.onnx.data").exists()
    for name in ("split.onnx", "one.onnx"):
        runner = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        assert_close(runner.run(None, {"x": x.numpy()})[0], expected, TOL)


def test_written_to_file_objects():
    model, x = nn.Linear(3, 2).eval(), gc.randn(2, 3)
    buffer = io.BytesIO()
    with pytest.warns(DeprecationWarning, match="BytesIO object is deprecated"):
        returned = gc.onnx.export(model, x, buffer)
    assert buffer.getvalue() == returned.SerializeToString()

    class Sink:
        def __init__(self):
            self.chunks = []

        def write(self, data):
            self.chunks.append(data)

    sink = Sink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.onnx.export(model, x, sink)
    loaded = onnx.load_from_string(b"".join(sink.chunks))
    assert [i.name for i in loaded.graph.initializer] == ["weight", "bias"]


def test_names_and_dynamic_axes_forms():
    class Two(nn.Module):
        def forward(self, image, mask, scale=1.0, extra=None):
            return image * scale + mask, (image - mask).sum(1), extra * 2

    a, b, extra = gc.randn(3, 4), gc.randn(3, 4), gc.randn(5)
    proto = gc.onnx.export(Two(), (a, b, {"scale": 2.0, "extra": extra}), None,
                           output_names=["y"],
                           dynamic_axes={"image": {0: "batch"}, "mask": {0: "batch"},
                                         "extra": [0], "output_1": [0]})

    def dims(info):
        return [d.dim_param or d.dim_value for d in info.type.tensor_type.shape.dim]

    assert [(i.name, dims(i)) for i in proto.graph.input] == [
        ("image", ["batch", 4]), ("mask", ["batch", 4]), ("extra", ["extra_dynamic_axes_1"])]
    assert [(o.name, dims(o)) for o in proto.graph.output] == [
        ("y", ["batch", 4]), ("output_1", ["output_1_dynamic_axes_1"]),
        ("output_2", ["extra_dynamic_axes_1"])]
    runner = session(proto)
    a, b, extra = gc.randn(6, 4), gc.randn(6, 4), gc.randn(2)
    y, s, e = runner.run(None, {"image": a.numpy(), "mask": b.numpy(), "extra": extra.numpy()})
    assert_close(y, (a * 2.0 + b).numpy(), TOL)   # scale=2.0 was fixed into the graph
    assert_close(s, (a - b).sum(1).numpy(), TOL)
    assert_close(e, (extra * 2).numpy(), TOL)
    same = gc.onnx.export(Two(), (a, b), None, kwargs={"scale": 2.0, "extra": extra})
    assert [i.name for i in same.graph.input] == ["image", "mask", "extra"]


def test_an_input_returned_as_is_and_twice():
    proto = gc.onnx.export(Fn(lambda x: (x, x * 2, x)), gc.randn(2, 3), None,
                           input_names=["x"], output_names=["a", "b", "c"])
    x = gc.randn(2, 3)
    a, b, c = session(proto).run(None, {"x": x.numpy()})
    assert np.array_equal(a, x.numpy()) and np.array_equal(c, x.numpy())
    assert_close(b, (x * 2).numpy(), TOL)


def test_export_changes_nothing_in_the_model():
    gc.manual_seed(14)
    model = get_model("bn_cnn")
    model.train()
    model[1].eval()
    modes = [m.training for m in model.modules()]
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    rng = gc.get_rng_state()
    for mode in TrainingMode:
        gc.onnx.export(model, gc.randn(2, 1, 28, 28), None, training=mode)
        assert [m.training for m in model.modules()] == modes
        assert all(np.array_equal(v.numpy(), state[k]) for k, v in model.state_dict().items())
    gc.set_rng_state(rng)


def test_modes_preserve_and_training():
    """PRESERVE exports what the model does in its mode (here a BatchNorm in training: the
    batch's statistics); TRAINING exports dropout as random ONNX dropout."""
    gc.manual_seed(15)
    bn = nn.BatchNorm2d(3).train()
    proto = gc.onnx.export(bn, gc.randn(4, 3, 5, 5), None, training=TrainingMode.PRESERVE,
                           input_names=["x"], dynamic_axes={"x": {0: "n"}})
    x = gc.randn(6, 3, 5, 5)
    expected = F.batch_norm(x, None, None, bn.weight, bn.bias, training=True).numpy()
    assert_close(session(proto).run(None, {"x": x.numpy()})[0], expected, TOL)
    dropout = nn.Sequential(nn.Dropout(0.5), nn.Dropout2d(0.5))
    proto = gc.onnx.export(dropout, gc.randn(4, 3, 8, 8), None, input_names=["x"],
                           training=TrainingMode.TRAINING)
    x = gc.rand(4, 3, 8, 8) + 1.0
    y = session(proto).run(None, {"x": x.numpy()})[0]
    kept = y != 0
    assert 0.1 < kept.mean() < 0.4   # about a quarter survives both
    assert_close(y[kept], x.numpy()[kept] * 4, TOL)
    assert ops(gc.onnx.export(dropout, gc.randn(4, 3, 8, 8), None)) == ["Identity"]


def test_is_in_onnx_export():
    seen = []

    def forward(x):
        seen.append(gc.onnx.is_in_onnx_export())
        return x * 2

    assert not gc.onnx.is_in_onnx_export()
    gc.onnx.export(Fn(forward), gc.randn(2, 2), None)
    assert seen and all(seen) and not gc.onnx.is_in_onnx_export()


def test_a_plain_function_exports():
    proto = gc.onnx.export(lambda x, y: (x @ y).relu(), (gc.randn(2, 3), gc.randn(3, 4)), None)
    assert [i.name for i in proto.graph.input] == ["x", "y"] and ops(proto) == ["MatMul", "Relu"]


def test_verbose_prints_the_graph(capsys):
    gc.onnx.export(nn.ReLU(), gc.randn(2), None, verbose=True)
    assert "Relu" in capsys.readouterr().out


def test_importing_gpucnn_does_not_import_onnx():
    code = "import sys, gpucnn; import gpucnn.onnx; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ================================================================ bad arguments

def _export(fn=lambda x: x * 2, x=None, **kwargs):
    return gc.onnx.export(Fn(fn), gc.randn(2, 3) if x is None else x, None, **kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"input_names": ["x"], "dynamic_axes": {"y": {0: "batch"}}}, ValueError,
     "dynamic_axes names 'y', which is neither an input \\(x\\) nor an output \\(output\\)"),
    ({"dynamic_axes": [0]}, TypeError, "dynamic_axes must be a dict"),
    ({"input_names": ["x"], "dynamic_axes": {"x": {2: "b"}}}, ValueError,
     "dynamic_axes\\['x'\\] names axis 2, but 'x' has 2 dimension"),
    ({"input_names": ["x"], "dynamic_axes": {"x": {0: 3}}}, TypeError,
     "must be an axis name"),
    ({"input_names": ["x"], "dynamic_axes": {"x": {"0": "b"}}}, TypeError, "axes must be ints"),
    ({"input_names": ["x"], "dynamic_axes": {"x": "b"}}, TypeError,
     "dynamic_axes\\['x'\\] must be a dict"),
    ({"output_names": ["y"], "dynamic_axes": {"y": {1: "c"}, }}, None, None),
    ({"opset_version": 9}, ValueError, "opset_version 9 is not supported; gpucnn writes "
                                       "opsets 11 to 23"),
    ({"opset_version": 24}, ValueError, "opset_version 24 is not supported"),
    ({"opset_version": "20"}, TypeError, "opset_version must be an int"),
    ({"input_names": ["a", "b"]}, ValueError, "input_names names 2 inputs"),
    ({"input_names": "x"}, TypeError, "input_names must be a list of strings"),
    ({"output_names": ["a", "b"]}, ValueError, "output_names names 2 outputs"),
    ({"input_names": ["a"], "output_names": ["a"]}, ValueError,
     "distinct from each other and from the input names"),
    ({"training": "eval"}, ValueError, "training must be a TrainingMode"),
    ({"export_params": "yes"}, TypeError, "export_params must be a bool"),
    ({"dynamic_shapes": {"x": {0: "b"}}}, NotImplementedError,
     "dynamic_shapes=.* is not supported by gpucnn's exporter; give dynamic_axes"),
    ({"verify": True}, NotImplementedError, "verify=True is not supported"),
    ({"custom_opsets": {"x": 1}}, NotImplementedError, "custom_opsets"),
    ({"operator_export_type": gc.onnx.OperatorExportTypes.ONNX_ATEN}, NotImplementedError,
     "operator_export_type"),
])
def test_bad_arguments(kwargs, error, match):
    if error is None:   # an output axis may be named dynamic: accepted
        proto = _export(**kwargs)
        assert proto.graph.output[0].type.tensor_type.shape.dim[1].dim_param == "c"
        return
    with pytest.raises(error, match=match):
        _export(**kwargs)


@pytest.mark.parametrize("args, error, match", [
    ("x", TypeError, "args must be a Tensor or a tuple of arguments, got str"),
    (np.ones(3), TypeError, "args must be a Tensor or a tuple of arguments, got ndarray"),
    ((3, 4.0), ValueError, "args hold no tensor"),
])
def test_bad_args(args, error, match):
    with pytest.raises(error, match=match):
        gc.onnx.export(nn.ReLU(), args, None)


def test_bad_model_and_destination():
    with pytest.raises(TypeError, match="model must be a gpucnn.nn.Module or a function"):
        gc.onnx.export(3, gc.randn(2), None)
    with pytest.raises(TypeError, match="f must be a path, a binary file object or None, "
                                        "got int"):
        gc.onnx.export(nn.ReLU(), gc.randn(2), 3)
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        gc.onnx.export(nn.ReLU(), gc.randn(2), None, kwargs=[1])
    with pytest.raises(OnnxExporterError, match="returned no tensor"):
        gc.onnx.export(Fn(lambda x: None), gc.randn(2), None)


def test_dynamic_axis_checks():
    with pytest.raises(ValueError, match="has size 0 in args"):
        _export(x=gc.randn(0, 3), input_names=["x"], dynamic_axes={"x": [0]})
    two = lambda a, b: a + b   # noqa: E731
    with pytest.raises(ValueError, match="axis 'n' has size 2 in input 'a' but 3 in input 'b'"):
        gc.onnx.export(two, (gc.randn(2, 3), gc.randn(3, 3)), None,
                       dynamic_axes={"a": {0: "n"}, "b": {0: "n"}})
    with pytest.raises(OnnxExporterError, match="fails when the dynamic axis 'a_dynamic_axes_1'"
                                                " is 4 instead of 2.*needs one name"):
        gc.onnx.export(two, (gc.randn(2, 3), gc.randn(2, 3)), None,
                       dynamic_axes={"a": [0], "b": [0]})


# ================================================================ what cannot be exported

class Doubling(gc.autograd.Function):
    name = "doubling"

    def forward(self, x):
        return x * 2


def test_an_op_without_translation_is_named():
    with pytest.raises(UnsupportedOperatorError, match="'.*Doubling \\(doubling\\)' to ONNX "
                                                       "is not supported.*translations.py"):
        _export(lambda x: Doubling.apply(x))
    with pytest.raises(UnsupportedOperatorError, match="linalg.SVD"):
        _export(lambda x: gc.linalg.svdvals(x))


def test_an_unsupported_op_in_dead_code_does_not_matter():
    proto = _export(lambda x: (Doubling.apply(x), x + 1)[1])
    assert ops(proto) == ["Add"]


def test_python_numbers_from_tensor_values_are_refused():
    with pytest.raises(OnnxExporterError, match="MulScalar.*depends on the input values.*"
                                                "\\.item\\(\\)"):
        _export(lambda x: x * x.sum().item())
    x = gc.tensor([[1.0, 2.0, -3.0]])   # the second trace sees the values moved: x[0, 0] < 0
    with pytest.raises(OnnxExporterError, match="ran other ops for other input values.*"
                                                "Python control flow on tensor values"):
        _export(lambda x: x * 2 if x[0, 0].item() > 0 else x - 1, x=x)
    with pytest.raises(OnnxExporterError, match="Add.*depends on the input values.*random"):
        _export(lambda x: x + gc.randn(2, 3))


def test_values_that_follow_a_dynamic_axis_only_where_exportable():
    with pytest.raises(OnnxExporterError, match="ran other ops with the dynamic axis 'b' of "
                                                "size 4 instead of 2.*Python loop"):
        _export(lambda x: gc.stack([row * 2 for row in x]), input_names=["x"],
                dynamic_axes={"x": {0: "b"}})
    with pytest.raises(OnnxExporterError, match="Reshape.*changes with the dynamic axes 'h', "
                                                "'w'"):
        gc.onnx.export(nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten()),
                       gc.randn(1, 2, 7, 7), None, input_names=["x"],
                       dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    with pytest.raises(OnnxExporterError, match="AdaptiveAvgPool2d.*follows the dynamic axis "
                                                "'h'.*export that axis static"):
        gc.onnx.export(nn.AdaptiveAvgPool2d(3), gc.randn(1, 2, 7, 7), None, input_names=["x"],
                       dynamic_axes={"x": {2: "h", 3: "w"}})


def test_a_fully_convolutional_model_takes_any_size():
    gc.manual_seed(16)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Conv2d(3, 3, 1), nn.AdaptiveAvgPool2d(1)).eval()
    proto = gc.onnx.export(model, gc.randn(1, 2, 8, 8), None, input_names=["x"],
                           dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    x = gc.randn(3, 2, 13, 6)
    with gc.no_grad():
        assert_close(session(proto).run(None, {"x": x.numpy()})[0], model(x).numpy(), TOL)


def test_a_tensor_changed_behind_the_tracers_back_is_refused():
    def zeroed(x):
        y = x * 2
        y.zero_()
        return y + 1

    with pytest.raises(OnnxExporterError, match="changed in place by an op the exporter does "
                                                "not see"):
        _export(zeroed)

    def written(x):
        y = x * 2
        y[:, 0] = 0
        return y

    with pytest.raises(OnnxExporterError, match="changed in place"):
        _export(written)

    def stale_view(x):
        y = x * 2
        view = y[:, :2]
        y.relu_()   # the view's values change with y's: it is stale now
        return view + 1

    with pytest.raises(OnnxExporterError, match="through another view of its memory"):
        _export(stale_view)


def test_an_export_inside_an_export_is_refused():
    def forward(x):
        gc.onnx.export(nn.ReLU(), x, None)
        return x

    with pytest.raises(OnnxExporterError, match="called inside a forward pass"):
        _export(forward)
