"""IDX reader: the real MNIST test set, and every way a file can be wrong."""
import gzip
import shutil

import numpy as np
import pytest

from gpucnn.data import (CHECKSUMS, DataFileNotFoundError, DataFormatError, load_dataset,
                         load_idx_pair, read_idx, split, verify_file)
from gpucnn.data.idx import load_idx_dataset

from .synth import idx_bytes, mnist_like, write_idx, write_mnist_dir

# Published facts about the MNIST test set, checked against the real files.
T10K_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
T10K_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- the real MNIST test set ---------------------------------------------------------------

def test_real_mnist_raw_arrays(mnist_files):
    images_path, labels_path = mnist_files
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert labels[0] == 7
    assert labels[:10].tolist() == T10K_FIRST_LABELS
    assert np.bincount(labels, minlength=10).tolist() == T10K_CLASS_COUNTS
    # The widely quoted normalisation constants of the MNIST test set (mean 0.1325, std 0.3105
    # of pixels scaled to [0, 1]): a reader that scrambled bytes or headers would miss them.
    scaled = images / 255.0
    assert abs(scaled.mean() - 0.1325) < 1e-4 and abs(scaled.std() - 0.3105) < 1e-4
    assert images.flags.writeable


def test_real_mnist_as_dataset(mnist_files):
    ds = load_idx_pair(*mnist_files)
    raw = read_idx(mnist_files[0])
    assert len(ds) == 10000 and ds.num_classes == 10 and ds.name == "mnist"
    assert ds.images.shape == (10000, 1, 28, 28) and ds.images.dtype == np.float32
    assert ds.labels.dtype == np.int64 and ds.labels[0] == 7
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    np.testing.assert_array_equal(np.rint(ds.images[:, 0] * 255).astype(np.uint8), raw)
    assert ds.class_counts().tolist() == T10K_CLASS_COUNTS


def test_real_mnist_gz_and_uncompressed_agree(mnist_files, tmp_path):
    for src in mnist_files:
        with gzip.open(src, "rb") as f, open(tmp_path / src.stem, "wb") as out:
            shutil.copyfileobj(f, out)
    plain = load_idx_pair(tmp_path / mnist_files[0].stem, tmp_path / mnist_files[1].stem)
    gz = load_idx_pair(*mnist_files)
    np.testing.assert_array_equal(plain.images, gz.images)
    np.testing.assert_array_equal(plain.labels, gz.labels)


def test_real_mnist_matches_published_md5(mnist_files):
    # Confirms the checksum table used for downloads against the real official files.
    for path in mnist_files:
        verify_file(path, CHECKSUMS["mnist"][path.name])


def test_real_mnist_dir_reports_missing_train_files(mnist_files):
    with pytest.raises(DataFileNotFoundError) as info:
        load_dataset("mnist", data_dir=mnist_files[0].parent)
    msg = str(info.value)
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg
    assert "t10k" in msg and "split" in msg  # says how to use the test files alone
    assert isinstance(info.value, FileNotFoundError)


def test_real_mnist_8000_2000_split(mnist_files):
    full = load_idx_pair(*mnist_files)
    train, test = split(full, 8000, seed=0)
    assert (len(train), len(test)) == (8000, 2000)
    again_train, again_test = split(full, 8000, seed=0)
    np.testing.assert_array_equal(train.labels, again_train.labels)
    np.testing.assert_array_equal(test.images, again_test.images)
    # Every class is in both halves in roughly its overall proportion.
    frac = test.class_counts() / np.array(T10K_CLASS_COUNTS)
    assert np.all((frac > 0.15) & (frac < 0.25))
    assert (train.class_counts() + test.class_counts()).tolist() == T10K_CLASS_COUNTS


# --- synthetic files: formats and errors ---------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_all_types_round_trip(tmp_path, dtype):
    arr = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    if dtype == np.uint8:
        arr = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    out = read_idx(write_idx(tmp_path / "a.idx", arr))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_gzip_detected_by_content_not_name(tmp_path):
    images, _ = mnist_like(3)
    p = write_idx(tmp_path / "images-no-suffix", images, gz=True)
    np.testing.assert_array_equal(read_idx(p), images)


