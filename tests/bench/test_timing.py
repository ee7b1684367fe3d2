"""The timing loop on a fake clock: warm-up, sample sizing, input rotation, statistics."""
from gpucnn.bench.timing import TimingPlan, measure


class FakeClock:
    """Each call 'takes' 0.1 ms; records which input set every call used."""
    name = "fake"

    def __init__(self):
        self.calls = []

    def sync(self):
        pass

    def block(self, fn, start, count):
        for i in range(start, start + count):
            fn(i)
        return count * 1e-4


def test_measure_warms_up_sizes_samples_and_rotates():
    clock = FakeClock()
    seen = []
    stats = measure(clock, lambda i: seen.append(i % 3),
                    TimingPlan(repeats=5, warmup_s=0.0, warmup_calls=2, min_sample_s=1e-3))
    assert stats.median == stats.min == stats.max == 1e-4
    assert stats.inner == 10 and stats.repeats == 5 and stats.warmup_calls == 2
    assert len(seen) == 2 + 5 * 10
    assert set(seen) == {0, 1, 2}  # every input set used, in turn
    assert seen[:6] == [0, 1, 2, 0, 1, 2]


def test_slow_calls_get_fewer_repeats_within_the_budget():
    class SlowClock(FakeClock):
        def block(self, fn, start, count):
            return count * 1.0  # one second per call

    stats = measure(SlowClock(), lambda i: None,
                    TimingPlan(repeats=20, warmup_s=0.0, warmup_calls=1, min_sample_s=1e-3,
                               budget_s=3.0, min_repeats=5))
    assert stats.inner == 1 and stats.repeats == 5


def test_interleaved_samples_alternate():
    from gpucnn.bench.timing import measure_interleaved
    order = []
    plan = TimingPlan(repeats=3, warmup_s=0.0, warmup_calls=1, min_sample_s=1e-4)
    a, b = measure_interleaved([lambda i: order.append("a"), lambda i: order.append("b")], plan,
                               FakeClock())
    assert order == ["a", "b"] + ["a", "b"] * 3  # warm-ups, then one sample of each in turn
    assert a.repeats == b.repeats == 3
