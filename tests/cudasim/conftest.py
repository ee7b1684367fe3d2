import os

import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
REAL_GPU = os.environ.get("GPUCNN_TEST_GPU") == "1"

if not (SIMULATOR or REAL_GPU):
    # Collected in a process without the simulator: refuse loudly rather than skip.
    raise pytest.UsageError("tests/cudasim must run with NUMBA_ENABLE_CUDASIM=1 in its own process "
                            "(NUMBA_ENABLE_CUDASIM=1 python -m pytest), or with GPUCNN_TEST_GPU=1 "
                            "on a machine with a GPU")

from numba import cuda  # noqa: E402
from numba.cuda import config  # noqa: E402

if SIMULATOR and not config.ENABLE_CUDASIM:
    raise pytest.UsageError("numba.cuda was imported before NUMBA_ENABLE_CUDASIM=1 took effect")
if REAL_GPU and not SIMULATOR and not cuda.is_available():
    raise pytest.UsageError("GPUCNN_TEST_GPU=1 but numba sees no CUDA GPU")
