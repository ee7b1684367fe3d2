"""Memory formats against PyTorch: the format objects, is_contiguous(memory_format=) for the
strides gpucnn holds, contiguous / to / clone / Module.to with memory_format= (values, shapes,
whether a new tensor comes back, PyTorch's errors). gpucnn keeps NCHW: a converted tensor is
C-contiguous (its stride() says so), where PyTorch's would have channels-last strides."""
import numpy as np
import pytest
import torch

import gpucnn as gc
from tests.helpers import assert_close, rand

FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


def _c_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


@pytest.mark.parametrize("name", FORMATS)
def test_formats_are_objects_printed_as_torchs(name):
    ours, theirs = getattr(gc, name), getattr(torch, name)
    assert isinstance(ours, gc.memory_format)
    assert repr(ours) == repr(theirs).replace("torch.", "gpucnn.") == str(ours)
    assert ours == getattr(gc, name) and all(ours != getattr(gc, other)
                                             for other in FORMATS if other != name)


# Tensors built the same way in both libraries: (name, build(module, data)).
LAYOUTS = [
    ("nchw", lambda m, d: m.tensor(d)),
    ("one_channel", lambda m, d: m.tensor(d[:, :1].copy())),
    ("one_pixel", lambda m, d: m.tensor(d[:, :, :1, :1].copy())),
    ("nhwc_permuted", lambda m, d: m.tensor(d.transpose(0, 2, 3, 1).copy()).permute(0, 3, 1, 2)),
    ("transposed_hw", lambda m, d: m.tensor(d).transpose(2, 3)),
    ("sliced", lambda m, d: m.tensor(d)[:, 1:]),
    ("three_d", lambda m, d: m.tensor(d[0])),
    ("five_d", lambda m, d: m.tensor(d).unsqueeze(2)),
    ("ndhwc_permuted", lambda m, d: m.tensor(d).unsqueeze(2).permute(0, 2, 3, 4, 1)
     .contiguous().permute(0, 4, 1, 2, 3)),
]


@pytest.mark.parametrize("layout,build", LAYOUTS, ids=[c[0] for c in LAYOUTS])
@pytest.mark.parametrize("name", FORMATS)
def test_is_contiguous_answers_as_torch_for_the_same_strides(layout, build, name):
    data = rand(np.random.default_rng(1), 2, 3, 4, 5)
    ours, theirs = build(gc, data), build(torch, data)
    assert ours.stride() == theirs.stride()           # the same layout on both sides
    assert ours.is_contiguous(memory_format=getattr(gc, name)) == \
        theirs.is_contiguous(memory_format=getattr(torch, name))


@pytest.mark.parametrize("layout,build", LAYOUTS, ids=[c[0] for c in LAYOUTS])
@pytest.mark.parametrize("name", ["contiguous_format", "channels_last", "channels_last_3d"])
@pytest.mark.parametrize("method", ["contiguous", "to", "clone"])
def test_conversions_give_torchs_values_in_nchw(layout, build, name, method):
    """Values, shape, errors and aliasing as torch's (a new tensor where torch makes one);
    the layout gpucnn holds afterwards is C-contiguous (or the input's own, where torch
    returns the input)."""
    data = rand(np.random.default_rng(2), 2, 3, 4, 5)
    ours, theirs = build(gc, data), build(torch, data)
    outcomes = []
    for x, m in ((ours, gc), (theirs, torch)):
        try:
            result = getattr(x, method)(memory_format=getattr(m, name))
        except RuntimeError as error:
            outcomes.append(("error", str(error).split(" (")[0]))
        else:
            outcomes.append(("ok", result, result is x))
    assert outcomes[0][0] == outcomes[1][0], outcomes
    if outcomes[0][0] == "error":
        assert outcomes[0][1] == outcomes[1][1]       # "required rank 4 tensor to use ..."
        return
    (_, got, got_is_input), (_, expected, expected_is_input) = outcomes
    assert got_is_input == expected_is_input
    assert got.shape == tuple(expected.shape)
    assert_close(got.numpy(), expected.numpy(), 1e-7, "values")
    if not got_is_input:
        assert got.stride() == _c_strides(tuple(got.shape)) and got.is_contiguous()
    shared = []   # does changing the result change the input? (a copy or the input itself)
    for result, x in ((got, ours), (expected, theirs)):
        before = x.numpy().copy()
        result.add_(1)
        shared.append(not np.array_equal(x.numpy(), before))
    assert shared[0] == shared[1]


