import os

import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    # Collected in a process without the simulator: refuse loudly rather than skip.
    raise pytest.UsageError("tests/cudasim must run with NUMBA_ENABLE_CUDASIM=1 in its own process "
                            "(NUMBA_ENABLE_CUDASIM=1 python -m pytest)")

from numba.cuda import config  # noqa: E402

if not config.ENABLE_CUDASIM:
    raise pytest.UsageError("numba.cuda was imported before NUMBA_ENABLE_CUDASIM=1 took effect")
