"""Bad input: one "Error: ..." line, a non-zero exit code, and no file on disk touched."""
import gzip
import shutil

import pytest

import gpucnn

from .conftest import invoke, one_line_error, snapshot

QUIET = ("--quiet",)


@pytest.fixture
def workdir(tmp_path, digits_checkpoint):
    """A folder holding files a bad command must leave alone: a --save target, a --json
    target and a real checkpoint."""
    (tmp_path / "existing.st").write_bytes(b"the last good checkpoint")
    (tmp_path / "metrics.json").write_text('{"old": true}')
    shutil.copy(digits_checkpoint, tmp_path / "digits.st")
    return tmp_path


def check_refused(workdir, *args, match):
    before = snapshot(workdir)
    result = invoke(*args)
    line = one_line_error(result)
    for needle in ([match] if isinstance(match, str) else match):
        assert needle in line, line
    assert snapshot(workdir) == before, "a refused command changed files on disk"
    return line


def train_args(workdir, *args):
    return ("train", *args, *QUIET, "--save", workdir / "existing.st",
            "--json", workdir / "metrics.json")


@pytest.mark.parametrize("args, match", [
    (("--batch-size", 0), "--batch-size must be >= 1, got 0"),
    (("--lr", -0.1), "--lr must be a positive number, got -0.1"),
    (("--epochs", 0), "--epochs must be >= 1, got 0"),
    (("--epochs", -3), "--epochs must be >= 1, got -3"),
    (("--momentum", 1.5), "--momentum must lie in [0, 1)"),
    (("--optimizer", "adam", "--momentum", 0.9), "--momentum applies to --optimizer sgd only"),
    (("--lr-decay", 0), "--lr-decay must lie in (0, 1]"),
    (("--threads", 0), "--threads must be >= 1"),
    (("--download",), "--download: digits needs no download"),
    (("--train-size", 5000), "--train-size 5000: digits has 1,438 training images"),
    (("--model", "lenet5"), ["model lenet5 expects 28x28 images",
                             "dataset digits has 8x8 images", "digits_cnn"]),
])
def test_bad_options(workdir, args, match):
    check_refused(workdir, *train_args(workdir, *args), match=match)


def test_cuda_without_gpu(workdir, monkeypatch):
    monkeypatch.setattr(gpucnn.cuda, "is_available", lambda: False)
    check_refused(workdir, *train_args(workdir, "--device", "cuda"),
                  match=["--device cuda: no CUDA GPU is available", "--device cpu"])


def test_missing_data_files(workdir):
    empty = workdir / "empty"
    empty.mkdir()
    check_refused(workdir, *train_args(workdir, "--dataset", "mnist", "--data-dir", empty),
                  match=["not found in", str(empty)])


def test_t10k_only_needs_train_size(workdir, mnist_dir):
    check_refused(workdir, *train_args(workdir, "--dataset", "mnist", "--data-dir", mnist_dir),
                  match=["holds only the t10k (test) files", "--train-size"])


def test_truncated_data_file(workdir, mnist_dir):
    cut = workdir / "cut"
    cut.mkdir()
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", cut)
    raw = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    (cut / "t10k-images-idx3-ubyte").write_bytes(raw[:len(raw) // 2])  # half the images
    check_refused(workdir, *train_args(workdir, "--dataset", "mnist", "--data-dir", cut,
                                       "--train-size", 100),
                  match=["t10k-images-idx3-ubyte", "truncated"])


def test_resume_from_a_missing_checkpoint_keeps_save(workdir):
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "nope.st"),
                  match=["nope.st: no such file"])


def test_resume_from_a_corrupt_checkpoint_keeps_save(workdir):
    (workdir / "garbage.st").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "garbage.st"),
                  match=["garbage.st", "unreadable"])


def test_truncated_checkpoint(workdir):
    data = (workdir / "digits.st").read_bytes()
    (workdir / "cut.st").write_bytes(data[:len(data) // 2])
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "cut.st"),
                  match=["cut.st", "truncated"])


def test_checkpoint_of_another_model_names_the_keys(workdir):
    line = check_refused(workdir, *train_args(workdir, "--resume", workdir / "digits.st",
                                              "--model", "lenet5", "--epochs", 5),
                         match=["does not fit model lenet5", "saved from model digits_cnn",
                                "unexpected keys", "missing keys"])
    assert "7.weight" in line and "0.weight: got (16, 1, 3, 3), expected (6, 1, 5, 5)" in line


def test_evaluate_with_another_model_names_the_keys(workdir):
    check_refused(workdir, "evaluate", workdir / "digits.st", "--model", "convnet",
                  match=["does not fit model convnet", "0.weight: got (16, 1, 3, 3), expected (32, 1, 3, 3)"])


def test_weights_only_file_of_another_model(workdir):
    gpucnn.manual_seed(0)
    from gpucnn.models import get_model
    gpucnn.save(get_model("lenet5").state_dict(), workdir / "lenet.st")
    check_refused(workdir, "evaluate", workdir / "lenet.st", "--model", "digits_cnn",
                  "--dataset", "digits",
                  match=["does not fit model digits_cnn", "missing keys", "mis-shaped"])


def test_resume_with_changed_hyper_parameters(workdir):
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "digits.st", "--lr", 0.5,
                                       "--epochs", 5),
                  match="--lr 0.5 differs from the checkpoint's 0.03")


def test_resume_of_a_finished_run(workdir):
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "digits.st"),
                  match="already has 3 of 3 epochs")


def test_resume_from_weights_only(workdir):
    gpucnn.save(gpucnn.load(workdir / "digits.st"), workdir / "weights.st")
    check_refused(workdir, *train_args(workdir, "--resume", workdir / "weights.st"),
                  match="a weights-only file, not a checkpoint")


def test_save_to_a_directory(workdir):
    (workdir / "adir").mkdir()
    result = invoke("train", "--epochs", 1, "--quiet", "--save", workdir / "adir")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "directory" in result.output


def test_evaluate_on_data_of_another_size(workdir, mnist_dir):
    check_refused(workdir, "evaluate", workdir / "digits.st", "--dataset", "mnist",
                  "--data-dir", mnist_dir, "--train-size", 8000,
                  match="model digits_cnn expects 8x8 images, but dataset mnist has 28x28 images")
