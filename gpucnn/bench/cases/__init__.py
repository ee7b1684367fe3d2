"""The bench's cases by suite: kernels (plus GPU launch overhead), models, scaling."""
from . import kernels, models, overhead, scaling

SUITES = ("kernels", "models", "scaling")


def cases_for(env, suites, match: str | None = None) -> list:
    """Every case of `suites` on env's device whose case id contains `match` (if given)."""
    found = []
    for suite in suites:
        if suite == "kernels":
            found += kernels.cases(env) + overhead.cases(env)
        elif suite == "models":
            found += models.cases(env)
        elif suite == "scaling":
            found += scaling.cases(env)
        else:
            raise ValueError(f"unknown suite {suite!r}; expected one of {SUITES}")
    if match:
        found = [c for c in found if match in c.case_id]
    return found
