"""`gpucnn train`: metrics JSON, the default digits run, determinism, exact resume, Ctrl-C."""
import json
import os
import signal
import time

import numpy as np
import pytest

from gpucnn.training import trainer

from .conftest import assert_same_arrays, invoke, load_arrays

JSON_KEYS = {"test_accuracy", "train_seconds", "images_per_second", "device", "history",
             "dataset", "model", "epochs", "batch_size", "lr", "optimizer", "seed", "test_loss"}
EPOCH_KEYS = {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds",
              "images_per_second"}
TIMING_KEYS = {"seconds", "images_per_second", "train_seconds", "total_seconds",
               "first_step_seconds"}
# A quick digits run for the resume tests: 400 training images, 13 batches of 32 per epoch.
QUICK = ("--train-size", 400, "--batch-size", 32, "--quiet")


def untimed(metrics: dict) -> dict:
    """Metrics without wall-clock times (and without the file names, which differ by design)."""
    out = {k: v for k, v in metrics.items()
           if k not in TIMING_KEYS | {"checkpoint", "resumed_from", "epochs"}}
    out["history"] = [{k: v for k, v in epoch.items() if k not in TIMING_KEYS}
                      for epoch in metrics["history"]]
    return out


def test_one_epoch_json(tmp_path):
    path = tmp_path / "metrics.json"
    result = invoke("train", "--epochs", 1, "--json", path, "--device", "cpu")
    assert result.exit_code == 0, result.output
    metrics = json.loads(path.read_text())
    assert JSON_KEYS <= set(metrics)
    assert metrics["device"] == "cpu" and metrics["dataset"] == "digits"
    assert metrics["model"] == "digits_cnn" and metrics["epochs"] == 1
    assert len(metrics["history"]) == 1 and EPOCH_KEYS <= set(metrics["history"][0])
    assert 0.5 < metrics["test_accuracy"] <= 1 and metrics["images_per_second"] > 0
    # Throughput is the steady state; the first step (kernel compilation) is reported apart.
    assert 0 < metrics["first_step_seconds"] < metrics["train_seconds"]
    assert "after the first step, which took" in result.output
    assert metrics["test_accuracy"] == metrics["history"][-1]["test_accuracy"]
    # The progress bar and the summary line.
    assert "epoch 1/1" in result.output and "img/s" in result.output
    assert "test accuracy" in result.output and "on cpu" in result.output
    assert not list(tmp_path.glob(".tmp-*")), "temporary file left behind"


def test_default_run_reaches_97_percent_within_a_minute(tmp_path):
    start = time.perf_counter()
    result = invoke("train", "--json", tmp_path / "m.json")
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["dataset"] == "digits" and metrics["device"] in ("cpu", "cuda")
    assert metrics["test_accuracy"] >= 0.97, metrics["test_accuracy"]
    assert seconds < 60, f"default run took {seconds:.1f} s"


def test_same_seed_same_result_and_other_seed_differs(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        result = invoke("train", "--epochs", 1, *QUICK, "--seed", seed, "--save",
                        tmp_path / f"{name}.st", "--json", tmp_path / f"{name}.json")
        assert result.exit_code == 0, result.output
    a, b, c = (load_arrays(tmp_path / f"{n}.st") for n in "abc")
    assert_same_arrays(a, b)
    assert not np.array_equal(a["model.0.weight"], c["model.0.weight"])
    ja, jb = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert untimed(ja) == untimed(jb)


def _straight_run(tmp_path, epochs=2):
    result = invoke("train", "--epochs", epochs, *QUICK, "--save", tmp_path / "straight.st",
                    "--json", tmp_path / "straight.json")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "straight.json").read_text())
    return load_arrays(tmp_path / "straight.st"), metrics


def test_resume_after_an_epoch_is_exact(tmp_path):
    straight, straight_metrics = _straight_run(tmp_path)
    first = invoke("train", "--epochs", 1, *QUICK, "--save", tmp_path / "part.st")
    assert first.exit_code == 0, first.output
    second = invoke("train", "--resume", tmp_path / "part.st", "--epochs", 2, "--quiet",
                    "--save", tmp_path / "resumed.st", "--json", tmp_path / "resumed.json")
    assert second.exit_code == 0, second.output
    assert "resuming" in second.output and "epoch 2 batch 1" in second.output
    resumed = load_arrays(tmp_path / "resumed.st")
    assert_same_arrays(straight, resumed)  # weights and optimizer state, bit for bit
    metrics = json.loads((tmp_path / "resumed.json").read_text())
    assert untimed(metrics) == untimed(straight_metrics)
    assert len(metrics["history"]) == 2


class _FailOnCall:
    """Stands in for trainer.forward_backward and interrupts the n-th call."""

    def __init__(self, n, how):
        self.n, self.how, self.calls = n, how, 0
        self.real = trainer.forward_backward

    def __call__(self, *args):
        self.calls += 1
        if self.calls == self.n:
            if self.how == "raise":   # KeyboardInterrupt inside the step: batch not applied
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: the batch completes first
        return self.real(*args)


