"""Test-suite layout.

The CUDA simulator is chosen when numba.cuda is first imported, so simulator tests need a
process of their own: `pytest` runs everything but tests/cudasim, and
`NUMBA_ENABLE_CUDASIM=1 pytest` runs only tests/cudasim. The README's test command runs both.
"""
import os

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

if SIMULATOR:
    collect_ignore_glob = [p for p in ("kernels", "engine", "data", "cli", "bench")]
else:
    collect_ignore = ["cudasim"]
