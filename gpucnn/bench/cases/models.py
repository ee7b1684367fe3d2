"""The `models` suite: a full training step and inference, gpucnn against the same torch model.

A training step is what `gpucnn train` does per batch: zero_grad, forward, cross-entropy,
backward, SGD step (lr 0.01, momentum 0.9), with nothing read back to the host. Inference is a
forward pass under no_grad. The torch model is a torch.nn.Sequential mirror loaded with the
gpucnn model's state_dict, trained with torch.optim.SGD at the same settings, in this process,
on the same batches.

Check, before timing: two training steps on one batch. The first step's loss must equal
torch's within 1e-4 relative (same weights, same forward); the second one's too, which it only
does when the first step's gradients and SGD update matched torch's. Inference compares the
logits (||a - b|| / ||b|| < 1e-4).
"""
from functools import partial

import numpy as np

from ... import models
from ...autograd import no_grad
from ...nn import functional as F
from ...optim import SGD
from ...factories import tensor
from ..case import Case, Check, Prepared, Timed, sets_for, timed_first_call
from ..flops import model_flops
from ..reference import relative_l2_error
from ..torch_mirror import mirror
from .common import batches

MODELS = {"lenet5": (1, 28, 28), "convnet": (3, 32, 32), "resnet20": (3, 32, 32)}
CLASSES = 10
LR, MOMENTUM = 0.01, 0.9
LOSS_TOLERANCE = 1e-4
MODES = ("train_step", "inference")


def cases(env) -> list[Case]:
    return [model_case(model, mode, batch)
            for batch in batches(env) for model in MODELS for mode in MODES]


def model_case(model, mode, batch, suite="models") -> Case:
    chw = MODELS[model]
    forward, train = model_flops(models.get_model(model, chw[0], CLASSES), chw)
    flops = batch * (train if mode == "train_step" else forward)
    shape = f"x {batch}x{'x'.join(map(str, chw))}, {CLASSES} classes"
    prefix = "" if suite == "models" else f"{suite}/"
    return Case(suite, f"{model}_{mode}", f"{prefix}{model}_{mode}/b{batch}", shape, flops, None,
                partial(_prepare, model, mode, batch), batch=batch, images=batch,
                meta={"model": model, "mode": mode,
                      "flops_note": "forward + weight grads + data grads but the first layer's"
                      if mode == "train_step" else "forward"})


def _prepare(model_name, mode, batch, env) -> Prepared:
    chw = MODELS[model_name]
    model = models.get_model(model_name, chw[0], CLASSES).to(env.device)
    optimizer = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def make_host():
        return (env.rand(batch, *chw),
                env.rng.integers(0, CLASSES, size=batch).astype(np.int64))

    n_sets = sets_for(env, 4 * batch * int(np.prod(chw)))
    hosts = [make_host() for _ in range(n_sets)]
    sets = [(tensor(x, device=env.device), tensor(y, device=env.device)) for x, y in hosts]

    def train_step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def infer(x):
        with no_grad():
            return model(x)

    if mode == "train_step":
        def run(i):
            return train_step(*sets[i % n_sets])
    else:
        def run(i):
            return infer(sets[i % n_sets][0])

    twin = None
    refs = []
    if env.torch is not None:
        twin, torch_run = _torch_side(env, model, mode, hosts)
        refs.append(Timed(f"torch {env.torch.__version__} "
                          f"{'cudnn/cublas' if env.on_gpu else 'onednn/mkl'} fp32 (same model)",
                          torch_run, None))

    def check():
        x, y = make_host()
        gx, gy = tensor(x, device=env.device), tensor(y, device=env.device)
        if mode == "inference":
            logits, first = timed_first_call(env, lambda: infer(gx))
            if twin is None:
                return _finite_only(logits.numpy(), first)
            expected = twin["infer"](x)
            err = relative_l2_error(logits.numpy(), expected)
            return _result(err, "logits vs torch (same weights)", first)
        loss1, first = timed_first_call(env, lambda: train_step(gx, gy))
        loss2 = train_step(gx, gy)
        ours = [float(loss1.item()), float(loss2.item())]
        if twin is None:
            return _finite_only(np.array(ours), first)
        theirs = twin["steps"](x, y, 2)
        errs = [abs(a - b) / max(abs(b), 1e-30) for a, b in zip(ours, theirs)]
        detail = (f"losses {ours[0]:.6f}, {ours[1]:.6f} vs torch {theirs[0]:.6f}, "
                  f"{theirs[1]:.6f} (step 1: forward; step 2: after backward + SGD)")
        return _result(max(errs), detail, first)

    return Prepared(run, check, refs, n_sets,
                    extra={"images": batch, "lr": LR, "momentum": MOMENTUM})


def _result(err, detail, first):
    ok = bool(np.isfinite(err) and err < LOSS_TOLERANCE)
    return Check(ok, float(err), detail if ok else f"{detail}: error {err:.3g} >= "
                 f"{LOSS_TOLERANCE:g}", first)


def _finite_only(values, first):
    ok = bool(np.all(np.isfinite(values)))
    return Check(ok, None, "finite output only (no torch on this device to compare with)",
                 first)


def _torch_side(env, model, mode, hosts):
    """(check helpers, timed call) for the torch mirror of `model`, on the same batches."""
    torch = env.torch
    device = "cuda" if env.on_gpu else "cpu"
    net = mirror(torch, model, device)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.functional.cross_entropy
    tsets = [(env.torch_tensor(x), env.torch_tensor(y)) for x, y in hosts]

    def train_step(x, y):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def steps(x, y, count):
        x, y = env.torch_tensor(x), env.torch_tensor(y)
        return [float(train_step(x, y).item()) for _ in range(count)]

    def infer(x):
        with torch.no_grad():
            return net(env.torch_tensor(x)).cpu().numpy()

    if mode == "train_step":
        def run(i):
            return train_step(*tsets[i % len(tsets)])
    else:
        def run(i):
            with torch.no_grad():
                return net(tsets[i % len(tsets)][0])
    return {"steps": steps, "infer": infer}, run
