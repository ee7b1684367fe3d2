"""The bench's cases by suite: kernels (plus bandwidth-bound tensor ops and GPU launch
overhead), models, scaling; the distributed suite runs jobs of several processes instead of
cases (gpucnn/bench/distributed.py)."""
from . import batch_norm, kernels, models, overhead, scaling, tensor_ops

SUITES = ("kernels", "models", "scaling", "distributed")


def cases_for(env, suites, match: str | None = None) -> list:
    """Every case of `suites` on env's device whose case id contains `match` (if given)."""
    found = []
    for suite in suites:
        if suite == "kernels":
            found += (kernels.cases(env) + tensor_ops.cases(env) + batch_norm.cases(env) +
                      overhead.cases(env))
        elif suite == "models":
            found += models.cases(env)
        elif suite == "scaling":
            found += scaling.cases(env)
        elif suite == "distributed":
            pass   # jobs, not in-process cases: see gpucnn/bench/distributed.py
        else:
            raise ValueError(f"unknown suite {suite!r}; expected one of {SUITES}")
    if match:
        found = [c for c in found if match in c.case_id]
    return found
