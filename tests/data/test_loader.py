"""DataLoader: batching, shuffling, normalisation, resumable state, device hand-off."""
import json

import numpy as np
import pytest

from gpucnn.data import Dataset, DataLoader, channel_stats


def make(n=23, c=1, hw=4):
    """Image i holds the value i in channel 0, so each batch shows which samples it holds."""
    images = np.zeros((n, c, hw, hw), dtype=np.float32)
    images[:, 0] = np.arange(n, dtype=np.float32)[:, None, None]
    return Dataset(images, np.arange(n) % 10, [str(k) for k in range(10)], "toy")


def ids(batch):
    return batch[0][:, 0, 0, 0].astype(int).tolist()


def epoch_ids(loader):
    return [ids(b) for b in loader]


def test_batches_in_order_with_remainder():
    loader = DataLoader(make(23), batch_size=5)
    batches = list(loader)
    assert len(loader) == 5 == len(batches)
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
    assert sum(epoch_ids(loader), []) == list(range(23))
    x, y = batches[0]
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (5, 1, 4, 4)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3, 4]


def test_batches_do_not_alias_the_dataset():
    ds = make(8)
    for shuffle in (False, True):
        for x, y in DataLoader(ds, batch_size=4, shuffle=shuffle, seed=0):
            x[...] = -1
            y[...] = -1
    assert ds.images.min() == 0 and ds.labels.min() == 0


def test_drop_last():
    loader = DataLoader(make(23), batch_size=5, drop_last=True)
    assert len(loader) == 4
    assert [len(b[0]) for b in loader] == [5, 5, 5, 5]
    assert len(DataLoader(make(20), batch_size=5, drop_last=True)) == 4
    assert len(DataLoader(make(3), batch_size=5, drop_last=True)) == 0
    assert len(DataLoader(make(3), batch_size=5)) == 1


def test_shuffle_reproducible_across_instances_and_new_order_each_epoch():
    a = DataLoader(make(50), batch_size=8, shuffle=True, seed=42)
    b = DataLoader(make(50), batch_size=8, shuffle=True, seed=42)
    a_epochs = [epoch_ids(a) for _ in range(3)]
    b_epochs = [epoch_ids(b) for _ in range(3)]
    assert a_epochs == b_epochs
    assert a.epoch == 3
    for e in a_epochs:  # each epoch is a permutation of all samples
        assert sorted(sum(e, [])) == list(range(50))
    assert a_epochs[0] != a_epochs[1] != a_epochs[2]
    assert a_epochs[0] != [list(range(k, min(k + 8, 50))) for k in range(0, 50, 8)]
    c = DataLoader(make(50), batch_size=8, shuffle=True, seed=43)
    assert epoch_ids(c) != a_epochs[0]


def test_shuffle_without_seed_still_differs_and_records_seed():
    a = DataLoader(make(50), batch_size=50, shuffle=True)
    b = DataLoader(make(50), batch_size=50, shuffle=True)
    assert isinstance(a.state_dict()["seed"], int)
    assert epoch_ids(a) != epoch_ids(b)  # 1 in 50! chance of a false failure


def test_leaving_early_starts_the_next_epoch():
    loader = DataLoader(make(20), batch_size=5, shuffle=True, seed=0)
    reference = DataLoader(make(20), batch_size=5, shuffle=True, seed=0)
    first = next(iter(loader))
    assert ids(first) == epoch_ids(reference)[0]
    assert epoch_ids(loader) == epoch_ids(reference)  # epoch 1 in both
    assert loader.epoch == reference.epoch == 2


def test_state_dict_round_trip_mid_epoch():
    n, bs = 37, 4
    straight = DataLoader(make(n), batch_size=bs, shuffle=True, seed=7)
    expected = [epoch_ids(straight) for _ in range(3)]

    run = DataLoader(make(n), batch_size=bs, shuffle=True, seed=7)
    seen = epoch_ids(run)  # epoch 0 complete
    it = iter(run)
    partial = [ids(next(it)) for _ in range(4)]  # 4 batches into epoch 1, then "crash"
    state = json.loads(json.dumps(run.state_dict()))  # checkpoints are JSON-safe
    assert state["epoch"] == 1 and state["position"] == 4

    resumed = DataLoader(make(n), batch_size=bs, shuffle=True, seed=999)  # seed comes from state
    resumed.load_state_dict(state)
    rest = epoch_ids(resumed)
    assert seen == expected[0]
    assert partial + rest == expected[1]
    assert epoch_ids(resumed) == expected[2]


