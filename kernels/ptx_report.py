"""What each registered CUDA kernel compiles to, without a GPU.

    python -m gpucnn.kernels.ptx_report [--cc 9.0] [--no-link]

For every kernel in the registry (kernels/_registry.py) this compiles the PTX for one
architecture and prints a table:

- from the PTX itself: its length in lines, the number of `.f64` instructions (a stray Python
  float literal in a float32 kernel shows up here), the bytes of `.local` memory declared (local
  arrays that NVVM could not keep in registers), and the bytes of static `.shared` memory
  declared (`+dyn` when the kernel also uses dynamic shared memory);
- from the machine code: registers per thread, spill stores and loads, stack frame and shared
  memory, as `ptxas -v` reports them. PTX has unlimited virtual registers, so these exist only
  after assembly. They are obtained without a GPU and without a system `ptxas` by linking the
  PTX through nvJitLink (`cuda.bindings.nvjitlink` from cuda-bindings, and the library from the
  `nvidia-nvjitlink` wheel, both installed by `numba-cuda[cu13]`) with `-arch=sm_XX -verbose`,
  which makes its info log carry ptxas's "Used N registers, N bytes spill stores" lines.
  nvJitLink must be at least as new as the NVVM that wrote the PTX (a newer PTX `.version` is
  refused); when linking is impossible those columns show `-` and the reason is printed.

A register count above 255 is impossible; above 64 at 256 threads per block (or 128 at 512)
it caps occupancy, and any spill bytes mean the kernel reads local memory in its inner loop.
"""
import argparse
import re
import sys
from dataclasses import dataclass

from numba import cuda

from ._registry import KERNELS

_TYPE_BYTES = {"8": 1, "16": 2, "32": 4, "64": 8}
# `.visible .shared .align 4 .b8 name[4096];`, `.extern .shared .align 16 .b8 name[];`,
# `.local .align 4 .b8 __local_depot0[256];`, with 2-D arrays too.
_LINKAGE = r"^\s*((?:\.(?:visible|weak|extern)\s+)*)"
_ARRAY = r"(?:\.align\s+\d+\s+)?\.[a-z]+(\d+)\s+[\w$.]+((?:\[\d*\])*)\s*;"
_SHARED_DECL = re.compile(_LINKAGE + r"\.shared\s+" + _ARRAY)
_LOCAL_DECL = re.compile(_LINKAGE + r"\.local\s+" + _ARRAY)
_DECLARATION = re.compile(r"^\s*\.(reg|param|local|shared|global|const|extern|visible|weak)\b")


@dataclass
class KernelReport:
    name: str
    ptx_lines: int
    f64_instructions: int
    local_bytes: int            # .local memory declared in the PTX
    shared_bytes: int           # static .shared memory declared in the PTX
    dynamic_shared: bool        # also declares extern (dynamic) shared memory
    registers: int | None = None       # the rest come from linking (None: not available)
    spill_store_bytes: int | None = None
    spill_load_bytes: int | None = None
    stack_bytes: int | None = None
    link_error: str | None = None


def _declared_bytes(bits: str, dims: str) -> int:
    size = _TYPE_BYTES.get(bits, 1)
    for d in re.findall(r"\[(\d*)\]", dims):
        size *= int(d) if d else 0
    return size


def ptx_facts(ptx: str) -> dict:
    """Counts read from PTX text: lines, .f64 instructions, .local and .shared bytes declared."""
    f64 = local = shared = 0
    dynamic = False
    lines = ptx.splitlines()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        m = _SHARED_DECL.match(line)
        if m:
            if ".extern" in m.group(1):
                dynamic = True
            else:
                shared += _declared_bytes(m.group(2), m.group(3))
            continue
        m = _LOCAL_DECL.match(line)
        if m:
            local += _declared_bytes(m.group(2), m.group(3))
            continue
        # Register declarations (`.reg .f64 %fd<3>;`) only follow from instructions; count those.
        if ".f64" in stripped and not _DECLARATION.match(stripped):
            f64 += 1
    return {"ptx_lines": len(lines), "f64_instructions": f64, "local_bytes": local,
            "shared_bytes": shared, "dynamic_shared": dynamic}


def parse_link_log(log: str) -> dict:
    """Registers, spills and stack of the entry function from a ptxas-style (-v) info log."""
    start = log.find("Compiling entry function")
    body = log[start:] if start >= 0 else log

    def first(pattern):
        m = re.search(pattern, body)
        return int(m.group(1)) if m else None

    facts = {"registers": first(r"Used (\d+) registers"),
             "stack_bytes": first(r"(\d+) bytes stack frame"),
             "spill_store_bytes": first(r"(\d+) bytes spill stores"),
             "spill_load_bytes": first(r"(\d+) bytes spill loads")}
    if facts["registers"] is None:
        raise ValueError("no 'Used N registers' line in the link log:\n" + log)
    return facts


