"""Test-suite layout.

tests/cudasim holds the tests that launch CUDA kernels and run the engine on device="cuda".
Without a GPU they run under numba's CUDA simulator, which is chosen when numba.cuda is first
imported, so they need a process of their own: `pytest` runs everything but tests/cudasim, and
`NUMBA_ENABLE_CUDASIM=1 pytest` runs only tests/cudasim. The README's test command runs both.
On a machine with a real GPU, `GPUCNN_TEST_GPU=1 pytest tests/cudasim tests/gpu` runs them on
the real device; tests/gpu holds what only a real GPU can show (CuPy's pool, DLPack with torch
and CuPy on the device) and is collected nowhere else. tests/distributed starts jobs of
several processes with mpiexec (the `test` extra brings MPI) and runs with the CPU suite.
"""
import os

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
REAL_GPU = os.environ.get("GPUCNN_TEST_GPU") == "1"

if SIMULATOR:
    collect_ignore_glob = ["kernels", "engine", "data", "cli", "bench", "gpu", "distributed",
                           "test_readme_tree.py"]
elif not REAL_GPU:
    collect_ignore = ["cudasim", "gpu"]

# The kernel tests call the CPU twins directly, not through the engine's dispatch, which is
# where gpucnn makes its CPU settings (gpucnn/process_settings.py): make them here too.
from gpucnn import process_settings  # noqa: E402

process_settings.before_cpu_kernels()
