"""--plot: a PNG with time against batch size (and image size), and each kernel on the roofline.

matplotlib is an optional extra: `pip install "gpucnn[bench]"`.
"""
from .env import BenchError


def require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BenchError('--plot needs matplotlib, which is not installed: '
                         'pip install "gpucnn[bench]" (or pip install matplotlib)') from None


def _sweep(results, sweep, key):
    """{name: ([x], [gpucnn ms], [reference ms])} for the scaling results of one sweep."""
    lines = {}
    for r in results:
        if r.get("sweep") != sweep or r["status"] != "ok":
            continue
        xs, ours, theirs = lines.setdefault(r["name"], ([], [], []))
        xs.append(r[key])
        ours.append(r["gpucnn_ms"])
        theirs.append(r.get("reference_ms"))
    return lines


def plot(doc: dict, path: str):
    require_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = doc["results"]
    fig, (ax_batch, ax_image, ax_roof) = plt.subplots(1, 3, figsize=(18, 5.5))
    fig.suptitle(f"gpucnn bench: {doc['device']} ({doc['date']})")

    for ax, sweep, key, label in ((ax_batch, "batch", "batch", "batch size"),
                                  (ax_image, "image", "pixels", "pixels per image (batch 1)")):
        lines = _sweep(results, sweep, key)
        for name, (xs, ours, theirs) in lines.items():
            line, = ax.plot(xs, ours, "o-", label=f"{name} gpucnn")
            if any(t is not None for t in theirs):
                ax.plot([x for x, t in zip(xs, theirs) if t is not None],
                        [t for t in theirs if t is not None], "s--", color=line.get_color(),
                        alpha=0.6, label=f"{name} reference")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("ms per call")
        ax.grid(True, which="both", alpha=0.3)
        if lines:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no scaling results\n(run --suite scaling)", ha="center",
                    transform=ax.transAxes)
    ax_batch.set_title("time vs batch size")
    ax_image.set_title("conv 3->16 3x3 forward vs image size")

    peaks = doc["peaks"]
    points = [r for r in results if r["status"] == "ok" and r["suite"] == "kernels"
              and r.get("flops") and r.get("bytes") and r.get("gflops")]
    ax_roof.set_title("roofline (kernels suite)")
    ax_roof.set_xscale("log")
    ax_roof.set_yscale("log")
    ax_roof.set_xlabel("arithmetic intensity (FLOP / byte, minimum traffic)")
    ax_roof.set_ylabel("GFLOP/s")
    ax_roof.grid(True, which="both", alpha=0.3)
    if points:
        intensities = [r["flops"] / r["bytes"] for r in points]
        if peaks.get("fp32_gflops") and peaks.get("bandwidth_gbs"):
            lo, hi = min(intensities) / 2, max(intensities) * 2
            xs = [lo * (hi / lo) ** (i / 100) for i in range(101)]
            ax_roof.plot(xs, [min(peaks["fp32_gflops"], x * peaks["bandwidth_gbs"]) for x in xs],
                         "k-", lw=2, label=f"roof ({peaks['source']})")
        ops = sorted({r["name"] for r in points})
        cmap = plt.get_cmap("tab10")
        for i, op in enumerate(ops):
            sel = [(ai, r["gflops"]) for ai, r in zip(intensities, points) if r["name"] == op]
            ax_roof.scatter([a for a, _ in sel], [g for _, g in sel], s=18, color=cmap(i % 10),
                            label=op)
        pools = sum(1 for r in results if r["status"] == "ok" and r["name"].startswith("max_pool"))
        if pools:
            ax_roof.text(0.02, 0.02, f"{pools} pooling cases: 0 FLOPs, see GB/s in the JSON",
                         transform=ax_roof.transAxes, fontsize=7)
        ax_roof.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
