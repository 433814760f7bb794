"""The cyclic garbage collector: a freed training step leaves it nothing to do, and gc_paused() restores it exactly."""

import gc
import random
import signal
import sys
import threading

import pytest

import micrograd_it
from micrograd_it import SGD, Value, gc_paused
from micrograd_it._compiled import nodes_tracked
from micrograd_it._gc import paused_blocks
from micrograd_it.losses import mse
from micrograd_it.makemore import CharMLP, batch_loss, char_dataset
from micrograd_it.nn import MLP
from tests.interrupts import interrupt_after


@pytest.fixture
def collector_state():
    """Give each test the collector as it was, and check that the test left it so."""
    enabled, debug = gc.isenabled(), gc.get_debug()
    yield
    assert paused_blocks() == 0
    assert gc.isenabled() == enabled and gc.get_debug() == debug
    if enabled:
        gc.enable()


def unreachable_after(work):
    """Run `work()` with the collector off; return the objects that only the cyclic collector could free.

    gc.DEBUG_SAVEALL makes gc.collect() keep what it finds in gc.garbage
    instead of freeing it, so the test sees every object a cycle held.
    """
    gc.collect()
    enabled, debug, kept = gc.isenabled(), gc.get_debug(), list(gc.garbage)
    gc.garbage.clear()
    gc.disable()
    try:
        with nodes_tracked():  # the compiled engine's nodes too, which the collector otherwise never sees
            work()
        gc.set_debug(gc.DEBUG_SAVEALL)
        found = gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(debug)
        gc.garbage[:] = kept
        if enabled:
            gc.enable()
    assert found == len(garbage)
    return garbage


def mlp_training_step():
    net = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    optimizer = SGD(net, 0.05)
    X, Y = [[0.5, -1.0], [1.0, 0.25], [-0.3, 0.8]], [1.0, -1.0, 0.5]

    def step():
        with net.trace() as trace:
            loss = mse([net(x) for x in X], Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return trace.layers[0].dead(0.99), loss.data
    return step


def test_a_freed_mlp_training_step_leaves_nothing_for_the_collector():
    step = mlp_training_step()
    step()  # first-call costs (caches) out of the way
    assert unreachable_after(step) == []


def test_a_freed_study_step_leaves_nothing_for_the_collector():
    X, Y, vocab_size = char_dataset(block_size=3)
    model = CharMLP(vocab_size, 3, 4, 8, "scaled", seed=0)
    optimizer = SGD(model.named_parameters(), 0.5)

    def step():
        with model.trace() as trace:
            loss = batch_loss(model, X, Y, range(6))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return trace.layers[0].saturation(0.99)
    step()
    assert unreachable_after(step) == []


def test_the_check_sees_a_reference_cycle():
    step = mlp_training_step()
    step()

    def step_that_keeps_a_cycle():
        result = [step()]
        result.append(result)  # a list that holds itself: only the cyclic collector frees it
    garbage = unreachable_after(step_that_keeps_a_cycle)
    assert any(isinstance(obj, list) and obj and obj[-1] is obj for obj in garbage)


def test_gc_paused_turns_the_collector_off_and_back_on(collector_state):
    gc.enable()
    with gc_paused() as paused:
        assert not gc.isenabled() and paused_blocks() == 1
        assert isinstance(paused, gc_paused)
    assert gc.isenabled() and paused_blocks() == 0


def test_a_collector_switched_off_by_the_user_stays_off(collector_state):
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_blocks_re_enable_only_when_the_outer_one_ends(collector_state):
    gc.enable()
    with gc_paused():
        with gc_paused():
            assert paused_blocks() == 2
        assert not gc.isenabled() and paused_blocks() == 1
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_error(collector_state):
    gc.enable()
    with pytest.raises(ZeroDivisionError):
        with gc_paused():
            1 / 0
    assert gc.isenabled() and paused_blocks() == 0


def test_one_object_may_be_used_again_and_nested(collector_state):
    gc.enable()
    paused = gc_paused()
    with paused:
        with paused:
            assert paused_blocks() == 2
        assert paused_blocks() == 1 and not gc.isenabled()
    assert gc.isenabled()
    with paused:  # and once more after
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_block_whose_exit_never_ran_ends_when_its_object_is_freed(collector_state):
    # What a Ctrl-C landing just as __exit__ starts (before its first line) leaves behind.
    gc.enable()
    paused = gc_paused()
    paused.__enter__()
    assert not gc.isenabled()
    del paused
    assert gc.isenabled() and paused_blocks() == 0


def test_blocks_in_two_threads_are_counted(collector_state):
    gc.enable()
    entered, main_left, worker_done = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def worker():
        with gc_paused():
            entered.set()
            main_left.wait(10)
            seen["while the worker is still inside"] = gc.isenabled()
        worker_done.set()

    thread = threading.Thread(target=worker)
    with gc_paused():
        thread.start()
        entered.wait(10)
    main_left.set()  # the main thread's block is over; the worker's is not
    worker_done.wait(10)
    thread.join(10)
    assert seen == {"while the worker is still inside": False}
    assert gc.isenabled() and paused_blocks() == 0


class Alarm(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
def test_signals_at_random_moments_never_leave_the_collector_off(collector_state):
    # A real signal (SIGALRM, its handler raising like Ctrl-C's does) lands at
    # a random microsecond, often inside __enter__/__exit__ themselves; after
    # every interrupted attempt nothing may be left paused.
    def attempt():
        for _ in range(50):
            with gc_paused():
                with gc_paused():
                    pass

    rng = random.Random(0)
    gc.enable()
    interrupted = 0
    for _ in range(3000):
        interrupted += interrupt_after(rng.uniform(1e-6, 60e-6), attempt, exception=Alarm) is not None
        assert paused_blocks() == 0 and gc.isenabled()
    assert interrupted > 100, "the alarm should have interrupted many of the attempts"


def test_it_is_exported_and_documented():
    assert micrograd_it.gc_paused is gc_paused and "gc_paused" in micrograd_it.__all__
    assert "thread" in sys.modules["micrograd_it._gc"].__doc__
