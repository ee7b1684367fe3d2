"""The embedded digits dataset, `split`, `Dataset` and `load_dataset`'s name handling."""
import numpy as np
import pytest

from gpucnn.data import DATASETS, Dataset, load_dataset, load_digits, split


def test_digits_shape_range_and_split():
    train, test = load_dataset("digits")
    assert (len(train), len(test)) == (1438, 359)  # 1,797 images, 20% held out
    for ds in (train, test):
        assert ds.images.shape[1:] == (1, 8, 8) and ds.images.dtype == np.float32
        assert ds.labels.dtype == np.int64 and ds.num_classes == 10 and ds.name == "digits"
        assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    # Values are the original 0..16 counts divided by 16.
    assert np.all(np.isclose(train.images * 16, np.round(train.images * 16)))
    # Stratified: each class is held out in proportion (178..183 images per class).
    counts = train.class_counts() + test.class_counts()
    np.testing.assert_allclose(test.class_counts() / counts, 0.2, atol=0.01)


def test_digits_is_the_default_and_matches_sklearn():
    from sklearn.datasets import load_digits as sk

    bunch = sk()
    train, test = load_dataset()
    both = np.concatenate([train.images, test.images]).reshape(-1, 64) * 16
    # Same multiset of images (compare sorted rows, since the split reorders them).
    ref = np.asarray(bunch.data, dtype=np.float32)
    np.testing.assert_array_equal(both[np.lexsort(both.T)], ref[np.lexsort(ref.T)])
    assert sorted(np.concatenate([train.labels, test.labels]).tolist()) == sorted(bunch.target.tolist())


def test_digits_split_deterministic_and_seeded():
    a_train, a_test = load_digits(split_seed=0)
    b_train, b_test = load_dataset("digits", split_seed=0)
    c_train, _ = load_dataset("digits", split_seed=1)
    np.testing.assert_array_equal(a_train.images, b_train.images)
    np.testing.assert_array_equal(a_test.labels, b_test.labels)
    assert a_train.images.shape == c_train.images.shape
    assert not np.array_equal(a_train.images, c_train.images)


def _indexed(n, classes=10):
    """A dataset whose image i is filled with the value i, to track samples through a split."""
    images = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, 1, 2, 2))
    return Dataset(images / n, np.arange(n) % classes, [str(c) for c in range(classes)], "idx")


def _ids(ds, n):
    return np.rint(ds.images[:, 0, 0, 0] * n).astype(int)


@pytest.mark.parametrize("stratify", [False, True])
def test_split_disjoint_complete_deterministic(stratify):
    n = 103
    full = _indexed(n)
    train, test = split(full, 80, seed=5, stratify=stratify)
    a, b = _ids(train, n), _ids(test, n)
    assert len(a) == 80 and len(b) == 23
    assert not set(a) & set(b) and sorted(np.concatenate([a, b])) == list(range(n))
    assert np.all(np.diff(a) > 0) and np.all(np.diff(b) > 0)  # original order kept
    np.testing.assert_array_equal(train.labels, a % 10)  # labels travel with their images
    again, _ = split(full, 80, seed=5, stratify=stratify)
    np.testing.assert_array_equal(_ids(again, n), a)
    other, _ = split(full, 80, seed=6, stratify=stratify)
    assert not np.array_equal(_ids(other, n), a)
    if stratify:
        assert np.all(np.abs(test.class_counts() - 2.3) < 1)


@pytest.mark.parametrize("bad", [0, 10, -1, 2.5, True])
def test_split_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_train"):
        split(_indexed(10), bad)


def test_dataset_indexing_and_validation():
    full = _indexed(20)
    img, label = full[3]
    assert img.shape == (1, 2, 2) and label == 3
    sub = full[5:8]
    assert isinstance(sub, Dataset) and len(sub) == 3 and sub.classes == full.classes
    with pytest.raises(ValueError, match="NCHW"):
        Dataset(np.zeros((4, 8, 8)), np.zeros(4, dtype=int), ["a"])
    with pytest.raises(ValueError, match="one label per image"):
        Dataset(np.zeros((4, 1, 8, 8)), np.zeros(3, dtype=int), ["a"])
    with pytest.raises(ValueError, match="0..1"):
        Dataset(np.zeros((2, 1, 2, 2)), np.array([0, 2]), ["a", "b"])


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ValueError) as info:
        load_dataset("imagenet")
    msg = str(info.value)
    assert "imagenet" in msg and all(name in msg for name in DATASETS)
    assert DATASETS == ("digits", "mnist", "fashion-mnist", "cifar10")


def test_name_aliases(tmp_path):
    from .synth import write_mnist_dir

    write_mnist_dir(tmp_path)
    assert load_dataset("Fashion_MNIST", data_dir=tmp_path)[0].name == "fashion-mnist"
    assert len(load_dataset("DIGITS")[0]) == 1438
