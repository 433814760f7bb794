"""`no_grad()` and `detect_anomaly()` hold for one thread or asyncio task, and are restored exactly on exit.

Threads are put in a forced order with events (never sleeps); whether a
graph was recorded is read from the Value (``is_leaf``), not only from
`is_grad_enabled()`.
"""

import asyncio
import contextvars
import threading

import pytest

from micrograd_it import Value, detect_anomaly, gradcheck, is_anomaly_enabled, is_grad_enabled, no_grad


def _records_a_graph():
    """Return True when an op made here records its inputs (the mode as ops see it)."""
    x = Value(2.0)
    return not (x * 3.0).is_leaf


def _in_thread(target):
    """Start `target` in a thread; return a join() that re-raises what the thread raised."""
    errors = []

    def run():
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - carried to the main thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(timeout=60)
        assert not thread.is_alive(), "the thread did not finish"
        if errors:
            raise errors[0]
    return join


def test_interleaved_enter_and_exit_in_two_threads_leave_both_modes_on():
    # Order: A enters, B enters, A exits (B still inside), B exits. With one process-wide flag
    # B's exit would restore "off" (what it found on entry) for everyone.
    a_in, b_in, a_out, b_out = (threading.Event() for _ in range(4))
    seen = {}

    def thread_a():
        with no_grad():
            a_in.set()
            assert b_in.wait(30)
            seen["a inside"] = _records_a_graph()
        seen["a after"] = (_records_a_graph(), is_grad_enabled())
        a_out.set()
        assert b_out.wait(30)
        seen["a at the end"] = _records_a_graph()

    def thread_b():
        assert a_in.wait(30)
        with no_grad():
            b_in.set()
            assert a_out.wait(30)
            seen["b inside after a left"] = (_records_a_graph(), is_grad_enabled())
        seen["b after"] = _records_a_graph()
        b_out.set()

    join_a, join_b = _in_thread(thread_a), _in_thread(thread_b)
    join_a()
    join_b()
    assert seen == {
        "a inside": False,
        "a after": (True, True),
        "b inside after a left": (False, False),
        "b after": True,
        "a at the end": True,
    }
    assert _records_a_graph() and is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    inside, checked = threading.Event(), threading.Event()

    def hold_no_grad():
        with no_grad():
            inside.set()
            assert checked.wait(30)
            assert not _records_a_graph()

    join = _in_thread(hold_no_grad)
    assert inside.wait(30)
    try:
        x, w = Value(0.5), Value(-2.0)
        out = (x * w).tanh()
        assert is_grad_enabled() and not out.is_leaf
        out.backward()
        assert w.grad == pytest.approx((1 - out.data**2) * 0.5, rel=1e-12)
    finally:
        checked.set()
    join()


def test_gradcheck_in_a_thread_while_another_builds_a_graph():
    # gradcheck evaluates f under no_grad; f waits there until the main thread has built its graph.
    in_no_grad, built = threading.Event(), threading.Event()
    results = []

    def f(x):
        if not is_grad_enabled() and not in_no_grad.is_set():
            in_no_grad.set()
            assert built.wait(30)
        return (x * x).tanh()

    join = _in_thread(lambda: results.append(gradcheck(f, [Value(0.3)])))
    assert in_no_grad.wait(30)
    try:
        y = Value(1.5)
        out = y * y * y
        assert not out.is_leaf
        out.backward()
        assert y.grad == 3 * 1.5**2
    finally:
        built.set()
    join()
    assert results == [True]


def test_modes_are_restored_exactly_nested_reentered_and_on_error():
    ng = no_grad()
    with ng:
        with ng:  # the same instance, nested
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with detect_anomaly():
            assert is_anomaly_enabled() and not is_grad_enabled()
        assert not is_anomaly_enabled()
    assert is_grad_enabled() and _records_a_graph()
    with ng:  # and again, later
        assert not _records_a_graph()
    with pytest.raises(KeyError):
        with no_grad(), detect_anomaly():
            raise KeyError("boom")
    assert is_grad_enabled() and not is_anomaly_enabled()


def test_detect_anomaly_in_one_thread_is_not_seen_by_another():
    inside, checked = threading.Event(), threading.Event()

    def hold():
        with detect_anomaly():
            inside.set()
            assert checked.wait(30)
            assert is_anomaly_enabled()

    join = _in_thread(hold)
    assert inside.wait(30)
    try:
        assert not is_anomaly_enabled()
    finally:
        checked.set()
    join()


def test_asyncio_tasks_each_have_their_own_mode():
    async def main():
        a_inside, b_done = asyncio.Event(), asyncio.Event()
        seen = {}

        async def task_a():
            with no_grad():
                a_inside.set()
                await b_done.wait()  # B runs while A is suspended inside no_grad
                seen["a still inside"] = _records_a_graph()
            seen["a after"] = _records_a_graph()

        async def task_b():
            await a_inside.wait()
            seen["b"] = _records_a_graph()
            b_done.set()

        await asyncio.gather(task_a(), task_b())
        return seen

    assert asyncio.run(main()) == {"a still inside": False, "b": True, "a after": True}


def test_a_task_created_inside_no_grad_sees_it_while_the_block_is_open():
    async def main():
        block_exited, observed_inside = asyncio.Event(), asyncio.Event()
        seen = {}

        async def child():
            seen["while open"] = _records_a_graph()
            observed_inside.set()
            await block_exited.wait()
            seen["after the block exited"] = _records_a_graph()
            with no_grad():
                seen["its own block"] = _records_a_graph()
            seen["after its own block"] = _records_a_graph()

        with no_grad():
            task = asyncio.create_task(child())
            await observed_inside.wait()
        block_exited.set()
        await task
        return seen

    assert asyncio.run(main()) == {
        "while open": False,
        "after the block exited": True,
        "its own block": False,
        "after its own block": True,
    }


def test_a_context_copied_inside_no_grad_follows_the_block():
    with no_grad():
        copied = contextvars.copy_context()
        assert copied.run(_records_a_graph) is False
    assert copied.run(_records_a_graph) is True
    assert _records_a_graph()


def test_a_context_copied_inside_nested_blocks_follows_each_block():
    with no_grad():  # A
        with no_grad():  # B
            copied = contextvars.copy_context()
        # B has exited, A is still open: the copy (made inside both) is still inside A
        assert copied.run(_records_a_graph) is False and copied.run(is_grad_enabled) is False
    assert copied.run(_records_a_graph) is True and copied.run(is_grad_enabled) is True
