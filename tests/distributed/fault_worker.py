"""A data-parallel run in which one rank fails at step 3, as the tests ask (run under mpiexec):
python -m tests.distributed.fault_worker raise|kill|exit|SIGNAL RANK (kill is SIGKILL; SIGSEGV
and other signal names are sent as such). The other ranks are then waiting
in the step's gradient reduction; the job must still end."""
import os
import signal
import sys

import gpucnn as gc
import gpucnn.distributed as dist
import gpucnn.nn as nn
import gpucnn.nn.functional as F


def main(how: str, failing: int):
    dist.init_process_group("mpi", timeout=5)   # how long a rank that exits waits for the rest
    print(" / ".join(dist.rank_table()), flush=True)
    model = nn.parallel.DistributedDataParallel(nn.Linear(8, 3))
    opt = gc.optim.SGD(model.parameters(), lr=0.1)
    for step in range(1000):
        if step == 3 and dist.get_rank() == failing:
            if how == "raise":
                raise RuntimeError(f"step {step} failed on purpose")
            if how == "exit":
                sys.exit(3)
            os.kill(os.getpid(), signal.SIGKILL if how == "kill" else signal.Signals[how])
        opt.zero_grad()
        F.cross_entropy(model(gc.randn(4, 8)), gc.randint(0, 3, (4,))).backward()
        opt.step()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
