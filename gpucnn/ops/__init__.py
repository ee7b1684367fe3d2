"""Ops: one `Function` per operation, forward and backward side by side, on raw arrays.

A family per file; each op calls its kernels through `self.kernels` (gpucnn.backend), whose
names lead to the kernel modules' OPS tables:

    arithmetic.py  elementwise and broadcasting arithmetic, casts, fills, random fills  elementwise, random
    compare.py     comparisons, logic, where, isnan/isinf                             elementwise
    reduce.py      sum, mean, max/min (values and indices), argmax, var, logsumexp     reduce
    shape.py       views, reshape, permute, expand, copies, cat, device moves          elementwise (copies)
    index.py       basic and advanced indexing: gather, scatter, nonzero               index
    reorder.py     flip (one gather), roll (a cat of slices): copies in a new order    index, elementwise
    activation.py  relu, sigmoid, tanh, leaky_relu, elu, gelu, silu; softmax composed  elementwise
    dropout.py     dropout masks (Philox) and their product                            random, elementwise
    norm.py        batch normalization: statistics, normalisation, backward            batch_norm
    conv.py        conv2d: forward, data, weight and bias gradients                    conv2d, reduce
    pool.py        max_pool2d, avg_pool2d, adaptive average / max pooling             max_pool2d, avg_pool2d
    linear.py      x · Wᵀ + b, matmul, batched matmul                                  matmul, reduce
    loss.py        softmax cross-entropy (fused), BCE, log-sigmoid; other losses composed  softmax_xent, elementwise
    _arrays.py     array helpers the ops share (views, broadcasting, sums to a shape)

Ops never import Tensor: Tensor's operators decide whether the other operand is a tensor or a
Python number and call the op for that case.
"""
