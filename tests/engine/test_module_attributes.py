"""nn.Module's attribute rules side by side with PyTorch's: each case runs the same code on a
torch module and on a gpucnn module (the library passed in as `lib`) and must give the same
result, or the same exception type with the same message once "gpucnn" reads "torch".
Registered parameters, buffers and children are found through __getattr__ (also called
directly, as model files do: `self.__getattr__('level_%d' % i)`), reassigned, set to None,
deleted, listed by dir() and hasattr; register_parameter / register_buffer / add_module
refuse what PyTorch refuses; nn.Buffer; state_dict order after reassignment; deepcopy."""
import copy

import numpy as np
import pytest
import torch

import gpucnn as gc

LIBS = {"torch": torch, "gpucnn": gc}


def run(case, lib):
    """('ok', value) or ('raised', exception type name, message in torch's spelling)."""
    try:
        return ("ok", case(lib))
    except Exception as error:   # noqa: BLE001 - the exception is the result compared
        return ("raised", type(error).__name__, str(error).replace("gpucnn", "torch"))


def net(lib):
    """A module with a parameter, a persistent and a non-persistent buffer, a child, an
    absent (None) parameter and a plain attribute, in that order."""
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
            self.register_buffer("b", lib.tensor([3.0]))
            self.register_buffer("scratch", lib.tensor([4.0]), persistent=False)
            self.c = lib.nn.Linear(2, 1)
            self.register_parameter("absent", None)
            self.plain = 7

        def forward(self, x):
            return self.c(x * self.w)
    return Net()


def keys(module):
    return list(module.state_dict())


def names(module):
    """Everything a module registered, in order, per registry."""
    return ([n for n, _ in module.named_parameters()], [n for n, _ in module.named_buffers()],
            [n for n, _ in module.named_children()], keys(module))


def values(tensor):
    return None if tensor is None else tensor.detach().tolist()


# ================================================================ cases with a result
def lookup(lib):
    m = net(lib)
    return (type(m.w).__name__, m.w is m._parameters["w"], m.b is m._buffers["b"],
            m.c is m._modules["c"], m.absent is None, m.plain,
            [k for k in ("w", "b", "c", "absent") if k in m.__dict__], names(m))


def getattr_called_directly(lib):
    m = net(lib)
    found = [m.__getattr__(name) is getattr(m, name) for name in ("w", "b", "scratch", "c")]
    out = m.__getattr__("c")(lib.tensor([[1.0, -1.0]]))     # a child found so is callable
    return found, tuple(out.shape)


def getattr_of_numbered_children(lib):
    """DLA's pattern: children registered as level_0, level_1, ... fetched by a built name."""
    class Tree(lib.nn.Module):
        def __init__(self):
            super().__init__()
            for i in range(3):
                setattr(self, "level_%d" % i, lib.nn.Linear(2, 2))

        def forward(self, x):
            for i in range(3):
                x = self.__getattr__("level_%d" % i)(x)
            return x
    tree = Tree()
    seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Identity())
    return (tuple(tree(lib.ones(4, 2)).shape), [n for n, _ in tree.named_children()],
            type(seq.__getattr__("1")).__name__, hasattr(seq, "0"), hasattr(seq, "2"))


def reassign_keeps_place(lib):
    m = net(lib)
    m.w = lib.nn.Parameter(lib.tensor([5.0, 6.0]))      # a parameter again: same place
    m.b = lib.tensor([8.0])                              # a tensor to a buffer: same place
    m.scratch = lib.tensor([9.0])                        # ... and stays non-persistent
    m.c = lib.nn.Linear(2, 1, bias=False)                # a child again: same place
    return names(m), values(m.w), values(m.b), values(m.scratch)


def assign_none(lib):
    m = net(lib)
    m.w, m.b, m.c = None, None, None
    kept = (m.w, m.b, m.c, "w" in m._parameters, "b" in m._buffers, "c" in m._modules)
    m.w = lib.nn.Parameter(lib.tensor([1.0]))            # back in its old place
    return kept, names(m), hasattr(m, "absent"), m.absent


def assign_across_kinds(lib):
    """A Parameter or a Module assigned to a name of another kind moves it between
    registries (and out of the instance dict); state_dict order follows."""
    m = net(lib)
    m.b = lib.nn.Parameter(lib.tensor([1.0]))            # buffer -> parameter
    m.plain = lib.nn.Parameter(lib.tensor([2.0]))        # plain attribute -> parameter
    m.c = lib.nn.Parameter(lib.tensor([3.0]))            # module -> parameter
    m.scratch = lib.nn.Identity()                        # non-persistent buffer -> module
    kind = type(m.scratch).__name__
    m.scratch = None
    return names(m), "plain" in m.__dict__, kind, m.scratch


