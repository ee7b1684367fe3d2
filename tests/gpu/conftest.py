import os

import pytest

if os.environ.get("GPUCNN_TEST_GPU") != "1" or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    raise pytest.UsageError("tests/gpu needs a real GPU: run it with GPUCNN_TEST_GPU=1 and "
                            "without NUMBA_ENABLE_CUDASIM")