def test_state_dict_at_epoch_boundary_and_mismatch():
    a = DataLoader(make(20), batch_size=5, shuffle=True, seed=3)
    epoch_ids(a)
    state = a.state_dict()
    assert (state["epoch"], state["position"]) == (1, 0)
    b = DataLoader(make(20), batch_size=5, shuffle=True, seed=3)
    b.load_state_dict(state)
    assert epoch_ids(b) == epoch_ids(a)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make(20), batch_size=4, shuffle=True).load_state_dict(state)
    with pytest.raises(ValueError, match="num_samples"):
        DataLoader(make(21), batch_size=5, shuffle=True).load_state_dict(state)


def test_load_state_dict_stops_a_stale_iterator():
    loader = DataLoader(make(20), batch_size=5, shuffle=True, seed=1)
    it = iter(loader)
    next(it)
    loader.load_state_dict({"seed": 1, "epoch": 0, "position": 0})
    assert list(it) == []  # the old pass must not keep advancing the restored state
    assert loader.state_dict()["position"] == 0


def test_normalize_explicit_per_channel():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, size=(12, 3, 4, 4)).astype(np.float32)
    labels = np.zeros(12, dtype=np.int64)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    loader = DataLoader((images, labels), batch_size=12, normalize=(mean, std))
    x, _ = next(iter(loader))
    ref = (images - np.array(mean, np.float32)[None, :, None, None]) / np.array(std, np.float32)[None, :, None, None]
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, ref, rtol=1e-6, atol=1e-6)
    # A scalar pair applies to every channel.
    x1, _ = next(iter(DataLoader((images, labels), batch_size=12, normalize=(0.5, 0.5))))
    np.testing.assert_allclose(x1, (images - 0.5) / 0.5, rtol=1e-6, atol=1e-6)


def test_normalize_auto():
    rng = np.random.default_rng(1)
    images = np.stack([rng.normal(0.2, 0.05, size=(40, 5, 5)),
                       rng.normal(0.7, 0.2, size=(40, 5, 5))], axis=1).astype(np.float32)
    ds = Dataset(images, np.zeros(40, dtype=int), ["a"], "two-channel")
    loader = DataLoader(ds, batch_size=7, normalize="auto")
    np.testing.assert_allclose(loader.mean, images.astype(np.float64).mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(loader.std, images.astype(np.float64).std(axis=(0, 2, 3)), rtol=1e-4)
    out = np.concatenate([x for x, _ in loader])
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-4)
    # The training statistics carry over to a test loader unchanged.
    test_loader = DataLoader(ds, batch_size=7, normalize=(loader.mean, loader.std))
    np.testing.assert_array_equal(np.concatenate([x for x, _ in test_loader]), out)
    m, s = channel_stats(images, chunk=3)  # chunking does not change the result
    np.testing.assert_allclose(m, loader.mean, rtol=1e-6)
    np.testing.assert_allclose(s, loader.std, rtol=1e-6)


@pytest.mark.parametrize("normalize", ["mean", (0.0, 0.0), ([0.1, 0.2], [1.0, 1.0]), 3])
def test_normalize_rejects_bad_values(normalize):
    with pytest.raises(ValueError, match="normalize"):
        DataLoader(make(4), batch_size=2, normalize=normalize)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True, None])
def test_batch_size_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make(4), batch_size=bad)


def test_accepts_arrays_and_checks_them():
    images = np.zeros((6, 1, 2, 2), dtype=np.float64)
    loader = DataLoader((images, [0, 1, 2, 3, 4, 5]), batch_size=4, drop_last=True)
    x, y = next(iter(loader))
    assert x.dtype == np.float32 and y.dtype == np.int64 and len(loader) == 1
    with pytest.raises(ValueError, match="one label per image"):
        DataLoader((images, [0, 1]), batch_size=2)
    with pytest.raises(ValueError, match="NCHW"):
        DataLoader((np.zeros((6, 4)), np.zeros(6, int)), batch_size=2)
    with pytest.raises(TypeError):
        DataLoader(images, batch_size=2)


def test_device_batches_go_through_gpucnn_tensor(monkeypatch):
    from gpucnn.data import loader

    calls = []

    def fake_tensor(array, device=None):
        calls.append((array.dtype, array.shape, device))
        return ("tensor", device, array)

    monkeypatch.setattr(loader, "tensor", fake_tensor)
    loader = DataLoader(make(10), batch_size=4, device="cuda")
    x, y = next(iter(loader))
    assert x[0] == "tensor" and x[1] == "cuda" and y[1] == "cuda"
    assert calls == [(np.float32, (4, 1, 4, 4), "cuda"), (np.int64, (4,), "cuda")]


def test_device_cpu_with_the_real_engine():
    x, y = next(iter(DataLoader(make(10), batch_size=4, device="cpu")))
    assert type(x).__name__ == "Tensor" and type(y).__name__ == "Tensor"
    np.testing.assert_array_equal(np.asarray(x.numpy()), make(10).images[:4])
