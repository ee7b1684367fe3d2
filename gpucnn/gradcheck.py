"""`gpucnn.gradcheck`: central finite differences against the analytic gradients.

The kernels compute in float32, so the check projects the output on a fixed random tensor R
and differentiates the float64 scalar L = sum(fn(inputs) * R): the perturbations and the
difference quotient are float64, and the step is large enough that float32 rounding of the
outputs stays well below the tolerance.
"""
import numpy as np

from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-2, atol=1e-2, rtol=1e-2, raise_exception=True, seed=0):
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, not a Tensor")
    wanted = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad")
    devices = [t.device for t in inputs]
    hosts = [t.numpy().astype(np.float64) if t.dtype.is_floating_point else t.numpy()
             for t in inputs]

    def evaluate(arrays, track):
        tensors = [Tensor(a, device=d, requires_grad=track and i in wanted)
                   for i, (a, d) in enumerate(zip(arrays, devices))]
        return tensors, fn(*tensors)

    tensors, out = evaluate(hosts, True)
    projection = np.random.default_rng(seed).uniform(0.5, 1.5, out.shape)
    out.backward(projection.astype(np.float32))
    analytic = {i: tensors[i].grad.numpy().astype(np.float64) for i in wanted}

    def loss(arrays):
        _, value = evaluate(arrays, False)
        return float(np.sum(value.numpy().astype(np.float64) * projection))

    failures = []
    for i in wanted:
        numeric = np.zeros_like(hosts[i])
        flat = hosts[i].reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + eps
            plus = loss(hosts)
            flat[j] = saved - eps
            minus = loss(hosts)
            flat[j] = saved
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        bad = np.abs(analytic[i] - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            worst = np.unravel_index(np.argmax(np.abs(analytic[i] - numeric)), numeric.shape)
            failures.append(f"input {i} {inputs[i].shape}: {int(bad.sum())} of {numeric.size} "
                            f"elements differ; worst at {worst}: analytic {analytic[i][worst]:.6g}, "
                            f"numeric {numeric[worst]:.6g}")
    if failures:
        if raise_exception:
            raise GradcheckError("gradcheck failed:\n" + "\n".join(failures))
        return False
    return True
