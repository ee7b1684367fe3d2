"""The commands on the datasets CI has no real files of, from small synthetic files: CIFAR-10
(3 channels, the ConvNet) and Fashion-MNIST (class names)."""
import json

import numpy as np

from tests.data.synth import write_cifar_dir, write_mnist_dir

from .conftest import invoke, one_line_error


def test_cifar10_convnet_train_evaluate_predict(tmp_path):
    write_cifar_dir(tmp_path / "cifar", per_file=8)  # 40 training images, 8 test images
    result = invoke("train", "--dataset", "cifar10", "--data-dir", tmp_path / "cifar",
                    "--epochs", 1, "--batch-size", 8, "--quiet", "--save", tmp_path / "c.st",
                    "--json", tmp_path / "c.json")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "c.json").read_text())
    assert metrics["model"] == "convnet" and metrics["optimizer"] == "adam"
    assert metrics["train_images"] == 40 and metrics["test_images"] == 8

    evaluated = invoke("evaluate", tmp_path / "c.st")
    assert evaluated.exit_code == 0, evaluated.output
    assert "airplane" in evaluated.output and "truck" in evaluated.output

    from PIL import Image
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    predicted = invoke("predict", tmp_path / "c.st", tmp_path / "rgb.png", "--top-k", 2)
    assert predicted.exit_code == 0, predicted.output
    assert predicted.output.count("%") == 2
    line = one_line_error(invoke("predict", tmp_path / "c.st", tmp_path / "gray.png"))
    assert "grayscale image" in line and "3-channel" in line


def test_fashion_mnist_class_names(tmp_path):
    write_mnist_dir(tmp_path / "fashion", n_train=40, n_test=20)
    result = invoke("train", "--dataset", "fashion-mnist", "--data-dir", tmp_path / "fashion",
                    "--epochs", 1, "--quiet", "--save", tmp_path / "f.st")
    assert result.exit_code == 0, result.output
    evaluated = invoke("evaluate", tmp_path / "f.st")
    assert evaluated.exit_code == 0, evaluated.output
    assert "9 Ankle boot" in evaluated.output
    np.save(tmp_path / "x.npy", np.zeros((28, 28), np.uint8))
    predicted = invoke("predict", tmp_path / "f.st", tmp_path / "x.npy", "--top-k", 10)
    assert predicted.exit_code == 0, predicted.output
    assert "(Ankle boot)" in predicted.output
