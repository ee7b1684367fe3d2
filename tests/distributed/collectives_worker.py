"""One rank checking every collective (on "cuda" with --cuda) against what it must give (run by the tests under
mpiexec); prints "ok rank R" at the end. Every rank contributes values of its own, fresh
random draws from a seed the ranks share, so each can compute the expected result itself."""
import sys

import numpy as np

import gpucnn as gc
import gpucnn.distributed as dist


def main(device):
    dist.init_process_group("mpi")
    assert dist.is_initialized()
    rank, size = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(7)
    every = rng.standard_normal((size, 5, 3)).astype(np.float32)   # rank r holds every[r]
    mine = every[rank]

    for op, expected in [(dist.ReduceOp.SUM, every.sum(0)), (dist.ReduceOp.AVG, every.mean(0)),
                         (dist.ReduceOp.MAX, every.max(0)), (dist.ReduceOp.MIN, every.min(0)),
                         (dist.ReduceOp.PRODUCT, every.prod(0))]:
        t = gc.tensor(mine, device=device)
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=str(op))
    counts = gc.tensor(np.arange(4) + 10 * rank, device=device)                    # int64 stays int64
    dist.all_reduce(counts)
    assert counts.dtype == gc.int64
    assert counts.tolist() == list(size * np.arange(4) + 10 * sum(range(size)))
    flags = gc.tensor([rank == size - 1, False, True], device=device)              # bool sum: "any"
    dist.all_reduce(flags)
    assert flags.tolist() == [True, False, True]

    for src in range(size):
        t = gc.tensor(mine, device=device)
        work = dist.broadcast(t, src=src, async_op=True)
        work.wait()
        np.testing.assert_array_equal(t.numpy(), every[src])

    gathered = [gc.full((5, 3), float("nan"), device=device) for _ in range(size)]
    dist.all_gather(gathered, gc.tensor(mine, device=device))
    for r in range(size):
        np.testing.assert_array_equal(gathered[r].numpy(), every[r])

    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank, "name": f"r{rank}"})
    assert objects == [{"rank": r, "name": f"r{r}"} for r in range(size)]
    shared = ["from", rank] if rank == 1 % size else [None, None]
    dist.broadcast_object_list(shared, src=1 % size)
    assert shared == ["from", 1 % size]

    # A gradient through the sum over ranks: d(sum over ranks of 3 * x_r)/dx_r = 3 * size.
    x = gc.tensor(mine, requires_grad=True, device=device)
    total = dist.nn.functional.all_reduce(x * 3.0)
    np.testing.assert_allclose(total.numpy(), 3 * every.sum(0), rtol=1e-5, atol=1e-5)
    total.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((5, 3), 3.0 * size), rtol=0)

    try:
        dist.all_reduce(gc.tensor(every, device=device).transpose(0, 1))
    except ValueError as error:
        assert "contiguous" in str(error)
    else:
        raise AssertionError("a strided tensor was accepted")
    dist.barrier()
    print(f"ok rank {rank} of {size}", flush=True)
    dist.destroy_process_group()
    assert not dist.is_initialized()


if __name__ == "__main__":
    main("cuda" if "--cuda" in sys.argv[1:] else "cpu")
