"""gpucnn.utils.data.DistributedSampler against torch's: lengths and (unshuffled) shards equal
to torch's for every rank; shards that are disjoint as positions and together cover the
dataset (padding only repeats the start, drop_last only cuts); epochs and seeds that change
the order while two samplers of one epoch agree (as two ranks must); a DataLoader over a
TensorDataset that yields exactly the shard; the argument checks and the missing group."""

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gpucnn as gc
import gpucnn.utils.data as gud

# (len, num_replicas): divisible, not divisible, len < num_replicas, padding > len, one replica
CASES = [(12, 3), (10, 4), (3, 5), (2, 7), (7, 1), (1, 2)]
VARIANTS = [(n, k, drop, shuffle) for n, k in CASES for drop in (False, True)
            for shuffle in (False, True)]


def shards(n, k, **kwargs):
    return [list(gud.DistributedSampler(range(n), num_replicas=k, rank=r, **kwargs))
            for r in range(k)]


@pytest.mark.parametrize("n,k,drop_last,shuffle", VARIANTS)
def test_shards_cover_the_dataset_like_torch(n, k, drop_last, shuffle):
    ours = shards(n, k, drop_last=drop_last, shuffle=shuffle, seed=5)
    theirs = [tud.DistributedSampler(range(n), num_replicas=k, rank=r, drop_last=drop_last,
                                     shuffle=shuffle, seed=5) for r in range(k)]
    for r in range(k):
        sampler = gud.DistributedSampler(range(n), num_replicas=k, rank=r, drop_last=drop_last,
                                         shuffle=shuffle, seed=5)
        assert len(sampler) == len(ours[r]) == len(theirs[r])
        assert sampler.total_size == theirs[r].total_size
        if not shuffle:
            assert ours[r] == list(theirs[r])
    # Interleaving the shards back (position p of rank r is order[p * k + r]) gives the order.
    order = [ours[p % k][p // k] for p in range(len(ours[0]) * k)]
    assert all(0 <= i < n for i in order)
    if drop_last:
        assert len(order) == n - n % k and len(set(order)) == len(order)
    else:
        assert sorted(order[:n]) == list(range(n))
        assert order[n:] == (order[:n] * k)[:len(order) - n]
        assert len(order) % k == 0 and len(order) - n < k


def test_epoch_and_seed_change_the_order_identically_on_every_rank():
    def order(epoch, seed=0, rank=0):
        sampler = gud.DistributedSampler(range(40), num_replicas=2, rank=rank, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0) == order(0) and order(3) == order(3)
    assert order(0) != order(1) and order(1) != order(2)
    assert order(0, seed=0) != order(0, seed=1)
    # The two ranks' samplers draw the same permutation: disjoint halves of all 40 indices.
    for epoch in (0, 1, 7):
        first, second = order(epoch, rank=0), order(epoch, rank=1)
        assert sorted(first + second) == list(range(40))
    assert order(0) != list(range(0, 40, 2))        # shuffled, not the plain stride
    # seed + epoch is all that counts, as torch's.
    assert order(2, seed=3) == order(3, seed=2)
    # Iterating does not advance anything: a second pass of one epoch repeats.
    sampler = gud.DistributedSampler(range(40), num_replicas=2, rank=1, seed=9)
    assert list(sampler) == list(sampler)


def test_shuffle_false_ignores_epoch():
    sampler = gud.DistributedSampler(range(9), num_replicas=2, rank=1, shuffle=False)
    sampler.set_epoch(4)
    assert list(sampler) == [1, 3, 5, 7, 0]


@pytest.mark.parametrize("drop_last", [False, True])
def test_dataloader_yields_exactly_the_shard(drop_last):
    n, k = 11, 3
    values = np.arange(100, 100 + n)
    dataset = gud.TensorDataset(gc.tensor(values), gc.tensor(values * 2))
    seen = []
    for rank in range(k):
        sampler = gud.DistributedSampler(dataset, num_replicas=k, rank=rank, seed=1,
                                         drop_last=drop_last)
        sampler.set_epoch(2)
        loader = gud.DataLoader(dataset, batch_size=2, sampler=sampler)
        got = [(x.tolist(), y.tolist()) for x, y in loader]
        assert len(loader) == (len(sampler) + 1) // 2
        flat = [v for x, _ in got for v in x]
        assert flat == [100 + i for i in sampler]
        assert [v for _, y in got for v in y] == [2 * v for v in flat]
        seen += flat
    if drop_last:
        assert len(seen) == len(set(seen)) == 9
    else:
        assert set(seen) == set(range(100, 100 + n)) and len(seen) == 12


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(num_replicas=2, rank=3), ValueError,
     r"DistributedSampler: Invalid rank 3, rank should be in the interval \[0, 1\]"),
    (dict(num_replicas=2, rank=-1), ValueError, r"Invalid rank -1"),
    (dict(num_replicas=0, rank=0), ValueError, "num_replicas"),
    (dict(num_replicas=2.0, rank=0), TypeError, "num_replicas"),
    (dict(num_replicas=True, rank=0), TypeError, "num_replicas"),
    (dict(num_replicas=2, rank=False), TypeError, "rank"),
    (dict(num_replicas=2, rank="1"), TypeError, "rank"),
    (dict(num_replicas=2, rank=0, seed=1.5), TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        gud.DistributedSampler(range(5), **kwargs)


def test_dataset_without_length_and_bad_epoch():
    with pytest.raises(TypeError, match="DistributedSampler: the dataset must have a length"):
        gud.DistributedSampler(iter(range(5)), num_replicas=2, rank=0)
    sampler = gud.DistributedSampler(range(5), num_replicas=2, rank=0)
    with pytest.raises(TypeError, match="epoch"):
        sampler.set_epoch("1")


def fake_distributed(monkeypatch, initialized, world_size=3, rank=1):
    """A default group of world_size ranks seen from `rank`, without starting MPI."""
    monkeypatch.setattr(gc.distributed, "is_initialized", lambda: initialized)
    monkeypatch.setattr(gc.distributed, "get_world_size", lambda: world_size)
    monkeypatch.setattr(gc.distributed, "get_rank", lambda: rank)


def test_defaults_need_an_initialized_group(monkeypatch):
    # Whatever gpucnn.distributed is (or is not yet) here, no test initializes its group.
    with pytest.raises(RuntimeError, match="default process group is not initialized"):
        gud.DistributedSampler(range(5))
    fake_distributed(monkeypatch, initialized=False)
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        gud.DistributedSampler(range(5), num_replicas=2)


def test_defaults_come_from_the_group(monkeypatch):
    fake_distributed(monkeypatch, initialized=True, world_size=3, rank=1)
    sampler = gud.DistributedSampler(range(7), shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (3, 1)
    assert list(sampler) == [1, 4, 0]
    assert gud.DistributedSampler(range(7), rank=2).num_replicas == 3