def test_preserve_format_follows_torch():
    data = rand(np.random.default_rng(3), 2, 3, 4, 5)
    x, t = gc.tensor(data), torch.tensor(data)
    assert x.contiguous(memory_format=gc.preserve_format) is x
    assert t.contiguous(memory_format=torch.preserve_format) is t
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported by the "
                                           "contiguous operator"):
        x.transpose(2, 3).contiguous(memory_format=gc.preserve_format)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
        t.transpose(2, 3).contiguous(memory_format=torch.preserve_format)
    assert x.to(memory_format=gc.preserve_format) is x
    assert x.to(gc.float32, memory_format=gc.preserve_format) is x
    assert x.to("cpu", memory_format=gc.channels_last) is not x
    moved = x.to("cpu", gc.float32, memory_format=gc.contiguous_format)
    assert moved is x
    clone = x.clone(memory_format=gc.preserve_format)
    assert clone is not x and np.array_equal(clone.numpy(), data)
    assert np.array_equal(gc.clone(x, memory_format=gc.channels_last).numpy(), data)


def test_bad_memory_format_arguments_are_torchs_errors():
    x = gc.tensor(rand(np.random.default_rng(4), 2, 3, 4, 5))
    for call in (lambda: x.is_contiguous(memory_format="channels_last"),
                 lambda: x.contiguous(memory_format=1),
                 lambda: x.to(memory_format="channels_last"),
                 lambda: x.clone(memory_format=torch.channels_last),
                 lambda: gc.nn.Conv2d(3, 4, 3).to(memory_format="channels_last")):
        with pytest.raises(TypeError, match="argument 'memory_format' must be "
                                            "gpucnn.memory_format"):
            call()
    for call in (lambda: x.is_contiguous(gc.channels_last), lambda: x.contiguous(gc.channels_last),
                 lambda: x.clone(gc.channels_last)):
        with pytest.raises(TypeError, match="positional argument"):
            call()
    for t in (x[0], gc.zeros(2, 3, 4, 5, 6)):
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last "
                                               "format"):
            t.contiguous(memory_format=gc.channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        x.to(memory_format=gc.channels_last_3d)


def test_gradient_flows_through_a_conversion():
    data = rand(np.random.default_rng(5), 2, 3, 4, 5)
    upstream = rand(np.random.default_rng(6), 2, 3, 4, 5)
    grads = []
    for m, x in ((gc, gc.tensor(data, requires_grad=True)),
                 (torch, torch.tensor(data, requires_grad=True))):
        y = (x * 2).contiguous(memory_format=m.channels_last).to(memory_format=m.channels_last)
        (y.clone(memory_format=m.contiguous_format) * 3).backward(m.tensor(upstream))
        grads.append(x.grad.numpy())
    assert_close(grads[0], grads[1], 1e-7, "gradient")


def test_module_to_channels_last_keeps_values_and_checks_ranks_as_torch():
    gc.manual_seed(0)
    ours = gc.nn.Sequential(gc.nn.Conv2d(3, 4, 3, padding=1), gc.nn.BatchNorm2d(4),
                            gc.nn.ReLU(inplace=True), gc.nn.Flatten(), gc.nn.Linear(4 * 25, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(inplace=True), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 25, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert ours.to(memory_format=gc.channels_last) is ours
    theirs.to(memory_format=torch.channels_last)
    weight = ours[0].weight
    assert weight.stride() == _c_strides(tuple(weight.shape))   # gpucnn keeps NCHW
    assert theirs[0].weight.is_contiguous(memory_format=torch.channels_last)
    data = rand(np.random.default_rng(7), 2, 3, 5, 5)
    got = ours(gc.tensor(data).to(memory_format=gc.channels_last))
    expected = theirs(torch.tensor(data).to(memory_format=torch.channels_last))
    assert_close(got.detach().numpy(), expected.detach().numpy(), 1e-5, "forward")
    for m, model in ((gc, ours), (torch, theirs)):
        with pytest.raises(RuntimeError, match="required rank 5 tensor to use "
                                               "channels_last_3d format"):
            model.to(memory_format=m.channels_last_3d)
    assert ours.to("cpu", memory_format=gc.contiguous_format) is ours
    assert gc.nn.Linear(3, 2).to(memory_format=gc.channels_last_3d) is not None   # no 4-D/5-D
