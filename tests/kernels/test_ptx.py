"""Every CUDA kernel compiles to PTX for sm_80 and sm_90 without a GPU, with no float64
arithmetic in float32 kernels (a stray Python float literal silently becomes .f64)."""
import pytest
from numba import cuda

import gpucnn.kernels  # noqa: F401  (imports every kernel module, filling the registry)
from gpucnn.kernels import KERNELS

def f64_instructions(ptx: str) -> list[str]:
    return [line.strip() for line in ptx.splitlines() if ".f64" in line and not line.strip().startswith("//")]


def test_registry_is_populated():
    names = {r.name for r in KERNELS}
    assert len(names) == len(KERNELS), "two kernels registered under one name"
    assert len(KERNELS) >= 1


@pytest.mark.parametrize("cc", [(8, 0), (9, 0)], ids=["sm_80", "sm_90"])
@pytest.mark.parametrize("record", KERNELS, ids=lambda r: r.name)
def test_kernel_compiles_to_ptx_without_f64(record, cc):
    ptx, _ = cuda.compile_ptx(record.py_func, record.signature, cc=cc,
                              launch_bounds=record.launch_bounds)
    assert f".target sm_{cc[0]}{cc[1]}" in ptx
    if not record.float64_ok:
        bad = f64_instructions(ptx)
        assert not bad, f"{record.name}: float64 in a float32 kernel:\n" + "\n".join(bad[:10])