def delete(lib):
    m = net(lib)
    del m.w, m.scratch, m.c, m.plain
    gone = [hasattr(m, n) for n in ("w", "scratch", "c", "plain", "b")]
    m.scratch = lib.tensor([1.0])                        # no longer a buffer: plain
    m.w = lib.nn.Parameter(lib.tensor([2.0]))            # re-added: goes to the end
    return gone, names(m), "scratch" in m.__dict__


def dir_lists_registered_names(lib):
    m = net(lib)
    m.extra = "x"
    own = [k for k in dir(m) if not k.startswith("_") and k not in dir(type(m))]
    seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.ReLU())
    seq.named = lib.nn.ReLU()
    return own, [k for k in dir(seq) if k in ("0", "1", "named")]


def hasattr_and_getattr_defaults(lib):
    m = net(lib)
    return ([hasattr(m, n) for n in ("w", "b", "scratch", "c", "absent", "plain", "nope")],
            getattr(m, "nope", "default"), getattr(m, "absent", "default"))


def plain_attributes(lib):
    m = net(lib)
    m.t = lib.tensor([1.0, 2.0])            # a plain tensor is no buffer
    m.items = [lib.nn.ReLU()]               # nor is a module inside a list a child
    m.n, m.s = 3, "s"
    m.training = False
    return (names(m), [k in m.__dict__ for k in ("t", "items", "n", "s", "training")],
            m.c.training)


def buffer_class(lib):
    source = lib.tensor([1.0, 2.0])
    m = net(lib)
    m.kept = lib.nn.Buffer(source)
    m.hidden = lib.nn.Buffer(lib.tensor([3.0]), persistent=False)
    m.alias = m.kept                        # still a Buffer: registered under a 2nd name
    m.b = lib.nn.Buffer(lib.tensor([4.0]), persistent=False)   # makes b non-persistent
    source[0] = 10.0                        # the buffer shares the source's memory
    empty = lib.nn.Buffer()
    grad = lib.nn.Buffer(lib.tensor([1.0], requires_grad=True))
    return (names(m), list(m._buffers), values(m.kept), type(m.kept).__name__,
            isinstance(m.kept, lib.nn.Buffer), isinstance(source, lib.nn.Buffer),
            isinstance(m.scratch, lib.nn.Buffer), m.kept.persistent, m.hidden.persistent,
            tuple(empty.shape), grad.requires_grad, grad.is_leaf)


def register_and_alias(lib):
    m = lib.nn.Module()
    m.add_module("a", lib.nn.ReLU())
    m.register_module("b", lib.nn.Tanh())
    m.add_module("none", None)
    m.add_module("a", lib.nn.Sigmoid())     # an existing child's name may be registered again
    m.register_parameter("p", lib.nn.Parameter(lib.zeros(1)))
    m.register_parameter("p", None)
    m.register_buffer("q", lib.zeros(1))
    m.register_buffer("q", None)
    return ([(n, type(c).__name__ if c is not None else None) for n, c in m._modules.items()],
            list(m._parameters), list(m._buffers), keys(m), m.p, m.q)


def tensor_before_init(lib):
    class Early(lib.nn.Module):
        def __init__(self):
            self.t = lib.zeros(1)             # a plain attribute is fine before __init__
            self.n = 1
            super().__init__()
    early = Early()
    return "t" in early.__dict__, early.n, names(early)


def getattr_before_init(lib):
    class Early(lib.nn.Module):
        def __init__(self):
            self.found = hasattr(self, "weight")
            super().__init__()
    return Early().found


