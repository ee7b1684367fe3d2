"""The performance targets the bench is there to show (reported, never asserted).

    CPU   training step at batch 64 (LeNet-5, convnet, ResNet-20): at most 1.5x PyTorch's time
          BatchNorm forward/backward: at least half the measured memory bandwidth
    GPU   matmul 4096^3: at least 0.6 of cuBLAS's speed (time ratio at most 1/0.6)
          conv2d: at most 2x cuDNN's time
          max-pooling: at least 0.5 of the memory bandwidth peak
          convnet training step: at most 2x PyTorch's time
          launch overhead through the engine's dispatch path: at most 15 µs per op

Each target covers the default kernel version only (the ladder's lower rungs are there to show
the climb). A target over several cases reports how many meet it and the worst one.
"""
import statistics


def _default(r) -> bool:
    return r["status"] == "ok" and r.get("default_version", True)


def _group(name, goal_text, cases, value, limit, at_most=True):
    """A target over `cases`: value(r) <= limit (at_most) or >= limit."""
    values = [(value(r), r) for r in cases if value(r) is not None]
    if not values:
        return None
    met = [v for v, _ in values if (v <= limit if at_most else v >= limit)]
    pick = max if at_most else min
    worst_value, worst = pick(values, key=lambda vr: vr[0])
    return {"target": name, "goal": goal_text, "cases": len(values), "met": len(met),
            "median": statistics.median(v for v, _ in values), "worst": worst_value,
            "worst_case": worst["case"], "all_met": len(met) == len(values)}


def evaluate(results, device_kind: str) -> list[dict]:
    ok = [r for r in results if _default(r)]
    ratio = (lambda r: r.get("ratio"))
    rows = []
    if device_kind == "cpu":
        for model in ("lenet5", "convnet", "resnet20"):
            rows.append(_group(f"{model} training step, batch 64, vs torch", "time ratio <= 1.5",
                               [r for r in ok if r["case"] == f"{model}_train_step/b64"],
                               ratio, 1.5))
        rows.append(_group("batch_norm vs memory bandwidth", "fraction >= 0.5",
                           [r for r in ok if r["suite"] == "kernels"
                            and r["name"].startswith("batch_norm")],
                           lambda r: r.get("peak_fraction"), 0.5, at_most=False))
    else:
        rows.append(_group("matmul 4096^3 vs cuBLAS (torch)", "speed >= 0.6 (ratio <= 1.67)",
                           [r for r in ok if r["case"].split("/")[1:2] == ["square4096"]],
                           ratio, 1 / 0.6))
        rows.append(_group("conv2d vs cuDNN", "time ratio <= 2",
                           [r for r in ok if r["suite"] == "kernels"
                            and r["name"].startswith("conv2d")], ratio, 2.0))
        rows.append(_group("max_pool2d vs memory bandwidth", "fraction >= 0.5",
                           [r for r in ok if r["suite"] == "kernels"
                            and r["name"].startswith("max_pool2d")],
                           lambda r: r.get("peak_fraction"), 0.5, at_most=False))
        for model in ("convnet", "resnet20"):
            rows.append(_group(f"{model} training step vs torch", "time ratio <= 2",
                               [r for r in ok if r["suite"] == "models"
                                and r["name"] == f"{model}_train_step"], ratio, 2.0))
        rows.append(_group("launch overhead, engine dispatch path", "<= 15 µs per op",
                           [r for r in ok if r["case"] == "launch_overhead/tensor_op"],
                           lambda r: r.get("us_per_launch"), 15.0))
    return [row for row in rows if row is not None]
