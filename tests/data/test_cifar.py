"""CIFAR-10 binary reader, on synthetic files written by the test."""
import numpy as np
import pytest

from gpucnn.data import DataFileNotFoundError, DataFormatError, load_dataset, read_cifar_batch

from .synth import CIFAR_TEST, CIFAR_TRAIN, cifar_records, write_cifar_dir


def test_read_batch_layout(tmp_path):
    data, images = cifar_records([3, 0, 9], seed=1)
    p = tmp_path / "data_batch_1.bin"
    p.write_bytes(data)
    got, labels = read_cifar_batch(p)
    assert got.shape == (3, 3, 32, 32) and got.dtype == np.uint8
    assert labels.tolist() == [3, 0, 9] and labels.dtype == np.int64
    np.testing.assert_array_equal(got, images)
    # Planes come out in R, G, B order (the synthetic planes have disjoint value ranges).
    assert got[:, 0].max() < 80 and 100 <= got[:, 1].min() and got[:, 1].max() < 180
    assert got[:, 2].min() >= 200


@pytest.mark.parametrize("subfolder", [False, True])
def test_load_dataset_cifar10(tmp_path, subfolder):
    folder = tmp_path / "cifar-10-batches-bin" if subfolder else tmp_path
    written = write_cifar_dir(folder, per_file=4)
    train, test = load_dataset("cifar10", data_dir=tmp_path)
    assert (len(train), len(test)) == (20, 4)
    assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == np.float32
    assert 0.0 <= train.images.min() and train.images.max() <= 1.0
    assert train.classes[0] == "airplane" and train.classes[9] == "truck" and train.num_classes == 10
    expected = np.concatenate([written[f][0] for f in CIFAR_TRAIN])
    np.testing.assert_array_equal(np.rint(train.images * 255).astype(np.uint8), expected)
    np.testing.assert_array_equal(test.labels, written[CIFAR_TEST][1])


def test_bad_size(tmp_path):
    write_cifar_dir(tmp_path)
    p = tmp_path / "data_batch_3.bin"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(DataFormatError, match="3073") as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert str(p) in str(info.value)


def test_empty_file(tmp_path):
    p = tmp_path / "test_batch.bin"
    p.write_bytes(b"")
    with pytest.raises(DataFormatError, match="multiple"):
        read_cifar_batch(p)


def test_label_out_of_range(tmp_path):
    data, _ = cifar_records([1, 2, 10])
    p = tmp_path / "data_batch_1.bin"
    p.write_bytes(data)
    with pytest.raises(DataFormatError, match="record 2 has label 10") as info:
        read_cifar_batch(p)
    assert str(p) in str(info.value)


def test_missing_file(tmp_path):
    write_cifar_dir(tmp_path)
    (tmp_path / "data_batch_5.bin").unlink()
    with pytest.raises(DataFileNotFoundError, match="data_batch_5.bin") as info:
        load_dataset("cifar10", data_dir=tmp_path)
    assert isinstance(info.value, FileNotFoundError)
    assert "data_batch_4.bin" not in str(info.value)
