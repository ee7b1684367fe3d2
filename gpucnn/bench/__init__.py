"""gpucnn.bench: the harness behind `gpucnn bench`. Check, time, compare, report.

    env.py           the device, its name, the libraries beside gpucnn, array helpers
    timing.py        clocks (perf_counter; CUDA events) and the warm-up/repeat/median loop
    flops.py         FLOP and byte counts behind every rate, roofline fraction
    reference.py     float64 NumPy references and the relative error the checks use
    case.py          Case / Prepared / Check: a case is cheap to list, prepared on demand
    cases/           the suites: kernels.py, overhead.py (GPU), models.py, scaling.py
    torch_mirror.py  a gpucnn Sequential as a torch.nn.Sequential with the same weights
    peaks.py         FP32 and bandwidth ceilings: a table of GPUs, or measured
    runner.py        check, then time gpucnn and the references, then rates
    report.py        the JSON document and the terminal tables (rich)
    plot.py          --plot: time vs batch/image size, kernels on the roofline (matplotlib)
    main.py          one run from start to end (what the CLI calls)
"""