@pytest.mark.parametrize("how", ["raise", "sigint"])
def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(tmp_path, monkeypatch, how):
    straight, straight_metrics = _straight_run(tmp_path)
    stub = _FailOnCall(20, how)  # epoch 2 (13 batches per epoch), its 7th batch
    monkeypatch.setattr(trainer, "forward_backward", stub)
    result = invoke("train", "--epochs", 2, *QUICK, "--save", tmp_path / "ck.st")
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    last = result.output.strip().splitlines()[-1]
    applied = 6 if how == "raise" else 7
    ck = tmp_path / "ck.st"
    assert last == (f"Error: interrupted in epoch 2, after batch {applied}/13; checkpoint saved "
                    f"to {ck} (continue with: gpucnn train --resume {ck})")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    resumed = invoke("train", "--resume", tmp_path / "ck.st", "--quiet", "--save",
                     tmp_path / "done.st", "--json", tmp_path / "done.json")
    assert resumed.exit_code == 0, resumed.output
    assert f"epoch 2 batch {applied + 1}" in resumed.output
    assert_same_arrays(straight, load_arrays(tmp_path / "done.st"))
    assert untimed(json.loads((tmp_path / "done.json").read_text())) == untimed(straight_metrics)


def test_ctrl_c_without_save_uses_the_default_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(trainer, "forward_backward", _FailOnCall(3, "raise"))
    result = invoke("train", "--epochs", 1, *QUICK)
    assert result.exit_code == 130
    assert "checkpoint saved to gpucnn-interrupted.safetensors" in result.output
    assert (tmp_path / "gpucnn-interrupted.safetensors").is_file()