def link_log(ptx: str, cc: tuple[int, int]) -> str:
    """Link PTX for sm_XX through nvJitLink and return its verbose info log."""
    from cuda.bindings import nvjitlink  # imported here: the PTX columns work without it

    options = [f"-arch=sm_{cc[0]}{cc[1]}", "-verbose"]
    handle = nvjitlink.create(len(options), options)
    try:
        data = ptx.encode()
        try:
            nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
            nvjitlink.complete(handle)
        except nvjitlink.nvJitLinkError as error:
            size = nvjitlink.get_error_log_size(handle)
            log = bytearray(size)
            if size:
                nvjitlink.get_error_log(handle, log)
            raise RuntimeError(f"{error}: {log.decode(errors='replace').strip()}") from None
        size = nvjitlink.get_info_log_size(handle)
        log = bytearray(size)
        if size:
            nvjitlink.get_info_log(handle, log)
        return log.decode(errors="replace")
    finally:
        nvjitlink.destroy(handle)


def report_kernel(name: str, py_func, signature: str, cc=(9, 0), link=True,
                  launch_bounds=None) -> KernelReport:
    """Compile one kernel function to PTX (and, if `link`, to machine code) and describe it."""
    if cuda.compile_ptx is None:
        raise RuntimeError("ptx_report needs numba's CUDA compiler; it is unavailable under the "
                           "simulator (unset NUMBA_ENABLE_CUDASIM)")
    ptx, _ = cuda.compile_ptx(py_func, signature, cc=tuple(cc), launch_bounds=launch_bounds)
    report = KernelReport(name=name, **ptx_facts(ptx))
    if link:
        try:
            for key, value in parse_link_log(link_log(ptx, cc)).items():
                setattr(report, key, value)
        except Exception as error:  # a missing library or a refused PTX version: report it
            report.link_error = f"{type(error).__name__}: {error}".splitlines()[0]
    return report


def kernel_reports(cc=(9, 0), link=True) -> list[KernelReport]:
    return [report_kernel(r.name, r.py_func, r.signature, cc, link, r.launch_bounds)
            for r in KERNELS]


def format_table(reports: list[KernelReport], cc=(9, 0)) -> str:
    def cell(v):
        return "-" if v is None else str(v)

    header = ("kernel", "PTX lines", ".f64", ".local B", ".shared B", "regs", "spill st B",
              "spill ld B", "stack B")
    rows = [(r.name, str(r.ptx_lines), str(r.f64_instructions), str(r.local_bytes),
             str(r.shared_bytes) + ("+dyn" if r.dynamic_shared else ""), cell(r.registers),
             cell(r.spill_store_bytes), cell(r.spill_load_bytes), cell(r.stack_bytes))
            for r in reports]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths)))

    linked = any(r.registers is not None for r in reports)
    source = "regs/spills/stack from nvJitLink, as ptxas -v" if linked else "PTX only"
    lines = [f"sm_{cc[0]}{cc[1]}: {len(reports)} kernels ({source})",
             fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(row) for row in rows]
    errors = sorted({r.link_error for r in reports if r.link_error})
    lines += [f"link unavailable: {e}" for e in errors]
    return "\n".join(lines)


def ptx_report(cc=(9, 0), link=True, file=None) -> list[KernelReport]:
    """Print the table for every registered kernel and return the rows."""
    reports = kernel_reports(cc, link)
    print(format_table(reports, cc), file=sys.stdout if file is None else file)
    return reports


def _parse_cc(text: str) -> tuple[int, int]:
    digits = text.lower().removeprefix("sm_").replace(".", "")
    if not digits.isdigit() or len(digits) < 2:
        raise argparse.ArgumentTypeError(f"expected a compute capability like 9.0 or sm_90, "
                                         f"got {text!r}")
    return int(digits[:-1]), int(digits[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gpucnn.kernels.ptx_report",
                                     description="PTX and register report of every CUDA kernel.")
    parser.add_argument("--cc", type=_parse_cc, default=(9, 0),
                        help="compute capability, e.g. 9.0 (H100, default), 8.0, sm_86")
    parser.add_argument("--no-link", action="store_true",
                        help="PTX columns only: skip linking through nvJitLink")
    args = parser.parse_args(argv)
    ptx_report(args.cc, link=not args.no_link)


if __name__ == "__main__":
    main()