def deepcopy_module(lib):
    m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3), lib.nn.Linear(3, 2))
    m.tied = m[0]                           # the same child twice stays one child
    m.register_buffer("mask", lib.tensor([1.0, 0.0]), persistent=False)
    m.kept = lib.nn.Buffer(lib.tensor([1.0, 2.0]), persistent=False)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.arange(p.numel(), dtype=lib.float32).reshape(p.shape) / 10)
    m(lib.tensor([[0.5, -1.0], [2.0, 0.25]])).sum().backward()   # grads are copied too
    m.eval()
    twin = copy.deepcopy(m)
    x = lib.tensor([[0.5, -1.0], [2.0, 0.25]])
    same_output = values(twin(x)) == values(m(x))
    independent = all(a is not b for a, b in zip(m.parameters(), twin.parameters()))
    with lib.no_grad():
        twin[0].weight.add_(1.0)
    return (names(twin), same_output, independent, twin.tied is twin[0],
            type(twin[0].weight).__name__, twin[0].weight.requires_grad, twin.training,
            values(m[0].weight)[0], values(twin[0].weight)[0], values(twin.mask),
            twin[0].weight.grad, m[0].weight.grad is not None,      # a Parameter's is not kept
            np.round(values(copy.deepcopy(m[0].weight.grad)), 5).tolist(),
            isinstance(twin.kept, lib.nn.Buffer), twin.kept.persistent, values(twin.kept),
            twin[1].num_batches_tracked.item())


def deepcopy_tensor(lib):
    """A plain tensor's deepcopy keeps its gradient and the attributes set on it; views and
    shared tensors are copied once (memo)."""
    t = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (t * t).sum().backward()
    t.note = "kept"
    pair = copy.deepcopy([t, t])
    twin = pair[0]
    with lib.no_grad():
        twin.add_(1.0)
    return (type(twin).__name__, twin.requires_grad, twin.is_leaf, values(twin.grad),
            twin.grad is not t.grad, twin.note, pair[1] is twin, values(t), values(twin))


RESULTS = [lookup, getattr_called_directly, getattr_of_numbered_children, reassign_keeps_place,
           assign_none, assign_across_kinds, delete, dir_lists_registered_names,
           hasattr_and_getattr_defaults, plain_attributes, buffer_class, register_and_alias,
           tensor_before_init, getattr_before_init, deepcopy_module, deepcopy_tensor]


@pytest.mark.parametrize("case", RESULTS, ids=lambda case: case.__name__)
def test_same_result_as_torch(case):
    theirs = run(case, torch)
    assert theirs[0] == "ok", f"the case itself fails in torch: {theirs}"
    assert run(case, gc) == theirs


# ================================================================ cases with an error
def parameter_error(name, value):
    """register_parameter(name, value(lib)) on a fresh net."""
    def case(lib):
        net(lib).register_parameter(name, value(lib))
    case.__name__ = f"register_parameter({name!r}, {value.__name__})"
    return case


def buffer_error(name, value):
    def case(lib):
        net(lib).register_buffer(name, value(lib))
    case.__name__ = f"register_buffer({name!r}, {value.__name__})"
    return case


def module_error(name, value):
    def case(lib):
        net(lib).add_module(name, value(lib))
    case.__name__ = f"add_module({name!r}, {value.__name__})"
    return case


def param(lib):
    return lib.nn.Parameter(lib.zeros(2))


def tensor(lib):
    return lib.zeros(2)


def child(lib):
    return lib.nn.ReLU()


def number(lib):
    return 3


def text(lib):
    return "x"


def floats(lib):
    return [1.0]


def modules_in_a_list(lib):
    return [lib.nn.ReLU()]


def buffer_object(lib):
    return lib.nn.Buffer(lib.zeros(1))


def own_child(lib):
    """A module whose torch.typename is the same in both libraries (for error messages)."""
    class Own(lib.nn.Module):
        pass
    return Own()


def set_attribute(name, value):
    def case(lib):
        setattr(net(lib), name, value(lib))
    case.__name__ = f"{name} = {value.__name__}"
    return case


def delete_missing(lib):
    del net(lib).nope


def getattr_missing(lib):
    return net(lib).__getattr__("nope")


def getattr_of_instance_attribute(lib):
    return net(lib).__getattr__("plain")    # __getattr__ sees only the registries


def parameter_before_init(lib):
    class Early(lib.nn.Module):
        def __init__(self):
            self.w = lib.nn.Parameter(lib.zeros(1))
            super().__init__()
    Early()


def module_before_init(lib):
    class Early(lib.nn.Module):
        def __init__(self):
            self.c = lib.nn.ReLU()
            super().__init__()
    Early()


def buffer_object_before_init(lib):
    class Early(lib.nn.Module):
        def __init__(self):
            self.b = lib.nn.Buffer(lib.zeros(1))
            super().__init__()
    Early()


def registration_before_init(method, value):
    def case(lib):
        class Early(lib.nn.Module):
            def __init__(self):
                getattr(self, method)("x", value(lib))
                super().__init__()
        Early()
    case.__name__ = f"{method} before __init__"
    return case


def buffer_object_over_plain_attribute(lib):
    net(lib).plain = lib.nn.Buffer(lib.zeros(1))


