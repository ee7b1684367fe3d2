"""A shared-memory tree sum across one thread block, for the deterministic reductions.

Each thread has written its partial sum to partial[tid]; after `block_tree_sum` the block's
total is in partial[0]. The pairing order is fixed, so the result is the same run to run (no
atomics). Every thread of the block must call it: it synchronises.
"""
from numba import cuda


@cuda.jit(device=True, inline=True)
def block_tree_sum(partial, tid, threads):
    cuda.syncthreads()
    step = threads // 2
    while step > 0:
        if tid < step:
            partial[tid] += partial[tid + step]
        cuda.syncthreads()
        step //= 2
