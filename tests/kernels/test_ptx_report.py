"""The PTX report runs without a GPU, lists every registered kernel, and reads its numbers right."""
import io
import subprocess
import sys

import pytest
from numba import cuda, float32

import gpucnn.kernels  # noqa: F401  (fills the registry)
from gpucnn.kernels import KERNELS, ptx_report as report_module
from gpucnn.kernels.ptx_report import (_parse_cc, main, parse_link_log, ptx_facts, ptx_report,
                                       report_kernel)

try:
    from cuda.bindings import nvjitlink  # noqa: F401
    HAVE_NVJITLINK = True
except ImportError:
    HAVE_NVJITLINK = False


@pytest.fixture(scope="module")
def sm90():
    buffer = io.StringIO()
    reports = ptx_report((9, 0), file=buffer)
    return reports, buffer.getvalue()


def test_report_lists_every_registered_kernel(sm90):
    reports, table = sm90
    assert [r.name for r in reports] == [r.name for r in KERNELS]
    assert table.startswith("sm_90:")
    for record, report in zip(KERNELS, reports):
        assert report.name in table
        assert report.ptx_lines > 0
        if not record.float64_ok:
            assert report.f64_instructions == 0, report.name


@pytest.mark.skipif(not HAVE_NVJITLINK, reason="cuda.bindings.nvjitlink is not installed")
def test_register_counts_come_from_nvjitlink(sm90):
    reports, table = sm90
    for r in reports:
        assert r.link_error is None, f"{r.name}: {r.link_error}"
        assert 0 < r.registers <= 255, r.name
        assert r.spill_store_bytes is not None and r.spill_load_bytes is not None
    assert "link unavailable" not in table


def _probe(out, x):
    # 32 * 33 floats of shared memory, a dynamically indexed local array, float64 arithmetic
    # (0.1 is not a float32: LLVM may not shrink the multiply back to .f32 as it would for 1.5).
    tile = cuda.shared.array((32, 33), float32)
    scratch = cuda.local.array(64, float32)
    i = cuda.grid(1)
    for j in range(64):
        scratch[j] = x[(i + j) % x.shape[0]]
    tile[i % 32, i % 33] = scratch[(i * 7) % 64]
    cuda.syncthreads()
    if i < out.shape[0]:
        out[i] = tile[(i + 1) % 32, i % 33] * 0.1


def test_ptx_facts_of_a_probe_kernel():
    r = report_kernel("probe", _probe, "void(float32[::1], float32[::1])", (8, 0),
                      link=HAVE_NVJITLINK)
    assert r.shared_bytes == 32 * 33 * 4 and not r.dynamic_shared
    assert r.local_bytes >= 64 * 4
    assert r.f64_instructions > 0
    if HAVE_NVJITLINK:
        assert r.link_error is None and r.registers > 0 and r.stack_bytes >= 64 * 4


def test_ptx_facts_parses_declarations():
    ptx = "\n".join([
        "// .f64 in a comment is not an instruction",
        ".visible .shared .align 4 .b8 _cudapy_smem_1[4160];",
        ".shared .align 4 .f32 tile[16][17];",
        ".extern .shared .align 16 .b8 dynamic[];",
        "\t.local .align 8 .b8 \t__local_depot0[96];",
        "\t.reg .f64 \t%fd<3>;",
        "\tcvt.f64.f32 \t%fd1, %f1;",
        "\tmul.f64 \t%fd2, %fd1, 0d3FF8000000000000;",
    ])
    facts = ptx_facts(ptx)
    assert facts == {"ptx_lines": 8, "f64_instructions": 2, "local_bytes": 96,
                     "shared_bytes": 4160 + 16 * 17 * 4, "dynamic_shared": True}


def test_parse_link_log_takes_the_entry_function():
    log = """ptxas info    : 0 bytes gmem
ptxas info    : Function properties for helper
ptxas         .     8 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compiling entry function '_ZN6kernel' for 'sm_90'
ptxas info    : Function properties for _ZN6kernel
ptxas         .     40 bytes stack frame, 24 bytes spill stores, 32 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 8320 bytes smem, 400 bytes cmem[0]
"""
    assert parse_link_log(log) == {"registers": 255, "stack_bytes": 40,
                                   "spill_store_bytes": 24, "spill_load_bytes": 32}
    with pytest.raises(ValueError, match="registers"):
        parse_link_log("error : nothing linked")


def test_cc_argument():
    assert _parse_cc("9.0") == (9, 0) and _parse_cc("sm_86") == (8, 6) and _parse_cc("80") == (8, 0)
    with pytest.raises(Exception):
        _parse_cc("hopper")


def test_main_prints_a_table(monkeypatch, capsys):
    monkeypatch.setattr(report_module, "KERNELS", KERNELS[:2])  # the wiring, not every compile
    main(["--cc", "8.0", "--no-link"])
    printed = capsys.readouterr().out
    assert printed.startswith("sm_80: 2 kernels (PTX only)")
    assert all(r.name in printed for r in KERNELS[:2])


def test_module_runs_with_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "gpucnn.kernels.ptx_report", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--cc" in done.stdout


@pytest.mark.skipif(not HAVE_NVJITLINK, reason="cuda.bindings.nvjitlink is not installed")
def test_launch_bounds_rung_fits_two_blocks_per_sm(sm90):
    """Version 3 of the convolutions is version 2 compiled with launch bounds (256, 2): ptxas
    must keep a thread within 65536 / (2 * 256) = 128 registers."""
    reports, _ = sm90
    bounded = {r.name: r for r, record in zip(reports, KERNELS) if record.launch_bounds}
    assert len(bounded) == 3, sorted(bounded)
    for name, r in bounded.items():
        assert r.registers <= 128, f"{name}: {r.registers} registers"
