"""In-place ops on tensors in the autograd graph, against PyTorch (float32 on both sides):
the values and every input's gradient of each pattern below, run on gpucnn and on torch;
PyTorch's version-counter errors (a tensor a backward saved, then changed) and only those;
the leaf errors; what grad_fn, is_leaf and requires_grad become. PATTERNS also run on
device="cuda" under the simulator (tests/cudasim/test_inplace_sim.py)."""
import re

import numpy as np
import pytest
import torch

import gpucnn as gc
from tests.helpers import assert_close, rand


def run_pattern(fn, shapes, device="cpu", seed=0, tol=1e-5):
    """fn(module, *inputs) on gpucnn (on `device`) and on torch, from the same float32 data
    (every input requires grad); the outputs, then every input's gradient for the same
    random upstream gradient, must agree (an input torch gives no gradient gets none)."""
    rng = np.random.default_rng(seed)
    arrays = [rand(rng, *shape) for shape in shapes]
    ours = [gc.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(gc, *ours), fn(torch, *theirs)
    assert out.shape == tuple(expected.shape)
    assert out.device == device
    assert_close(out.detach().numpy(), expected.detach().numpy(), tol, "forward")
    upstream = rng.uniform(0.5, 1.5, size=tuple(out.shape)).astype(np.float32)
    out.backward(gc.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    for i, (g, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert g.grad is None, f"input {i}: torch gives no gradient, gpucnn gave one"
            continue
        assert g.grad is not None, f"input {i} got no gradient"
        assert_close(g.grad.numpy(), t.grad.numpy(), tol, f"gradient of input {i}")
    return out


def _index(m, like, values):
    return m.tensor(values, device=like.device)


# ================================================================ the patterns

def _chain_of_scalars(m, a):
    y = a * 2
    y.add_(1).mul_(3).sub_(0.5).div_(1.5)
    y.pow_(2)
    return y


def _tensor_operands(m, a, b, c):
    y = a * 1
    y.mul_(b)                  # self's old values saved for b's gradient (a copy)
    y.div_(c.abs() + 1)
    y.add_(b, alpha=0.5)
    y.sub_(c, alpha=2)
    return y


def _unary_chain(m, a):
    y = a * 1
    y.abs_()
    y.add_(0.5)
    y.log_()
    y.neg_()
    y.clamp_(-0.4, 2.0)
    y.clip_(min=-0.3)
    y.mul_(1.7).exp_()         # exp's output is saved: nothing changes y after it
    return y


def _sqrt_and_tanh(m, a, b):
    y, z = a.abs() + 0.1, b * 3
    y.sqrt_()
    z.tanh_()
    return y * z


def _relu_then_consumer(m, a, w):
    y = a @ w
    y.relu_()
    return y @ w.t()


def _sigmoid_last(m, a):
    y = a * 2 - 0.5
    y.sigmoid_()
    return y


def _drop_connect(m, x, w, gamma, beta):
    """EfficientNet's drop_connect inside a block: conv, batch norm, x / keep * mask in place,
    then the residual `out += shortcut`."""
    F = m.nn.functional
    y = F.conv2d(x, w, padding=1)
    y = F.batch_norm(y, None, None, gamma, beta, training=True)
    keep = 0.7
    mask = (m.arange(x.shape[0], device=x.device) % 2 == 0).float().view(-1, 1, 1, 1)
    y.div_(keep)
    y.mul_(mask)
    y += x
    return y


def _resnet_block(m, x, w1, w2, gamma, beta):
    """conv-bn-relu_-conv-bn, out += identity, out.relu_(): a BasicBlock written in place."""
    F = m.nn.functional
    out = F.batch_norm(F.conv2d(x, w1, padding=1), None, None, gamma, beta, training=True)
    out.relu_()
    out = F.batch_norm(F.conv2d(out, w2, padding=1), None, None, gamma, beta, training=True)
    out += x
    F.relu(out, inplace=True)
    return out


def _relu_module_inplace(m, x, w):
    layer = m.nn.ReLU(inplace=True)
    y = x @ w
    z = layer(y)
    assert z is y
    return m.nn.functional.leaky_relu(z - 0.5, 0.1, inplace=True) * 2


def _elu_silu_inplace(m, x):
    y, z = x * 1.5, x - 0.25
    m.nn.functional.elu(y, 0.7, inplace=True)
    m.nn.SiLU(inplace=True)(z)
    return y + z


def _residual_into_untracked(m, w):
    y = m.zeros(3, 4, device=w.device)
    y += w                     # y did not require grad: it does now, with add's history
    y.mul_(w)
    return y


def _column_of_view(m, a):
    y = a * 2
    y[:, 0].mul_(3)
    return y


def _row_zeroed(m, a):
    y = a * 2
    y[0] = 0
    return y


def _views_of_views(m, a, b, c):
    y = a * 2
    y.t()[1].add_(b)                         # a transposed row: y's column 1
    y.narrow(1, 2, 2).neg_()
    y.view(-1)[3:9:2].clamp_(max=0.2)
    y.transpose(0, 1)[0:2].mul_(b)
    y[2].copy_(c * 5)
    y.unsqueeze(0)[0, 1, 1:].fill_(0.75)
    y[:, 3:].relu_()           # last: relu saves its output, which a later change would hit
    return y


def _view_of_untracked_base(m, v, w):
    y = m.ones(3, 4, device=v.device)
    y[0] = v                                 # y[0].copy_(v): y joins the graph
    y[1:].add_(w[1:])
    y[2].mul_(v)
    return y


def _mask_zeroed(m, a):
    y = a * 2
    y[y > 0] = 0
    return y * 3


def _slice_assigned_grad_value(m, a, z):
    y = a * 2
    y[:, 1:] = z
    return y


def _index_put_with_grad(m, a, v, row):
    y = a * 2
    y[_index(m, a, [2, 0])] = v
    y[1, _index(m, a, [3, 0])] = row
    y[y < -0.5] = row[0]
    return y


def _mask_broadcast_value(m, a, v):
    y = a + 1
    mask = a > 0.2
    y[mask] = (v * 2)[mask]
    y[..., -1] += 1
    y[:, :2] *= v[:, :2]
    return y


def _unet_concat_by_setitem(m, a, b):
    """out = zeros; out[:, :c] = a; out[:, c:] = b: a concatenation written by setitem."""
    out = m.zeros(a.shape[0], a.shape[1] + b.shape[1], a.shape[2], a.shape[3], device=a.device)
    out[:, :a.shape[1]] = a * 2
    out[:, a.shape[1]:] = b.relu()
    return out.sigmoid()


def _consumers_before_and_after(m, a):
    y = a * 2
    before = y + 1             # add saves nothing: a later change of y is no error
    view = y[1:]
    squared = view.sigmoid()   # saves its output, not y
    y.mul_(3)
    y[0].sub_(1)
    return before * 2 + y + squared.sum() + view.sum()   # view: y[1:] of the new y


def _later_view(m, a):
    y = a * 2
    row = y[0]
    y.mul_(3)                  # row is a view of y: it reads the new values, and their history
    return row * 1


def _copy_and_fills(m, a, src, value):
    y, z, u = a * 2, a * 3, a - 1
    y.copy_(src)               # broadcast (3,) into (4, 3): src's gradient sums
    z.fill_(value.sum())
    u.zero_()
    w = a * 4
    w.masked_fill_(a > 0.3, value.sum())
    return y + z + u + w


def _random_fill_gives_zero_gradient(m, a):
    y = a * 2
    y.normal_()                # every value replaced: the old y gets a zero gradient
    z = a * 5
    z.uniform_()
    return y * 0 + z * 0 + a * 3


def _retains_the_new_version(m, a):
    y = a * 2
    y.retain_grad()
    z = y * 5
    y.mul_(2)
    out = y * 3 + z
    return out


def _same_storage_other_operand(m, a):
    y = a * 1
    y.add_(y.t().t())          # other is a view of y: read before the write
    y[1].mul_(y[0].clone())
    y[2:].sub_(y[:2])
    return y


def _assign_from_own_rows(m, a, v):
    y = a * 2
    y[0] = y[1]                # the value is a view of the tensor being written
    y[_index(m, a, [0, 2])] += v
    y[y > 0] *= 2
    return y


def _stale_view_changed(m, a):
    y = a * 2
    row = y[0]
    y.mul_(2)
    row.add_(1)                # row takes y's new history first, then changes y again
    y[1:3][:, 1:].mul_(5)
    y[0:2].t()[1:].sub_(1)
    return y * 1 + row.sum()


def _same_shape_view_of_untracked(m, w):
    y = m.zeros(3, 4, device=w.device)
    y.view(3, 4).add_(w)       # a view of the same shape is still a view of y
    y.reshape(12)[::5].mul_(w[0, 0])
    return y * 1


PATTERNS = [
    ("assign_from_own_rows", _assign_from_own_rows, [(3, 4), (4,)]),
    ("stale_view_changed", _stale_view_changed, [(3, 4)]),
    ("same_shape_view_of_untracked", _same_shape_view_of_untracked, [(3, 4)]),
    ("chain_of_scalars", _chain_of_scalars, [(3, 4)]),
    ("tensor_operands", _tensor_operands, [(3, 4), (3, 4), (4,)]),
    ("unary_chain", _unary_chain, [(5, 3)]),
    ("sqrt_and_tanh", _sqrt_and_tanh, [(4, 3), (4, 3)]),
    ("relu_then_consumer", _relu_then_consumer, [(4, 5), (5, 3)]),
    ("sigmoid_last", _sigmoid_last, [(3, 5)]),
    ("drop_connect", _drop_connect, [(2, 3, 5, 5), (3, 3, 3, 3), (3,), (3,)]),
    ("resnet_block", _resnet_block, [(2, 3, 5, 5), (3, 3, 3, 3), (3, 3, 3, 3), (3,), (3,)]),
    ("relu_module_inplace", _relu_module_inplace, [(3, 4), (4, 5)]),
    ("elu_silu_inplace", _elu_silu_inplace, [(3, 4)]),
    ("residual_into_untracked", _residual_into_untracked, [(3, 4)]),
    ("column_of_view", _column_of_view, [(3, 4)]),
    ("row_zeroed", _row_zeroed, [(3, 4)]),
    ("views_of_views", _views_of_views, [(4, 5), (4,), (5,)]),
    ("view_of_untracked_base", _view_of_untracked_base, [(4,), (3, 4)]),
    ("mask_zeroed", _mask_zeroed, [(3, 4)]),
    ("slice_assigned_grad_value", _slice_assigned_grad_value, [(3, 4), (3, 3)]),
    ("index_put_with_grad", _index_put_with_grad, [(4, 5), (5,), (2,)]),
    ("mask_broadcast_value", _mask_broadcast_value, [(3, 4), (3, 4)]),
    ("unet_concat_by_setitem", _unet_concat_by_setitem, [(2, 2, 3, 3), (2, 3, 3, 3)]),
    ("consumers_before_and_after", _consumers_before_and_after, [(3, 4)]),
    ("later_view", _later_view, [(3, 4)]),
    ("copy_and_fills", _copy_and_fills, [(4, 3), (3,), (1,)]),
    ("random_fill_gives_zero_gradient", _random_fill_gives_zero_gradient, [(3, 4)]),
    ("retains_the_new_version", _retains_the_new_version, [(3,)]),
    ("same_storage_other_operand", _same_storage_other_operand, [(4, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_pattern_matches_torch(name, fn, shapes):
    run_pattern(fn, shapes, seed=len(name))


def test_retained_grad_is_the_new_versions():
    ours = gc.tensor([0.5, -1.0, 2.0], requires_grad=True)
    theirs = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    results = []
    for m, a in ((gc, ours), (torch, theirs)):
        y = a * 2
        y.retain_grad()
        z = y * 5
        y.mul_(2)
        (y * 3 + z).sum().backward()
        results.append((y.grad.tolist(), a.grad.tolist()))
    assert results[0] == results[1]


def test_dropout_inplace_is_the_out_of_place_mask_written_into_the_input():
    """F.dropout / nn.Dropout(inplace=True) on a graph tensor: the same mask as the
    out-of-place call for the same seed, written into the input (returned); the gradient is
    torch's for that mask."""
    x = rand(np.random.default_rng(5), 6, 7)
    gc.manual_seed(11)
    expected = gc.nn.functional.dropout(gc.tensor(x), 0.4)
    a = gc.tensor(x, requires_grad=True)
    y = a * 1
    gc.manual_seed(11)
    out = gc.nn.functional.dropout(y, 0.4, inplace=True)
    assert out is y and out.grad_fn is not None
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    upstream = rand(np.random.default_rng(6), 6, 7)
    out.backward(gc.tensor(upstream))
    scale = torch.tensor((expected.numpy() != 0) / 0.6, dtype=torch.float32)
    t = torch.tensor(x, requires_grad=True)
    (t * scale).backward(torch.tensor(upstream))
    assert_close(a.grad.numpy(), t.grad.numpy(), 1e-6, "dropout_ gradient")
    layer = gc.nn.Dropout2d(0.5, inplace=True)
    z = (a * 2).view(1, 6, 7, 1)
    assert layer(z) is z
    inference = gc.tensor(x)
    assert gc.nn.ReLU(inplace=True)(inference) is inference
    assert inference.numpy().min() == 0.0   # written in place, as torch's


# ================================================================ what the tensor becomes

def test_history_and_flags_after_an_inplace_op():
    w = gc.tensor(rand(np.random.default_rng(1), 3), requires_grad=True)
    y = w * 2
    assert y.add_(1) is y and not y.is_leaf and y.requires_grad
    assert "AddScalar" in repr(y.grad_fn)
    assert y.grad_fn.next_functions[0][0] is not None   # y as it was: w * 2
    fresh = gc.zeros(3)
    fresh.add_(w)
    assert fresh.requires_grad and not fresh.is_leaf and fresh.grad_fn is not None
    with gc.no_grad():
        plain = gc.zeros(3)
        plain.add_(w)
    assert not plain.requires_grad and plain.grad_fn is None
    row = gc.zeros(2, 3)
    row[0].copy_(w)
    assert row.requires_grad and "CopySlices" in repr(row.grad_fn)
    y = w * 2
    y.mul_(2)
    z = y.sum()
    z.backward(retain_graph=True)
    z.backward()
    assert w.grad.tolist() == [8.0, 8.0, 8.0]


def test_version_counter_counts_each_inplace_op_once():
    y = gc.tensor([1.0, 2.0], requires_grad=True) * 1
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 1
    for m, x in ((gc, y), (torch, t)):
        x.add_(1)
        x[0] = 5
        x[x > 2] = 0
        x += 1
        x.relu_()
        x[0].mul_(2)
    assert y._version.value == t._version


# ================================================================ PyTorch's version errors

def _saved_output_sigmoid(m, a):
    y = a * 1
    y.sigmoid_()
    y.mul_(2)
    return y


def _saved_output_exp(m, a):
    y = a.exp()
    y.add_(1)
    return y


def _relu_output_changed(m, a):
    y = (a * 1).relu()
    y.add_(1)
    return y


def _mul_operand_saved(m, a, w):
    x = a * 2
    y = x * w                  # x saved for w's gradient
    x.add_(1)
    return y


def _matmul_operand(m, a, w):
    x = a * 2
    y = x @ w
    x.add_(1)
    return y


def _conv_input(m, x, w):
    y = x * 1
    out = m.nn.functional.conv2d(y, w)
    y.mul_(2)
    return out


def _leaf_constant_changed(m, a):
    c = m.ones(4, 3, device=a.device) * 0.5
    y = a * c                  # c, a tensor without history, saved for a's gradient
    c.add_(1)
    return y


def _self_times_self(m, a):
    y = a * 1
    y.mul_(y)
    return y


def _detached_alias_changed(m, a):
    y = a.sigmoid()
    y.detach().add_(1)         # detach shares the memory and the version counter
    return y


def _saved_tensor_changed_through_a_view(m, a):
    y = a.exp()
    y[0].mul_(2)
    return y


def _other_operand_shares_the_memory(m, a):
    y = a * 1
    y[1].mul_(y[0].detach())   # y[0], saved for y[1]'s gradient, is changed by the write
    return y


ERRORS = [
    ("saved_output_sigmoid", _saved_output_sigmoid, [(4, 3)]),
    ("saved_output_exp", _saved_output_exp, [(4, 3)]),
    ("relu_output_changed", _relu_output_changed, [(4, 3)]),
    ("mul_operand_saved", _mul_operand_saved, [(4, 3), (4, 3)]),
    ("matmul_operand", _matmul_operand, [(4, 3), (3, 2)]),
    ("conv_input", _conv_input, [(2, 3, 5, 5), (4, 3, 3, 3)]),
    ("leaf_constant_changed", _leaf_constant_changed, [(4, 3)]),
    ("self_times_self", _self_times_self, [(4, 3)]),
    ("detached_alias_changed", _detached_alias_changed, [(4, 3)]),
    ("saved_tensor_changed_through_a_view", _saved_tensor_changed_through_a_view, [(4, 3)]),
    ("other_operand_shares_the_memory", _other_operand_shares_the_memory, [(4, 3)]),
]

_VERSIONS = re.compile(r"\[\S+ (\[[\d, ]*\])\](, which is output 0 of \w+,)? is at version "
                       r"(\d+); expected version (\d+) instead")


@pytest.mark.parametrize("name,fn,shapes", ERRORS, ids=[e[0] for e in ERRORS])
def test_changed_saved_tensor_is_torchs_error(name, fn, shapes):
    """Both raise at backward, naming the same shape, versions, and whether the tensor is
    some node's output."""
    rng = np.random.default_rng(3)
    arrays = [rand(rng, *s) for s in shapes]
    messages = []
    for m in (gc, torch):
        out = fn(m, *[m.tensor(a, requires_grad=True) for a in arrays])
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                               "computation has been modified by an "
                                               "inplace operation") as error:
            out.sum().backward()
        messages.append(str(error.value))
    ours, theirs = (_VERSIONS.search(text) for text in messages)
    assert ours is not None and theirs is not None, messages
    assert ours.group(1) == theirs.group(1)                       # the shape
    assert (ours.group(2) is None) == (theirs.group(2) is None)    # output of a node or not
    assert ours.group(3, 4) == theirs.group(3, 4), messages        # the versions
    assert re.match(r"\[gpucnn\.FloatTensor", _VERSIONS.search(messages[0]).group(0))


def _add_operands_changed(m, a, b):
    x = a * 2
    y = x + b                  # add saves nothing
    x.add_(1)
    b2 = b * 1
    z = y - b2
    b2.mul_(3)
    return z


def _mul_by_constant_operand_changed(m, a):
    c = m.ones(4, 3, device=a.device) * 0.25
    x = a * 2
    y = x * c                  # x is saved only for c's gradient, which c does not want
    x.add_(1)
    return y


def _relu_input_changed(m, a):
    x = a * 1
    y = x.relu()               # relu saves its output, not its input
    x.mul_(3)
    return y


def _sigmoid_input_changed(m, a):
    x = a * 2
    y = x.sigmoid()
    x.sub_(1)
    return y


NOT_ERRORS = [
    ("add_operands_changed", _add_operands_changed, [(4, 3), (4, 3)]),
    ("mul_by_constant_operand_changed", _mul_by_constant_operand_changed, [(4, 3)]),
    ("relu_input_changed", _relu_input_changed, [(4, 3)]),
    ("sigmoid_input_changed", _sigmoid_input_changed, [(4, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", NOT_ERRORS, ids=[e[0] for e in NOT_ERRORS])
def test_changed_tensor_nothing_saved_is_no_error(name, fn, shapes):
    run_pattern(fn, shapes, seed=7)


# ================================================================ leaves

LEAF_CASES = [
    ("add_", "a leaf Variable", lambda m, w: w.add_(1)),
    ("iadd", "a leaf Variable", lambda m, w: w.__iadd__(1)),
    ("relu_", "a leaf Variable", lambda m, w: w.relu_()),
    ("functional_relu", "a leaf Variable", lambda m, w: m.nn.functional.relu(w, inplace=True)),
    ("relu_module", "a leaf Variable", lambda m, w: m.nn.ReLU(inplace=True)(w)),
    ("dropout", "a leaf Variable", lambda m, w: m.nn.functional.dropout(w, 0.5, True, True)),
    ("copy_", "a leaf Variable", lambda m, w: w.copy_(m.ones(3, 4))),
    ("zero_", "a leaf Variable", lambda m, w: w.zero_()),
    ("normal_", "a leaf Variable", lambda m, w: w.normal_()),
    ("advanced_setitem", "a leaf Variable", lambda m, w: w.__setitem__(w > 0, 1.0)),
    ("setitem", "a view of a leaf Variable", lambda m, w: w.__setitem__(0, 1.0)),
    ("view_mul_", "a view of a leaf Variable", lambda m, w: w[1:].mul_(2)),
    ("transposed_view", "a view of a leaf Variable", lambda m, w: w.t().add_(1)),
]


@pytest.mark.parametrize("name,message,call", LEAF_CASES, ids=[c[0] for c in LEAF_CASES])
def test_inplace_on_a_leaf_that_requires_grad_is_torchs_error(name, message, call):
    data = rand(np.random.default_rng(2), 3, 4)
    for m in (gc, torch):
        w = m.tensor(data, requires_grad=True)
        with pytest.raises(RuntimeError, match=message + " that requires grad is being used "
                                                         "in an in-place operation"):
            call(m, w)
        assert np.array_equal(w.detach().numpy(), data)   # refused before any write
        with m.no_grad():
            call(m, w)                                     # an update outside autograd


MULTIPLE_VIEWS = [
    ("unbind", "Output 1 of Unbind", lambda m, y, w: y.unbind(0)[1].add_(1)),
    ("split", "Output 0 of Split", lambda m, y, w: y.split(2)[0].mul_(2)),
    ("split_sizes", "Output 1 of SplitWithSizes", lambda m, y, w: y.split([1, 3])[1].relu_()),
    ("chunk_view", "Output 0 of", lambda m, y, w: y.chunk(2)[0][1:].add_(1)),
    ("untracked_base", "multiple views", lambda m, y, w: y.detach().unbind(0)[0].add_(w)),
]


@pytest.mark.parametrize("name,message,call", MULTIPLE_VIEWS, ids=[c[0] for c in MULTIPLE_VIEWS])
def test_views_of_multiple_view_functions_refuse_inplace_as_torch(name, message, call):
    """PyTorch refuses an in-place change of an output of split / chunk / unbind inside
    autograd (not outside it)."""
    data = rand(np.random.default_rng(4), 4, 3)
    for m in (gc, torch):
        w = m.tensor(data[0], requires_grad=True)
        y = w * m.ones(4, 3)
        with pytest.raises(RuntimeError, match=message):
            call(m, y, w)
        with m.no_grad():
            call(m, y, w)
    plain = gc.zeros(4, 3)
    plain.unbind(0)[1].add_(1)
    assert plain.sum().item() == 3.0


def test_overlapping_target_is_refused():
    e = gc.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(gc.tensor([1.0, 2.0, 3.0], requires_grad=True))