def test_truncated_file(tmp_path):
    images, _ = mnist_like(5)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:-100])
    with pytest.raises(DataFormatError, match="truncated") as info:
        read_idx(p)
    assert str(p) in str(info.value) and "(5, 28, 28)" in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    images, _ = mnist_like(5)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(idx_bytes(images))[:-200])
    with pytest.raises(DataFormatError, match="truncated") as info:
        read_idx(p)
    assert str(p) in str(info.value)


def test_trailing_bytes_rejected(tmp_path):
    p = tmp_path / "labels"
    p.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"\0\0\0")
    with pytest.raises(DataFormatError, match="3 unexpected bytes") as info:
        read_idx(p)
    assert str(p) in str(info.value)


def test_not_idx_at_all(tmp_path):
    p = tmp_path / "junk"
    p.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(DataFormatError, match="not an IDX file") as info:
        read_idx(p)
    assert str(p) in str(info.value)
    short = tmp_path / "short"
    short.write_bytes(b"\0\0")
    with pytest.raises(DataFormatError, match="too short"):
        read_idx(short)


def test_wrong_magic_names_the_file(tmp_path):
    images, labels = mnist_like(4)
    img = write_idx(tmp_path / "imgs.gz", images)
    lab = write_idx(tmp_path / "labs.gz", labels)
    with pytest.raises(DataFormatError, match="magic number 2049") as info:
        load_idx_pair(lab, img)  # swapped
    assert str(lab) in str(info.value) and "2051" in str(info.value)


def test_count_mismatch_names_both_files(tmp_path):
    images, labels = mnist_like(5)
    img = write_idx(tmp_path / "imgs.gz", images)
    lab = write_idx(tmp_path / "labs.gz", labels[:4])
    with pytest.raises(DataFormatError, match="count mismatch") as info:
        load_idx_pair(img, lab)
    msg = str(info.value)
    assert str(img) in msg and str(lab) in msg and "5 images" in msg and "4 labels" in msg


def test_label_out_of_range(tmp_path):
    images, labels = mnist_like(5)
    labels[3] = 10
    img = write_idx(tmp_path / "imgs", images)
    lab = write_idx(tmp_path / "labs", labels)
    with pytest.raises(DataFormatError, match="label 10 at index 3") as info:
        load_idx_pair(img, lab)
    assert str(lab) in str(info.value)


def test_missing_file(tmp_path):
    images, _ = mnist_like(2)
    img = write_idx(tmp_path / "imgs", images)
    missing = tmp_path / "nope-labels-idx1-ubyte.gz"
    with pytest.raises(FileNotFoundError) as info:
        load_idx_pair(img, missing)
    assert isinstance(info.value, DataFileNotFoundError) and str(missing) in str(info.value)


def test_missing_files_in_dataset_dir(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFileNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        load_dataset("mnist", data_dir=tmp_path)
    assert "train-images" not in str(info.value)  # only what is really missing
    assert "download=True" in str(info.value)


@pytest.mark.parametrize("gz", [True, False])
def test_load_dataset_mnist_and_fashion_from_dir(tmp_path, gz):
    written = write_mnist_dir(tmp_path, n_train=30, n_test=20, gz=gz)
    for name in ("mnist", "fashion-mnist"):
        train, test = load_dataset(name, data_dir=tmp_path)
        assert (len(train), len(test)) == (30, 20) and train.name == name
        assert train.images.shape == (30, 1, 28, 28) and train.images.dtype == np.float32
        np.testing.assert_array_equal(np.rint(test.images[:, 0] * 255), written["t10k"][0])
        np.testing.assert_array_equal(train.labels, written["train"][1])
    assert load_dataset("fashion-mnist", data_dir=tmp_path)[0].classes[0] == "T-shirt/top"
    assert load_dataset("mnist", data_dir=tmp_path)[0].classes == tuple("0123456789")


def test_mixed_gz_and_plain_files(tmp_path):
    write_mnist_dir(tmp_path, gz=True)
    gz = tmp_path / "train-images-idx3-ubyte.gz"
    (tmp_path / "train-images-idx3-ubyte").write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    train, test = load_idx_dataset(tmp_path)
    assert len(train) == 30 and len(test) == 20
