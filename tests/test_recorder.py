"""The training recorder: its statistics against numpy recomputed from the traces, merged rows against the
statistics of all their steps at once, ours against torch's, and memory that stays flat over 100,000 steps."""

import gc
import math
import random
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_it.layer_stats import histogram, linear_edges
from micrograd_it.recorder import StatsRecorder
from micrograd_it.trace import is_saturated


class FakeLayer:
    """A trace layer made of given numbers (what `record` reads of our LayerTrace)."""

    def __init__(self, name, activation, preact, act, grad_in):
        self.name, self.activation = name, activation
        self.preact, self.act, self.grad_in = preact, act, grad_in
        self.n_neurons = len(act[0])

    def saturated(self, threshold=0.99):
        return [[is_saturated(self.activation, p, a, threshold) for p, a in zip(prow, arow)]
                for prow, arow in zip(self.preact, self.act)]


class FakeTrace:
    def __init__(self, layers):
        self.layers = layers


def fake_step(rng, samples=4, neurons=3, scale=3.0):
    """One step: a tanh layer and a relu layer with random numbers (some gradients exactly 0)."""
    preact = [[rng.gauss(0, scale) for _ in range(neurons)] for _ in range(samples)]
    tanh = [[math.tanh(p) for p in row] for row in preact]
    relu = [[max(0.0, p) for p in row] for row in preact]
    grads = [[rng.choice([0.0, rng.gauss(0, 1e-3), rng.gauss(0, 1.0)]) for _ in range(neurons)] for _ in range(samples)]
    return FakeTrace([FakeLayer("hidden", "tanh", preact, tanh, grads),
                      FakeLayer("rect", "relu", preact, relu, [[g * (p > 0) for g, p in zip(gr, pr)]
                                                              for gr, pr in zip(grads, preact)])])


def expected_row(layers, threshold, act_edges, grad_edges):
    """What one row must hold, recomputed with numpy from every step's layer at once."""
    act = np.concatenate([np.ravel(layer.act) for layer in layers])
    grad = np.concatenate([np.ravel(layer.grad_in) for layer in layers])
    flags = [np.array(layer.saturated(threshold)) for layer in layers]
    magnitude = np.abs(grad[grad != 0])
    return dict(
        act_mean=act.mean(), act_std=act.std(), grad_in_mean=grad.mean(), grad_in_std=grad.std(),
        saturated_pct=100 * np.concatenate([f.ravel() for f in flags]).mean(),
        dead=np.mean([f.all(axis=0).sum() for f in flags]),
        act_hist=np.histogram(act, act_edges)[0].tolist(),
        act_below=int((act < act_edges[0]).sum()), act_above=int((act > act_edges[-1]).sum()),
        grad_hist=np.histogram(magnitude, grad_edges)[0].tolist(), grad_zero=int((grad == 0).sum()),
        grad_below=int((magnitude < grad_edges[0]).sum()), grad_above=int((magnitude > grad_edges[-1]).sum()),
    )


def assert_rows_match(history, steps_of_rows, recorder):
    edges = recorder.act_edges(history.activation)
    assert len(history.rows()) == len(steps_of_rows)
    for index, layers in enumerate(steps_of_rows):
        want = expected_row(layers, recorder.threshold, edges, recorder.grad_edges)
        for key, value in want.items():
            got = getattr(history, key)[index]
            assert got == pytest.approx(value, rel=1e-9, abs=1e-12), (index, key)


# -- histograms -------------------------------------------------------------------------------------------

finite = st.floats(-5, 5, allow_nan=False)


@given(values=st.lists(st.one_of(finite, st.sampled_from([-1.0, 1.0, 0.0, -0.96, 0.5])), max_size=60),
       bins=st.integers(1, 12))
def test_histogram_is_numpys_with_the_outside_counted(values, bins):
    edges = linear_edges(-1.0, 1.0, bins)
    below, *counts, above = histogram(values, edges)
    array = np.array(values, dtype=float)
    assert counts == np.histogram(array, edges)[0].tolist()
    assert below == int((array < -1).sum()) and above == int((array > 1).sum())
    assert below + sum(counts) + above == len(values)


