"""gpucnn.utils.data against torch.utils.data: lengths, batch contents without shuffling,
shuffled epochs (every index once, reproducible by seed and by generator), drop_last, the
collation's structure and dtypes, the argument checks, random_split's lengths, and the
one-gather path for TensorDataset against the per-sample path it replaces."""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gpucnn as gc
import gpucnn.utils.data as gud
from gpucnn.generator import DEFAULT_SEED, Generator, default_generator
from gpucnn.utils.data import fetch

Point = collections.namedtuple("Point", "x y")


def make_data(n=23, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, 2, 3, 4)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    return images, labels


def both_datasets(n=23):
    images, labels = make_data(n)
    return (gud.TensorDataset(gc.tensor(images), gc.tensor(labels)),
            tud.TensorDataset(torch.tensor(images), torch.tensor(labels)))


def same_batch(ours, theirs):
    """ours (gpucnn) holds what theirs (torch) holds: the same containers, the same values,
    tensors of the corresponding dtype (torch's float64 is gpucnn's float32)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gc.Tensor), type(ours)
        expected = {torch.float32: "float32", torch.float64: "float32", torch.int64: "int64",
                    torch.int32: "int32", torch.bool: "bool"}[theirs.dtype]
        assert ours.dtype.name == expected, (ours.dtype, theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy().astype(ours.numpy().dtype))
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for key in theirs:
            same_batch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs), (type(ours), type(theirs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same_batch(a, b)
    else:
        assert ours == theirs


# ================================================================ batches and lengths

@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (5, False), (5, True), (23, True),
                                                  (30, False), (30, True), (4, True)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    ours_ds, torch_ds = both_datasets()
    ours = gud.DataLoader(ours_ds, batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(torch_ds, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours_batches, torch_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(torch_batches) == len(ours)
    for a, b in zip(ours_batches, torch_batches):
        same_batch(a, b)


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                                    (2, 5, True), (2, 5, False), (0, 4, False)])
def test_lengths_match_torch(n, batch_size, drop_last):
    data = list(range(n))
    assert len(gud.DataLoader(data, batch_size=batch_size, drop_last=drop_last)) == \
        len(tud.DataLoader(data, batch_size=batch_size, drop_last=drop_last))
    assert list(gud.BatchSampler(gud.SequentialSampler(data), batch_size, drop_last)) == \
        list(tud.BatchSampler(tud.SequentialSampler(data), batch_size, drop_last))


def test_shuffle_covers_every_index_once_per_epoch_and_epochs_differ():
    n = 50
    ds = gud.TensorDataset(gc.arange(n))
    loader = gud.DataLoader(ds, batch_size=7, shuffle=True)
    gc.manual_seed(0)
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(n))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[0], np.arange(n))


def test_shuffle_drop_last_drops_the_short_batch():
    gc.manual_seed(1)
    loader = gud.DataLoader(gud.TensorDataset(gc.arange(23)), batch_size=5, shuffle=True,
                            drop_last=True)
    batches = [b[0].numpy() for b in loader]
    assert len(batches) == len(loader) == 4 and all(len(b) == 5 for b in batches)
    assert len(set(np.concatenate(batches).tolist())) == 20


def _epoch_orders(loader, epochs=2):
    return [[int(i) for b in loader for i in b[0].numpy()] for _ in range(epochs)]


def test_same_seed_gives_same_order():
    loader = gud.DataLoader(gud.TensorDataset(gc.arange(40)), batch_size=8, shuffle=True)
    gc.manual_seed(123)
    first = _epoch_orders(loader)
    gc.manual_seed(123)
    assert _epoch_orders(loader) == first
    gc.manual_seed(124)
    assert _epoch_orders(loader) != first


def test_generator_gives_same_order_and_leaves_the_global_stream_alone():
    ds = gud.TensorDataset(gc.arange(40))
    first = _epoch_orders(gud.DataLoader(ds, batch_size=8, shuffle=True,
                                         generator=Generator().manual_seed(7)))
    gc.manual_seed(5)
    before = gc.get_rng_state()
    again = _epoch_orders(gud.DataLoader(ds, batch_size=8, shuffle=True,
                                         generator=Generator().manual_seed(7)))
    assert again == first
    assert gc.get_rng_state() == before, "a loader with its own generator drew from the global one"
    other = _epoch_orders(gud.DataLoader(ds, batch_size=8, shuffle=True,
                                         generator=Generator().manual_seed(8)))
    assert other != first


def test_random_sampler_options():
    data = list(range(10))
    gc.manual_seed(2)
    draws = list(gud.RandomSampler(data, replacement=True, num_samples=57))
    assert len(draws) == 57 and set(draws) <= set(data) and len(set(draws)) > 5
    more = list(gud.RandomSampler(data, num_samples=25))   # 2 permutations + 5 of a third
    assert len(more) == 25
    assert sorted(more[:10]) == data and sorted(more[10:20]) == data
    assert len(set(more[20:])) == 5
    assert len(gud.RandomSampler(data, num_samples=3)) == len(tud.RandomSampler(data,
                                                                                 num_samples=3))
    g1, g2 = Generator().manual_seed(3), Generator().manual_seed(3)
    assert list(gud.RandomSampler(data, generator=g1)) == list(gud.RandomSampler(data,
                                                                                 generator=g2))
    sub = list(gud.SubsetRandomSampler([3, 5, 7, 9], generator=Generator().manual_seed(1)))
    assert sorted(sub) == [3, 5, 7, 9]


def test_sampler_and_batch_sampler_drive_the_loader_as_torch():
    ours_ds, torch_ds = both_datasets(12)
    order = [5, 0, 11, 3, 3, 7]
    for kwargs in (dict(sampler=order, batch_size=4), dict(batch_sampler=[[1, 2], [9], [0, 4, 8]]),
                   dict(sampler=order, batch_size=4, drop_last=True)):
        ours = list(gud.DataLoader(ours_ds, **kwargs))
        theirs = list(tud.DataLoader(torch_ds, **kwargs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same_batch(a, b)


# ================================================================ collation

class MadeSamples:
    """n samples make(0), ..., make(n - 1): the body of a map-style dataset of either library."""
    def __init__(self, make, n=5):
        self.make, self.n = make, n

    def __getitem__(self, i):
        return self.make(i)

    def __len__(self):
        return self.n


class Samples(MadeSamples, gud.Dataset):
    pass


class TorchSamples(MadeSamples, tud.Dataset):
    pass


SAMPLES = {
    "dict-of-mixed": lambda i: {"image": np.full((2, 3), i, np.float32), "label": i,
                                "weight": 0.5 * i, "name": f"s{i}", "flag": i % 2 == 0},
    "tuple-to-list": lambda i: (np.arange(3, dtype=np.int64) + i, float(i)),
    "list": lambda i: [i, i + 1, np.float64(i) / 3],
    "namedtuple": lambda i: Point(np.full(2, i, np.int32), i),
    "nested": lambda i: {"a": [(i, f"t{i}"), {"b": np.array([i, -i], np.float64)}]},
    "uint8-array": lambda i: np.full((2, 2), i, np.uint8),
    "bytes": lambda i: b"x" * i,
    "numpy-scalars": lambda i: (np.int64(i), np.float32(i) / 2, np.bool_(i % 2)),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_structure_and_dtypes_match_torch(name):
    make = SAMPLES[name]
    ours = list(gud.DataLoader(Samples(make), batch_size=3))
    theirs = list(tud.DataLoader(TorchSamples(make), batch_size=3))
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        if name == "uint8-array":   # gpucnn has no uint8 tensors: int64, same values
            assert a.dtype.name == "int64"
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            continue
        same_batch(a, b)


def test_python_floats_collate_to_float32():
    """torch gives float64; gpucnn computes in float32 only."""
    batch = gud.default_collate([1.5, 2.25])
    assert batch.dtype.name == "float32" and batch.tolist() == [1.5, 2.25]
    assert tud.default_collate([1.5, 2.25]).dtype == torch.float64


def test_tensor_samples_are_stacked():
    samples = [gc.tensor([[i, i + 1.0]]) for i in range(4)]
    batch = gud.default_collate(samples)
    assert batch.shape == (4, 1, 2)
    np.testing.assert_array_equal(batch.numpy(), np.stack([s.numpy() for s in samples]))


def test_collate_errors_as_torch():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        gud.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        gud.default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        gud.default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="equal size"):
        gud.default_collate([np.zeros(2), np.zeros(3)])


def test_batch_size_none_converts_samples_one_by_one():
    make = SAMPLES["tuple-to-list"]
    ours = list(gud.DataLoader(Samples(make), batch_size=None))
    theirs = list(tud.DataLoader(TorchSamples(make), batch_size=None))
    assert len(ours) == len(theirs) == 5
    for a, b in zip(ours, theirs):
        same_batch(a, b)


def test_custom_collate_fn_gets_the_list_of_samples():
    seen = []
    loader = gud.DataLoader(list(range(7)), batch_size=3,
                            collate_fn=lambda b: seen.append(b) or len(b))
    assert list(loader) == [3, 3, 1] and seen == [[0, 1, 2], [3, 4, 5], [6]]


def test_getitems_is_used_when_present():
    class Batched(Samples):
        def __getitems__(self, indices):
            return [("batched", i) for i in indices]
    batches = list(gud.DataLoader(Batched(lambda i: ("single", i)), batch_size=2))
    assert len(batches) == 3
    assert batches[0][0] == ("batched", "batched") and batches[0][1].tolist() == [0, 1]


# ================================================================ workers, pinning, iterables

def test_workers_and_pin_memory_load_in_the_main_process():
    calls = []
    ours_ds, _ = both_datasets()
    plain = list(gud.DataLoader(ours_ds, batch_size=4))
    loader = gud.DataLoader(ours_ds, batch_size=4, num_workers=3, pin_memory=True, timeout=5,
                            worker_init_fn=calls.append, persistent_workers=True,
                            prefetch_factor=4)
    for _ in range(2):
        for a, b in zip(loader, plain):
            assert a[0].equal(b[0]) and a[1].equal(b[1])
    assert calls == [] and gud.get_worker_info() is None


class Range:
    """0, ..., n - 1 with a length: the body of an iterable dataset of either library."""
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class Stream(Range, gud.IterableDataset):
    pass


class TorchStream(Range, tud.IterableDataset):
    pass


@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False), (5, True)])
def test_iterable_dataset_matches_torch(batch_size, drop_last):
    ours = gud.DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, expected = list(ours), list(theirs)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        if batch_size is None:
            assert a == b
        else:
            same_batch(a, b)
    chained = Stream(2) + Stream(3)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


# ================================================================ argument checks

def _both_raise(error, make):
    """make(module) raises `error` for torch.utils.data and for gpucnn.utils.data."""
    with pytest.raises(error):
        make(tud, torch.Generator().manual_seed(0))
    with pytest.raises(error):
        make(gud, Generator().manual_seed(0))


BAD_LOADERS = {
    "sampler-and-shuffle": lambda m, g: m.DataLoader(range(5), sampler=[0, 1], shuffle=True),
    "batch_sampler-and-batch_size": lambda m, g: m.DataLoader(range(5), batch_sampler=[[0]],
                                                              batch_size=2),
    "batch_sampler-and-shuffle": lambda m, g: m.DataLoader(range(5), batch_sampler=[[0]],
                                                           shuffle=True),
    "batch_sampler-and-sampler": lambda m, g: m.DataLoader(range(5), batch_sampler=[[0]],
                                                           sampler=[0]),
    "batch_sampler-and-drop_last": lambda m, g: m.DataLoader(range(5), batch_sampler=[[0]],
                                                             drop_last=True),
    "no-batching-and-drop_last": lambda m, g: m.DataLoader(range(5), batch_size=None,
                                                           drop_last=True),
    "negative-workers": lambda m, g: m.DataLoader(range(5), num_workers=-1),
    "negative-timeout": lambda m, g: m.DataLoader(range(5), timeout=-1),
    "prefetch-without-workers": lambda m, g: m.DataLoader(range(5), prefetch_factor=2),
    "persistent-without-workers": lambda m, g: m.DataLoader(range(5), persistent_workers=True),
    "context-without-workers": lambda m, g: m.DataLoader(range(5), multiprocessing_context="spawn"),
    "zero-batch_size": lambda m, g: m.DataLoader(range(5), batch_size=0),
    "float-batch_size": lambda m, g: m.BatchSampler(range(5), 2.0, False),
    "non-bool-drop_last": lambda m, g: m.BatchSampler(range(5), 2, 1),
    "zero-num_samples": lambda m, g: m.RandomSampler(range(5), num_samples=0),
    "iterable-with-shuffle": lambda m, g: m.DataLoader(
        (Stream if m is gud else TorchStream)(3), shuffle=True),
    "iterable-with-sampler": lambda m, g: m.DataLoader(
        (Stream if m is gud else TorchStream)(3), sampler=[0]),
    "iterable-with-batch_sampler": lambda m, g: m.DataLoader(
        (Stream if m is gud else TorchStream)(3), batch_sampler=[[0]]),
    "random_split-sum": lambda m, g: m.random_split(range(10), [3, 4], generator=g),
    "random_split-fraction": lambda m, g: m.random_split(range(10), [1.5, -0.5], generator=g),
}


@pytest.mark.parametrize("case", BAD_LOADERS)
def test_bad_arguments_raise_value_error_as_in_torch(case):
    _both_raise(ValueError, BAD_LOADERS[case])


def test_type_errors_as_in_torch():
    _both_raise(TypeError, lambda m, g: m.RandomSampler(range(5), replacement=1))


def test_attributes_fixed_after_init():
    for module in (tud, gud):
        loader = module.DataLoader(range(5), batch_size=2)
        with pytest.raises(ValueError, match="batch_size attribute should not be set"):
            loader.batch_size = 3
        loader.num_workers = 0   # not one of the fixed ones


def test_timeout_without_workers_fails_at_iteration():
    loader = gud.DataLoader(range(4), timeout=1)
    with pytest.raises(ValueError, match="timeout=1.*num_workers=0"):
        iter(loader)


def test_torch_generator_is_refused_clearly():
    with pytest.raises(TypeError, match="DataLoader: generator must be a gpucnn.Generator"):
        gud.DataLoader(range(4), shuffle=True, generator=torch.Generator())
    with pytest.raises(TypeError, match="random_split: generator must be a gpucnn.Generator"):
        gud.random_split(range(4), [2, 2], generator=torch.Generator())


def test_tensor_dataset_checks():
    with pytest.raises(ValueError, match=r"size mismatch.*\(4, 2\), \(3,\)"):
        gud.TensorDataset(gc.zeros(4, 2), gc.zeros(3))
    with pytest.raises(TypeError, match="argument 1 must be a gpucnn Tensor, got ndarray"):
        gud.TensorDataset(gc.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="argument 0 is a 0-d tensor"):
        gud.TensorDataset(gc.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        gud.TensorDataset()
    with pytest.raises(AssertionError):   # torch's own check, for comparison
        tud.TensorDataset(torch.zeros(4, 2), torch.zeros(3))


# ================================================================ datasets and random_split

def test_subset_and_concat_index_as_torch():
    ours = gud.ConcatDataset([list(range(3)), list(range(10, 14)), list(range(20, 22))])
    theirs = tud.ConcatDataset([list(range(3)), list(range(10, 14)), list(range(20, 22))])
    assert len(ours) == len(theirs) == 9 and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-9, 9):
        assert ours[i] == theirs[i]
    with pytest.raises(ValueError):
        ours[-10]
    with pytest.raises(IndexError):
        ours[9]
    sub = gud.Subset(list(range(100, 110)), [9, 0, 4])
    assert [sub[i] for i in range(3)] == [109, 100, 104] and len(sub) == 3
    assert sub.__getitems__([2, 0]) == [104, 109]
    joined = gud.Subset(list(range(3)), [0]) + gud.Subset(list(range(3)), [2])
    assert isinstance(joined, gud.ConcatDataset) and list(joined) == [0, 2]


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]),
                                       (10, [0.33, 0.33, 0.34]), (7, [0.1, 0.1, 0.8]),
                                       (5, [5, 0]), (3, [1 / 3] * 3), (103, [0.6, 0.2, 0.2])])
def test_random_split_lengths_match_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch and gpucnn both warn about empty splits
        ours = gud.random_split(range(n), lengths, generator=Generator().manual_seed(0))
        theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    together = sorted(i for s in ours for i in (s[j] for j in range(len(s))))
    assert together == list(range(n)), "splits must be disjoint and cover the dataset"


def test_random_split_reproducible_and_warns_like_torch():
    a = gud.random_split(range(20), [0.5, 0.5], generator=Generator().manual_seed(4))
    b = gud.random_split(range(20), [0.5, 0.5], generator=Generator().manual_seed(4))
    assert [s.indices for s in a] == [s.indices for s in b]
    gc.manual_seed(9)
    c = gud.random_split(range(20), [10, 10])
    gc.manual_seed(9)
    d = gud.random_split(range(20), [10, 10])
    assert [s.indices for s in c] == [s.indices for s in d]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        gud.random_split(range(2), [1.0, 0.0])


# ================================================================ generator and randperm

def test_generator_api():
    g = Generator()
    assert g.initial_seed() == DEFAULT_SEED == torch.Generator().initial_seed()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    first = gc.randperm(20, generator=g).tolist()
    state = g.get_state()
    second = gc.randperm(20, generator=g).tolist()
    assert g.set_state(state) is g
    assert gc.randperm(20, generator=g).tolist() == second
    assert g.manual_seed(42) and gc.randperm(20, generator=g).tolist() == first
    assert sorted(first) == list(range(20)) and first != second
    assert isinstance(g.seed(), int) and g.initial_seed() != 42
    assert Generator("cuda").device.type == "cuda"
    with pytest.raises(TypeError, match="set_state"):
        g.set_state(torch.Generator().get_state())


def test_default_generator_is_the_global_one():
    default_generator.manual_seed(31)
    assert gc.initial_seed() == 31
    a = gc.randperm(15, generator=default_generator).tolist()
    gc.manual_seed(31)
    assert gc.randperm(15).tolist() == a


def test_randperm_global_behaviour_unchanged():
    """randperm(n) is still the stable argsort of the n uniform numbers gc.rand(n) would draw."""
    gc.manual_seed(77)
    keys = gc.rand(30).numpy()
    gc.manual_seed(77)
    perm = gc.randperm(30, dtype=gc.int64)
    assert perm.tolist() == np.argsort(keys, kind="stable").tolist()
    assert gc.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="randperm: n must be a non-negative int"):
        gc.randperm(-1)


# ================================================================ the one-gather path

def _per_sample_batches(dataset, batch_size, order):
    """What the fast path replaces: samples read one by one and stacked."""
    batches = []
    for start in range(0, len(order), batch_size):
        samples = [dataset[i] for i in order[start:start + batch_size]]
        batches.append(gud.default_collate(samples))
    return batches


def _assert_same(batches, expected):
    assert len(batches) == len(expected)
    for got, want in zip(batches, expected):
        assert isinstance(got, list) and len(got) == len(want)
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tensor_dataset_gather_equals_per_sample_stack():
    images, labels = make_data(17)
    strided = gc.tensor(images).permute(0, 3, 1, 2)      # a non-contiguous view
    mask = gc.tensor(labels) > 4                          # bool
    ds = gud.TensorDataset(strided, gc.tensor(labels), mask, gc.tensor(images)[:, :, 1:, ::2])
    assert fetch.tensor_dataset_under(ds) is not None
    order = [16, 0, 3, 3, -1, 8, 2, 11, 5]
    got = list(gud.DataLoader(ds, batch_size=4, sampler=order))
    _assert_same(got, _per_sample_batches(ds, 4, order))


def test_subset_of_subset_takes_the_gather_and_matches():
    images, labels = make_data(30)
    ds = gud.TensorDataset(gc.tensor(images), gc.tensor(labels))
    inner = gud.Subset(ds, list(range(29, -1, -2)))
    outer = gud.Subset(inner, [0, 14, 3, 7, 7, 1])
    assert fetch.tensor_dataset_under(outer) is not None
    got = list(gud.DataLoader(outer, batch_size=4))
    _assert_same(got, _per_sample_batches(outer, 4, list(range(6))))


def test_overridden_getitem_is_not_bypassed():
    class Doubled(gud.TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)

    ds = Doubled(gc.arange(6))
    assert fetch.tensor_dataset_under(ds) is None
    assert [b[0].tolist() for b in gud.DataLoader(ds, batch_size=3)] == [[0, 2, 4], [6, 8, 10]]
    assert fetch.tensor_dataset_under(
        gud.TensorDataset(gc.zeros(3, requires_grad=True))) is None


def test_gather_bounds_are_checked():
    ds = gud.TensorDataset(gc.arange(5))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 5"):
        list(gud.DataLoader(ds, sampler=[0, 5], batch_size=2))
    with pytest.raises(IndexError, match="index -6 is out of bounds"):
        list(gud.DataLoader(ds, sampler=[-6], batch_size=2))


def test_empty_rows_gather():
    ds = gud.TensorDataset(gc.zeros(4, 0), gc.arange(4))
    (batch,) = list(gud.DataLoader(ds, batch_size=4))
    assert batch[0].shape == (4, 0) and batch[1].tolist() == [0, 1, 2, 3]


def test_rows_of_more_than_four_strided_dims_take_the_per_sample_path():
    array = np.random.default_rng(3).uniform(-1, 1, (5, 2, 3, 2, 3, 2)).astype(np.float32)
    ds = gud.TensorDataset(gc.tensor(array).permute(0, 5, 4, 3, 2, 1), gc.arange(5))
    assert fetch.tensor_dataset_under(ds) is None
    got = list(gud.DataLoader(ds, batch_size=3))
    _assert_same(got, _per_sample_batches(ds, 3, list(range(5))))
    np.testing.assert_array_equal(got[0][0].numpy(), array[:3].transpose(0, 5, 4, 3, 2, 1))
