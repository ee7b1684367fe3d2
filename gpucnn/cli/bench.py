"""`gpucnn bench`: check, time and compare gpucnn's kernels and models against PyTorch."""
import click

from ..bench.cases import SUITES, cases_for
from ..bench.env import BenchEnv, BenchError, resolve_device
from ..bench.main import run


@click.command()
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True,
              help="Where to run: 'cuda' (the numba.cuda kernels), 'cpu' (their @njit twins), or "
                   "'auto' (the GPU when numba sees one, else the CPU).")
@click.option("--suite", type=click.Choice([*SUITES, "all"]),
              default="all", show_default=True,
              help="kernels: conv2d forward/backward-data/backward-filter, max_pool2d "
                   "forward/backward and matmul (A·B, A·Bᵀ, Aᵀ·B) at LeNet-5 and CIFAR-convnet "
                   "layer shapes (on the GPU: every kernel version, 1024³/4096³ matmul, launch "
                   "overhead). models: training step and inference of both models in images/s. "
                   "scaling: time against batch size and image size, up to a 720x960x3 photo. "
                   "distributed: jobs of 1 and 2 ranks (mpiexec): allreduce bandwidth and a "
                   "DistributedDataParallel training step, against torch.distributed.")
@click.option("--quick", is_flag=True,
              help="Fewer repeats, batch and image sizes (under 3 minutes on a 2-core CPU).")
@click.option("--json", "json_path", is_flag=False, flag_value="", default=None,
              metavar="[PATH]",
              help="Write the results as JSON to PATH; with no PATH, to "
                   "bench/results/<device-slug>-<YYYY-MM-DD>.json.")
@click.option("--plot", "plot_path", default=None, metavar="PATH",
              help="Write a PNG of time against batch and image size and of each kernel on the "
                   "roofline (needs matplotlib: pip install 'gpucnn[bench]').")
@click.option("--repeat", type=click.IntRange(min=1), default=None, metavar="N",
              help="Timed repeats per case; the median and IQR are reported "
                   "[default: 20, 7 with --quick].")
@click.option("--case", "case", default=None, metavar="NAME",
              help="Only the cases whose name contains NAME, e.g. 'conv2d_forward/lenet' or "
                   "'convnet' (see --list).")
@click.option("--list", "list_only", is_flag=True,
              help="List the selected cases' names and exit without running them.")
@click.option("--seed", type=int, default=None, hidden=True,
              help="Seed for the random inputs (default: fresh each run, recorded in the JSON).")
@click.option("--no-peak-measure", is_flag=True, hidden=True,
              help="On a GPU in the table of known devices, skip measuring the peaks (tests).")
def bench(device, suite, quick, json_path, plot_path, repeat, case, list_only, seed,
          no_peak_measure):
    """Check, time and compare gpucnn against PyTorch (and CuPy on the GPU).

    Every case is first checked (against a float64 NumPy reference on the CPU, the CPU twin
    on the GPU); a case that fails is reported and not timed. Timing warms up, reports the
    first call (JIT) apart, and takes the median over repeats with inputs rotated among
    several fresh random sets. The headline is ratio = gpucnn time / reference time.
    """
    try:
        if list_only:
            _list(device, suite, quick, case)
            return
        run(device=device, suite=suite, quick=quick, repeat=repeat, case=case,
            json_path=json_path, plot_path=plot_path, seed=seed,
            measure_peaks=not no_peak_measure,
            log=lambda line: click.echo(line, err=True))
    except BenchError as error:
        raise click.ClickException(str(error)) from None


def _list(device, suite, quick, case):
    env = BenchEnv.create(resolve_device(device), 0, quick, use_torch=False, use_cupy=False)
    for c in cases_for(env, SUITES if suite == "all" else (suite,), case):
        click.echo(f"{c.case_id:55s} {c.shape}")