def test_interrupt_inside_an_optimizer_step_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    from gpucnn import optim
    save = tmp_path / "ck.st"
    assert invoke("train", "--epochs", 1, *QUICK, "--save", save).exit_code == 0
    before = save.read_bytes()
    calls = {"n": 0}
    real_step = optim.SGD.step

    def step(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the second Ctrl-C, half-way through an update
        return real_step(self)
    monkeypatch.setattr(optim.SGD, "step", step)
    result = invoke("train", "--resume", save, "--epochs", 2, "--quiet", "--save", save)
    assert result.exit_code == 130
    assert "inside an optimizer step" in result.output and "keeps the last" in result.output
    assert save.read_bytes() == before


def test_mnist_t10k_split(tmp_path, mnist_dir):
    """The real t10k files: --train-size N trains on N of them and tests on the rest, and
    evaluate finds the same held-out images from what the checkpoint records."""
    result = invoke("train", "--dataset", "mnist", "--data-dir", mnist_dir, "--train-size", 9000,
                    "--epochs", 1, "--quiet", "--json", tmp_path / "m.json",
                    "--save", tmp_path / "lenet.st")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["model"] == "lenet5"
    assert metrics["train_images"] == 9000 and metrics["test_images"] == 1000
    assert metrics["test_accuracy"] > 0.9
    evaluated = invoke("evaluate", tmp_path / "lenet.st", "--json", tmp_path / "e.json")
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["images"] == 1000 and report["correct"] == metrics["test_correct"]


def test_two_split_folder_with_train_size(tmp_path):
    from tests.data.synth import write_mnist_dir
    write_mnist_dir(tmp_path / "mnist", n_train=60, n_test=20)
    result = invoke("train", "--dataset", "mnist", "--data-dir", tmp_path / "mnist",
                    "--train-size", 40, "--epochs", 1, "--quiet", "--json", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["train_images"] == 40 and metrics["test_images"] == 20


@pytest.mark.slow
def test_lenet5_mnist_target(tmp_path, mnist_dir):
    """LeNet-5 on 8,000 real MNIST t10k images, tested on the other 2,000: >= 97% after 4
    epochs of SGD with momentum (the mnist defaults)."""
    start = time.perf_counter()
    result = invoke("train", "--dataset", "mnist", "--data-dir", mnist_dir, "--train-size", 8000,
                    "--epochs", 4, "--optimizer", "sgd", "--momentum", 0.9,
                    "--json", tmp_path / "m.json")
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["model"] == "lenet5" and metrics["optimizer"] == "sgd"
    assert metrics["train_images"] == 8000 and metrics["test_images"] == 2000
    print(f"LeNet-5 mnist 8000/2000: {metrics['test_accuracy']:.2%} in {seconds:.1f} s")
    assert metrics["test_accuracy"] >= 0.97


RECIPES = {
    "adamw_onecycle_augment_smoothing": ("--optimizer", "adamw", "--lr", 0.01, "--scheduler",
                                         "onecycle",
                                         "--augment", "--label-smoothing", 0.1),
    "rmsprop_cosine_decay": ("--optimizer", "rmsprop", "--lr", 1e-3, "--scheduler", "cosine",
                             "--weight-decay", 1e-4),
    "sgd_multistep": ("--scheduler", "multistep", "--weight-decay", 5e-4),
    "adagrad": ("--optimizer", "adagrad",),
    "adadelta": ("--optimizer", "adadelta",),
}


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_recipes_train_and_resume_exactly_after_ctrl_c(tmp_path, monkeypatch, recipe):
    options = RECIPES[recipe]
    straight = invoke("train", "--epochs", 2, *QUICK, *options, "--save",
                      tmp_path / "straight.st", "--json", tmp_path / "straight.json")
    assert straight.exit_code == 0, straight.output
    metrics = json.loads((tmp_path / "straight.json").read_text())
    assert metrics["test_accuracy"] > 0.25, metrics   # it learns (10 classes: chance is 0.1)
    monkeypatch.setattr(trainer, "forward_backward", _FailOnCall(18, "raise"))
    stopped = invoke("train", "--epochs", 2, *QUICK, *options, "--save", tmp_path / "ck.st")
    monkeypatch.undo()
    assert stopped.exit_code == 130, stopped.output
    resumed = invoke("train", "--resume", tmp_path / "ck.st", "--quiet", "--save",
                     tmp_path / "done.st", "--json", tmp_path / "done.json")
    assert resumed.exit_code == 0, resumed.output
    assert_same_arrays(load_arrays(tmp_path / "straight.st"), load_arrays(tmp_path / "done.st"))
    assert untimed(json.loads((tmp_path / "done.json").read_text())) == untimed(metrics)


def test_augment_changes_the_run_and_is_recorded(tmp_path):
    for name, extra in (("plain", ()), ("augmented", ("--augment",))):
        result = invoke("train", "--epochs", 1, *QUICK, *extra, "--json",
                        tmp_path / f"{name}.json")
        assert result.exit_code == 0, result.output
    plain, augmented = (json.loads((tmp_path / f"{n}.json").read_text())
                        for n in ("plain", "augmented"))
    assert augmented["augment"] is True and plain["augment"] is False
    assert augmented["history"][0]["train_loss"] != plain["history"][0]["train_loss"]


@pytest.mark.parametrize("args, message", [
    (("--label-smoothing", 2), "--label-smoothing must lie in"),
    (("--weight-decay", -1), "--weight-decay must be"),
    (("--scheduler", "cosine", "--lr-decay", 0.5), "--lr-decay applies to --scheduler exponential"),
])
def test_bad_recipe_options_are_one_line_errors(args, message):
    from .conftest import one_line_error
    assert message in one_line_error(invoke("train", *QUICK, *args))


def test_a_fixed_length_schedule_cannot_be_stretched_on_resume(tmp_path):
    from .conftest import one_line_error
    first = invoke("train", "--epochs", 1, *QUICK, "--scheduler", "onecycle", "--save",
                   tmp_path / "ck.st")
    assert first.exit_code == 0, first.output
    line = one_line_error(invoke("train", "--resume", tmp_path / "ck.st", "--epochs", 3))
    assert "onecycle schedule" in line
    line = one_line_error(invoke("train", "--resume", tmp_path / "ck.st", "--epochs", 2,
                                 "--scheduler", "cosine"))
    assert "differs" in line


# The BatchNorm + dropout CNN's recipe for the 8,000 / 2,000 MNIST split: a higher rate on a
# one-cycle schedule, for three epochs where LeNet-5's defaults take four.
BN_CNN_RECIPE = ("--model", "bn_cnn", "--epochs", 3, "--lr", 0.1, "--scheduler", "onecycle")


@pytest.mark.slow
def test_bn_cnn_beats_lenet5_on_mnist_in_the_same_time(tmp_path, mnist_dir):
    """On 8,000 real MNIST t10k images, tested on the other 2,000: the BatchNorm + dropout CNN
    reaches a higher accuracy than LeNet-5 with its defaults, training no longer (within 10%,
    the timing noise of a shared machine)."""
    runs = {}
    for name, options in (("lenet5", ("--model", "lenet5")), ("bn_cnn", BN_CNN_RECIPE)):
        result = invoke("train", "--dataset", "mnist", "--data-dir", mnist_dir, "--train-size",
                        8000, "--device", "cpu", "--quiet", *options,
                        "--json", tmp_path / f"{name}.json")
        assert result.exit_code == 0, result.output
        runs[name] = json.loads((tmp_path / f"{name}.json").read_text())
    lenet, bn = runs["lenet5"], runs["bn_cnn"]
    print(f"LeNet-5 {lenet['test_accuracy']:.2%} in {lenet['train_seconds']:.1f} s; bn_cnn "
          f"{bn['test_accuracy']:.2%} in {bn['train_seconds']:.1f} s")
    assert bn["test_accuracy"] > lenet["test_accuracy"]
    assert bn["train_seconds"] <= 1.1 * lenet["train_seconds"]
