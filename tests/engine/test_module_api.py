"""Module's PyTorch API: containers, buffers, traversal, re-assignment order, state_dict and
load_state_dict(strict=False). Each test builds the same structure in gpucnn and torch and
compares what a script can observe (names, order, reprs, returned key lists)."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gpucnn as gc


def _both(build):
    return build(gc), build(torch)


def _keys(module):
    return list(module.state_dict().keys())


def test_sequential_indexing_slicing_and_mutation_match_torch():
    def build(m):
        seq = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 5), m.nn.Tanh())
        seq.append(m.nn.Linear(5, 2))
        seq.insert(1, m.nn.Identity())
        del seq[2]
        seq.extend([m.nn.Sigmoid()])
        return seq
    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)
    assert _keys(ours) == _keys(theirs)
    assert len(ours) == len(theirs) == 6
    assert type(ours[1:3]).__name__ == "Sequential" and len(ours[1:3]) == 2
    assert repr(ours[-1]) == repr(theirs[-1]) == "Sigmoid()"
    with pytest.raises(IndexError):
        ours[6]


def test_sequential_from_an_ordered_dict_keeps_the_names():
    def build(m):
        return m.nn.Sequential(OrderedDict(conv=m.nn.Conv2d(1, 2, 3), act=m.nn.ReLU(),
                                           flat=m.nn.Flatten()))
    ours, theirs = _both(build)
    assert _keys(ours) == _keys(theirs) == ["conv.weight", "conv.bias"]
    assert [name for name, _ in ours.named_children()] == ["conv", "act", "flat"]


def test_module_list_and_dict_register_their_children():
    def build(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = m.nn.ModuleList([m.nn.Linear(2, 2) for _ in range(3)])
                self.heads = m.nn.ModuleDict({"b": m.nn.Linear(2, 1), "a": m.nn.Linear(2, 3)})
                self.blocks.append(m.nn.Linear(2, 2))
                self.heads["c"] = m.nn.Identity()

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.heads["a"](x)
        return Net()
    ours, theirs = _both(build)
    assert _keys(ours) == _keys(theirs)
    assert list(ours.heads.keys()) == ["b", "a", "c"]
    assert len(ours.blocks) == 4 and "a" in ours.heads
    assert repr(ours) == repr(theirs)
    assert ours(gc.ones(5, 2)).shape == (5, 3)


def test_reassigning_a_submodule_keeps_its_position():
    def build(m):
        net = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU(), m.nn.Linear(3, 1))
        net[0] = m.nn.Linear(2, 3, bias=False)
        net.add_module("1", m.nn.Tanh())
        return net
    ours, theirs = _both(build)
    assert _keys(ours) == _keys(theirs) == ["0.weight", "2.weight", "2.bias"]
    assert repr(ours) == repr(theirs)


def test_buffers_persistent_and_not():
    def build(m):
        net = m.nn.Linear(2, 2)
        net.register_buffer("steps", m.zeros(3))
        net.register_buffer("scratch", m.ones(2), persistent=False)
        net.register_buffer("empty", None)
        return net
    ours, theirs = _both(build)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert _keys(ours) == _keys(theirs) == ["weight", "bias", "steps"]
    assert not ours.steps.requires_grad
    ours.steps = gc.full((3,), 2.0)            # assigning a tensor to a buffer name keeps it one
    assert "steps" in dict(ours.named_buffers())
    np.testing.assert_array_equal(ours.state_dict()["steps"].numpy(), [2, 2, 2])
    with pytest.raises(TypeError):
        ours.register_buffer("bad", [1, 2])
    with pytest.raises(KeyError):
        ours.register_buffer("weight", gc.zeros(2))


def test_traversal_matches_torch():
    def build(m):
        inner = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.ReLU())
        return m.nn.Sequential(inner, m.nn.Linear(2, 1), inner)   # shared child: listed once
    ours, theirs = _both(build)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.get_submodule("0.1") is ours[0][1]


def test_apply_requires_grad_zero_grad():
    net = gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.Linear(2, 1))
    seen = []
    assert net.apply(lambda module: seen.append(type(module).__name__)) is net
    assert seen == ["Linear", "Linear", "Sequential"]   # children first, as PyTorch
    net(gc.ones(4, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net(gc.ones(4, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_load_state_dict_strict_false_reports_missing_and_unexpected_keys():
    def build(m):
        return m.nn.Sequential(m.nn.Linear(2, 2), m.nn.Linear(2, 1))
    ours, theirs = _both(build)
    state = {k: v for k, v in theirs.state_dict().items() if k != "1.bias"}
    state["extra.weight"] = torch.zeros(1)
    result_theirs = theirs.load_state_dict(state, strict=False)
    result_ours = ours.load_state_dict({k: gc.tensor(v.numpy()) for k, v in state.items()},
                                       strict=False)
    assert result_ours.missing_keys == result_theirs.missing_keys == ["1.bias"]
    assert result_ours.unexpected_keys == result_theirs.unexpected_keys == ["extra.weight"]
    missing, unexpected = result_ours
    assert (missing, unexpected) == (["1.bias"], ["extra.weight"])
    np.testing.assert_array_equal(ours[0].weight.detach().numpy(), theirs[0].weight.detach().numpy())
    with pytest.raises((KeyError, RuntimeError, ValueError)):
        ours.load_state_dict({k: gc.tensor(v.numpy()) for k, v in state.items()})


def test_to_float_cpu_keep_parameters_in_place():
    net = gc.nn.Linear(3, 2)
    weight = net.weight
    assert net.float() is net and net.cpu() is net and net.to("cpu") is net
    assert net.weight is weight
    with pytest.raises(TypeError, match="float32"):
        net.double()


@pytest.mark.parametrize("args, kwargs, message", [
    ((1, 2, 3), {}, "divisible by 2"),
    ((1,) * 10, {}, "too large"),
    ((1, 1), {"mode": "wrap"}, "mode must be one of"),
    ((4, 0), {"mode": "reflect"}, "must be < its size"),
    ((5, 0), {"mode": "circular"}, "must be <= its size"),
    ((-5, 0), {}, "removes more than"),
    ((1, 1), {"mode": "reflect", "value": 2.0}, "doesn't take in value"),
])
def test_pad_refuses_what_torch_refuses(args, kwargs, message):
    x = gc.ones(2, 3, 4)
    with pytest.raises(ValueError, match=message):
        gc.nn.functional.pad(x, args, **kwargs)
    with pytest.raises((ValueError, RuntimeError, NotImplementedError)):
        torch.nn.functional.pad(torch.ones(2, 3, 4), args, **kwargs)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(-1, 2), (2, -1), (-1, -1), (1, 0, -1, 2)])
def test_pad_crops_negative_pads_first_in_every_mode(mode, pads):
    shape = (2, 4, 5) if len(pads) == 2 else (1, 2, 4, 5)
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    ours = gc.nn.functional.pad(gc.tensor(x), pads, mode=mode)
    theirs = torch.nn.functional.pad(torch.tensor(x), pads, mode=mode)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_non_constant_padding_of_unsupported_dimensions_is_refused_as_in_torch():
    with pytest.raises(NotImplementedError, match="reflect padding of 1 dimension"):
        gc.nn.functional.pad(gc.ones(1, 2, 3, 4), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError):
        torch.nn.functional.pad(torch.ones(1, 2, 3, 4), (1, 1), mode="reflect")


def test_the_option_a_shortcut_of_pytorch_resnet_code_runs():
    """pytorch_resnet_cifar10's LambdaLayer: F.pad of a strided view over channels."""
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 6)).astype(np.float32)
    ours = gc.nn.functional.pad(gc.tensor(x)[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2), "constant", 0)
    theirs = torch.nn.functional.pad(torch.tensor(x)[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2),
                                     "constant", 0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
