"""do_constant_folding: the graph with what is known before it runs computed now.

    fold_constants    a node whose inputs are all constants (initializers the graph does not
                      also list as inputs) is run once with ONNX's reference evaluator and
                      replaced by its outputs as initializers (a transposed weight, a shape
                      vector), unless that would grow the file (an output larger than its
                      inputs and 1,024 elements) or the node draws random numbers
    fold_batch_norms  a BatchNormalization whose input is the only use of a Conv's or a
                      Gemm's (transB=1) output is merged into that node's weight and bias:
                      w' = w s, b' = (b - mean) s + beta with s = gamma / sqrt(var + eps),
                      computed in float64 and stored as float32
    prune             nodes and initializers that no graph output needs are dropped
"""
import numpy as np

RANDOM_OPS = {"RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike",
              "Multinomial", "Bernoulli", "Dropout"}
MAX_FOLDED_GROWTH = 1024


def fold(graph, protected):
    """All three passes; `protected` names initializers that stay inputs (not constant)."""
    fold_constants(graph, protected)
    fold_batch_norms(graph, protected)
    prune(graph)


def _constants(graph, protected):
    return {name: a for name, a in graph.initializers.items() if name not in protected}


def fold_constants(graph, protected):
    from onnx.reference import ReferenceEvaluator
    helper = graph.helper
    constants = _constants(graph, protected)
    kept = []
    for node in graph.nodes:
        inputs = [name for name in node.input if name]
        if node.op_type in RANDOM_OPS or not inputs or not all(n in constants for n in inputs):
            kept.append(node)
            continue
        model = helper.make_model(
            helper.make_graph([node], "fold", [_info(helper, n, constants[n]) for n in inputs],
                              [helper.make_empty_tensor_value_info(n) for n in node.output]),
            opset_imports=[helper.make_opsetid("", graph.opset)])
        outputs = ReferenceEvaluator(model).run(None, {n: constants[n] for n in inputs})
        budget = max(sum(constants[n].size for n in inputs), MAX_FOLDED_GROWTH)
        if any(np.asarray(o).size > budget for o in outputs):
            kept.append(node)
            continue
        for name, value in zip(node.output, outputs):
            constants[name] = graph.initializers[name] = np.asarray(value)
    graph.nodes[:] = kept


def _info(helper, name, array):
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype),
                                         array.shape)


def _users(graph):
    users = {}
    for node in graph.nodes:
        for name in node.input:
            users.setdefault(name, []).append(node)
    return users


def fold_batch_norms(graph, protected):
    constants = _constants(graph, protected)
    outputs = {info.name for info in graph.outputs}
    producers = {out: node for node in graph.nodes for out in node.output}
    users = _users(graph)
    removed = set()
    for bn in list(graph.nodes):
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1:
            continue
        x, scale, shift, mean, var = bn.input
        layer = producers.get(x)
        if layer is None or id(layer) in removed or x in outputs or len(users.get(x, [])) != 1:
            continue
        if not all(n in constants for n in (scale, shift, mean, var)):
            continue
        if not _foldable(layer, constants):
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        s = constants[scale].astype(np.float64) / np.sqrt(constants[var].astype(np.float64) + eps)
        w = constants[layer.input[1]].astype(np.float64)
        b = constants[layer.input[2]].astype(np.float64) if len(layer.input) > 2 and \
            layer.input[2] else np.zeros(w.shape[0])
        w = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
        b = (b - constants[mean].astype(np.float64)) * s + constants[shift].astype(np.float64)
        w_name = graph.constant(w.astype(np.float32), name=graph.fresh(f"{layer.input[1]}.bn"))
        b_name = graph.constant(b.astype(np.float32), name=graph.fresh(f"{layer.input[1]}.bn_bias"))
        del layer.input[1:]
        layer.input.extend([w_name, b_name])
        if bn.output[0] in outputs:
            layer.output[0] = bn.output[0]
        else:   # the layer keeps its output's name; the BatchNorm's readers read that
            for node in graph.nodes:
                for j, name in enumerate(node.input):
                    if name == bn.output[0]:
                        node.input[j] = x
        removed.add(id(bn))
    graph.nodes[:] = [node for node in graph.nodes if id(node) not in removed]


def _foldable(layer, constants):
    """A Conv, or a Gemm computing x W^T + b (Linear), with constant weight and bias."""
    if layer.op_type not in ("Conv", "Gemm"):
        return False
    if not all(n in constants for n in layer.input[1:] if n):
        return False
    if layer.op_type == "Gemm":
        attrs = {a.name: a for a in layer.attribute}
        if attrs.get("transA") and attrs["transA"].i or not (attrs.get("transB") and
                                                             attrs["transB"].i):
            return False
        if any(name in attrs and attrs[name].f != 1.0 for name in ("alpha", "beta")):
            return False
        if len(layer.input) > 2 and layer.input[2] and constants[layer.input[2]].ndim != 1:
            return False
    return True


def prune(graph):
    needed = {info.name for info in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed |= {name for name in node.input if name}
    graph.nodes[:] = kept[::-1]
    listed = {info.name for info in graph.inputs}
    for name in list(graph.initializers):
        if name not in needed and name not in listed:
            del graph.initializers[name]