def test_linear_edges_end_exactly_at_high():
    assert linear_edges(-1.0, 1.0, 50)[-1] == 1.0 and linear_edges(-1.0, 1.0, 50)[25] == 0.0


# -- one step and merged rows ----------------------------------------------------------------------------

def test_one_step_is_numpy_recomputed_from_the_trace():
    trace = fake_step(random.Random(0), samples=8, neurons=5)
    recorder = StatsRecorder(act_bins=10, grad_bins=8)
    recorder.record(trace)
    for layer in trace.layers:
        assert_rows_match(recorder[layer.name], [[layer]], recorder)
    assert recorder["rect"].act_edges == linear_edges(0.0, 4.0, 10)  # relu's range, tanh's is [-1, 1]
    assert recorder["hidden"].act_edges == linear_edges(-1.0, 1.0, 10)


def test_full_rows_merge_two_by_two_and_hold_the_statistics_of_all_their_steps():
    rng = random.Random(1)
    recorder = StatsRecorder(act_bins=6, grad_bins=5, max_rows=4)
    steps = [fake_step(rng, samples=rng.randint(1, 5), scale=rng.choice([0.5, 4.0])) for _ in range(13)]
    for trace in steps:
        recorder.record(trace)
    history = recorder["hidden"]
    # 13 steps, 4 rows at most: rows of 4 steps (0-3, 4-7, 8-11) and the 13th filling the next one
    assert history.stride == 4 and history.step_ranges == [(0, 3), (4, 7), (8, 11), (12, 12)]
    groups = [[trace.layers[0] for trace in steps[first:last + 1]] for first, last in history.step_ranges]
    assert_rows_match(history, groups, recorder)
    assert history.steps == [1.5, 5.5, 9.5, 12.0]


def test_given_steps_are_kept_and_must_go_forward():
    recorder = StatsRecorder()
    recorder.record(fake_step(random.Random(0)), step=10)
    recorder.record(fake_step(random.Random(1)), step=20)
    assert recorder["hidden"].step_ranges == [(10, 10), (20, 20)]
    with pytest.raises(ValueError, match="step 20 does not come after the last recorded step 20"):
        recorder.record(fake_step(random.Random(2)), step=20)


def test_a_failing_record_adds_nothing():
    recorder = StatsRecorder()
    recorder.record(fake_step(random.Random(0)))
    broken = fake_step(random.Random(1))
    broken.layers[1].act = "oops"
    with pytest.raises(Exception):
        recorder.record(broken)
    assert recorder.n_records == 1 and [len(h.rows()) for h in recorder.layers.values()] == [1, 1]
    changed = fake_step(random.Random(2))
    changed.layers[0].activation = "relu"
    with pytest.raises(ValueError, match="layer 'hidden' was tanh, now relu"):
        recorder.record(changed)


@pytest.mark.parametrize("kwargs, words", [
    (dict(threshold=1.0), "threshold must be a number in (0, 1)"),
    (dict(act_bins=0), "act_bins must be an int >= 1"),
    (dict(act_range=(1, -1)), "act_range must be (low, high)"),
    (dict(grad_decades=(0, float("inf"))), "grad_decades must be (low, high)"),
    (dict(max_rows=5), "max_rows must be even"),
])
def test_bad_arguments_raise_naming_them(kwargs, words):
    with pytest.raises(ValueError) as error:
        StatsRecorder(**kwargs)
    assert words in str(error.value)


def test_bad_record_and_lookup_raise_naming_them():
    recorder = StatsRecorder()
    with pytest.raises(TypeError, match="record needs a trace"):
        recorder.record([1, 2])
    with pytest.raises(KeyError, match="no layer 'x' recorded"):
        recorder["x"]


# -- memory ----------------------------------------------------------------------------------------------

