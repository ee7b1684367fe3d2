"""Ops: one `Function` per operation, forward and backward side by side, on raw arrays.

A family per file; each op calls its kernels through `self.kernels` (gpucnn.backend), whose
names lead to the kernel modules' OPS tables:

    arithmetic.py  add, sub, mul (tensors of one shape), scalar add / multiply / divide   elementwise
    reduce.py      sum, mean of every element                                            elementwise
    shape.py       reshape, flatten (views: no kernel)
    activation.py  relu                                                                  elementwise
    conv.py        conv2d: forward, data, weight and bias gradients                       conv2d
    pool.py        max_pool2d                                                            max_pool2d
    linear.py      x · Wᵀ + b                                                            matmul
    loss.py        softmax cross-entropy                                                 softmax_xent

Ops never import Tensor: Tensor's operators decide whether the other operand is a tensor or a
Python number and call the op for that case.
"""