def non_leaf(lib):
    """A Parameter given history by an in-place op inside autograd."""
    weight = lib.nn.Parameter(lib.zeros(2), requires_grad=False)
    weight.mul_(lib.ones(2, requires_grad=True))
    assert isinstance(weight, lib.nn.Parameter) and weight.grad_fn is not None
    return weight


ERRORS = [
    (parameter_error(1, param), TypeError),
    (parameter_error("a.b", param), KeyError),
    (parameter_error("", param), KeyError),
    (parameter_error("plain", param), KeyError),      # an instance attribute
    (parameter_error("forward", param), KeyError),    # a method
    (parameter_error("b", param), KeyError),          # a buffer
    (parameter_error("c", param), KeyError),          # a child
    (parameter_error("p", tensor), TypeError),        # a tensor, not a Parameter
    (parameter_error("p", floats), TypeError),
    (parameter_error("p", non_leaf), ValueError),
    (buffer_error(2.5, tensor), TypeError),
    (buffer_error("a.b", tensor), KeyError),
    (buffer_error("", tensor), KeyError),
    (buffer_error("plain", tensor), KeyError),
    (buffer_error("w", tensor), KeyError),            # a parameter
    (buffer_error("train", tensor), KeyError),
    (buffer_error("q", floats), TypeError),
    (buffer_error("q", number), TypeError),
    (module_error(None, child), TypeError),
    (module_error("a.b", child), KeyError),
    (module_error("", child), KeyError),
    (module_error("plain", child), KeyError),
    (module_error("w", child), KeyError),             # a parameter
    (module_error("eval", child), KeyError),
    (module_error("x", number), TypeError),
    (module_error("x", tensor), TypeError),
    (module_error("x", modules_in_a_list), TypeError),
    (module_error(1, number), TypeError),      # the module's type is checked first
    (set_attribute("w", tensor), TypeError),          # a tensor to a parameter's name
    (set_attribute("w", number), TypeError),
    (set_attribute("c", tensor), TypeError),          # a tensor to a child's name
    (set_attribute("w", own_child), TypeError),       # a module to a parameter's name
    (set_attribute("c", text), TypeError),
    (set_attribute("b", floats), TypeError),   # a list to a buffer's name
    (set_attribute("w", buffer_object), TypeError),
    (set_attribute("c", buffer_object), TypeError),
    (set_attribute("forward", param), KeyError),
    (set_attribute("p", non_leaf), ValueError),
    (buffer_object_over_plain_attribute, KeyError),
    (delete_missing, AttributeError),
    (getattr_missing, AttributeError),
    (getattr_of_instance_attribute, AttributeError),
    (parameter_before_init, AttributeError),
    (module_before_init, AttributeError),
    (buffer_object_before_init, AttributeError),
    (registration_before_init("register_parameter", param), AttributeError),
    (registration_before_init("register_buffer", tensor), AttributeError),
    (registration_before_init("add_module", child), AttributeError),
]


@pytest.mark.parametrize("case, error", ERRORS, ids=[case.__name__ for case, _ in ERRORS])
def test_same_error_as_torch(case, error):
    theirs = run(case, torch)
    assert theirs[:2] == ("raised", error.__name__), f"torch gave {theirs}"
    assert run(case, gc) == theirs


def test_deepcopy_of_a_tensor_with_history_is_refused_as_in_torch():
    messages = []
    for lib in (torch, gc):
        with pytest.raises(RuntimeError) as error:
            copy.deepcopy(lib.ones(2, requires_grad=True) * 2)
        messages.append(str(error.value))
    # torch's message goes on to name torch.nn.utils.weight_norm, which gpucnn does not have.
    assert messages[0].startswith(messages[1])


def test_buffer_refuses_non_tensor_data_with_the_way_to_make_one():
    with pytest.raises(TypeError, match=r"nn.Buffer: data must be a gpucnn.Tensor, got list "
                                        r"\(gpucnn.tensor\(data\) makes one\)"):
        gc.nn.Buffer([1.0, 2.0])


def test_buffer_moves_with_the_module_and_loads():
    m = net(gc)
    m.kept = gc.nn.Buffer(gc.tensor([1.0, 2.0]))
    m.load_state_dict({**m.state_dict(), "kept": gc.tensor([5.0, 6.0])})
    assert m.kept.tolist() == [5.0, 6.0]
    assert [n for n, _ in m.named_buffers()] == ["b", "scratch", "kept"]