def test_memory_stays_flat_over_100000_steps():
    trace = FakeTrace(fake_step(random.Random(0), samples=2, neurons=2).layers[:1])
    recorder = StatsRecorder(max_rows=256, act_bins=8, grad_bins=8)  # small: tracemalloc slows every step
    tracemalloc.start()
    try:
        for step in range(100_000):
            recorder.record(trace)
            if step == 9_999:
                gc.collect()
                after_10k = tracemalloc.get_traced_memory()[0]
        gc.collect()
        after_100k = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert recorder.n_records == 100_000 and recorder["hidden"].step_ranges[-1][1] == 99_999
    assert len(recorder["hidden"].rows()) <= 256
    assert after_100k - after_10k < 4096, f"grew by {after_100k - after_10k} bytes from step 10,000 to 100,000"


def test_the_memory_check_sees_a_recorder_that_keeps_every_step():
    # the same measurement on a list that keeps one small row per step must see it grow
    rows = []
    tracemalloc.start()
    try:
        for step in range(20_000):
            rows.append((float(step), 0.5))
            if step == 1_999:
                after_2k = tracemalloc.get_traced_memory()[0]
        grown = tracemalloc.get_traced_memory()[0] - after_2k
    finally:
        tracemalloc.stop()
    assert grown > 4096


# -- torch traces: the same numbers ----------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: the torch recorder tests need it")


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
def test_a_torch_trace_gives_the_same_rows_as_ours_for_the_same_mlp(activation):
    _torch()
    from .twin_nets import twin_traces

    ours, theirs = [StatsRecorder(act_bins=12, grad_bins=10, max_rows=2) for _ in range(2)]
    for seed in range(5):  # 5 steps into 2 rows: merging too
        our_trace, torch_trace = twin_traces(activation, seed=seed, init=3.0)
        ours.record(our_trace)
        theirs.record(torch_trace)
    for mine, other in zip(list(ours.layers.values())[:-1], theirs.layers.values()):  # ours ends with linear
        assert mine.step_ranges == other.step_ranges == [(0, 3), (4, 4)]
        assert mine.act_hist == other.act_hist and mine.grad_hist == other.grad_hist
        assert mine.grad_zero == other.grad_zero and mine.act_below == other.act_below
        for key in ("act_mean", "act_std", "saturated_pct", "dead", "grad_in_mean", "grad_in_std"):
            assert getattr(other, key) == pytest.approx(getattr(mine, key), rel=1e-9, abs=1e-15), key


@given(values=st.lists(st.one_of(finite, st.sampled_from([-1.0, 1.0, 0.0, -0.96, 0.5, 1e-3])), max_size=60),
       bins=st.integers(1, 12), log=st.booleans())
def test_torchs_histogram_is_numpys_with_the_outside_counted(values, bins, log):
    _torch()
    from micrograd_it.torch_trace_layer import _histogram

    edges = [10.0 ** e for e in linear_edges(-4.0, 0.0, bins)] if log else linear_edges(-1.0, 1.0, bins)
    values = [abs(v) + 1e-6 for v in values] if log else values
    assert _histogram(np.array(values, dtype=np.float64), edges, log=log) == histogram(values, edges)


def test_a_torch_trace_before_backward_records_no_gradient_statistics():
    torch = _torch()
    from micrograd_it.torch_trace import trace_torch

    with trace_torch() as tr:
        torch.tanh(torch.randn(4, 3, requires_grad=True))
    recorder = StatsRecorder()
    recorder.record(tr)
    history = recorder["tanh"]
    assert history.grad_in_mean == [None] and history.grad_hist == [[0] * 40] and history.act_mean[0] is not None


def _memory_allocated_by_micrograd_it():
    """Bytes still held by objects allocated in micrograd_it's own files (torch's internals left out)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*micrograd_it*")])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_memory_stays_flat_with_torch_traces():
    torch = _torch()
    from micrograd_it.torch_trace import trace_torch

    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    recorder = StatsRecorder(max_rows=16)
    tracemalloc.start()
    try:
        for step in range(3_000):
            with trace_torch() as tr:
                torch.tanh(x * 2).sum().backward()
            recorder.record(tr)
            if step == 299:
                after_300 = _memory_allocated_by_micrograd_it()
        grown = _memory_allocated_by_micrograd_it() - after_300
    finally:
        tracemalloc.stop()
    # torch's own caches wander by some kB either way, so only what our code allocated is counted
    assert recorder["tanh"].stride == 256 and grown < 4096, f"grew by {grown} bytes"
