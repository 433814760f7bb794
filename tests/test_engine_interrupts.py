"""An exception at any moment of `backward()` leaves the graph as if backward had not run.

Two kinds of interruption: real signals (SIGALRM at a random moment, its
handler raising KeyboardInterrupt) on a large graph, and asynchronous
exceptions injected at every line of the engine that backward runs, the way
CPython delivers a signal (at its next check between bytecodes), including a
second one landing in the clean-up. After each, the leaves' gradients must be
exactly what they were before the call, and the next `backward()` must give
exactly the gradients of an identical graph that was never interrupted.

The compiled engine (mypyc) runs no Python lines of its own: the real signals
are tested on it too, the injections only on the Python source (CI runs these
tests once more with MICROGRAD_IT_PURE=1).
"""

import collections
import math
import os
import random
import signal
import sys
import time

import pytest

import micrograd_it
import micrograd_it.engine as engine
from micrograd_it import Value
from tests.interrupts import interrupt_after

needs_python_lines = pytest.mark.skipif(
    micrograd_it.COMPILED, reason="injects at the engine's Python lines; the compiled engine has none "
                                  "(run with MICROGRAD_IT_PURE=1, as CI does)")

ENGINE_FILE = engine.__file__
PACKAGE_FOLDER = os.path.dirname(ENGINE_FILE) + os.sep


def _graph(seed, steps, params=300):
    """Return (root, leaves): a chain h = tanh(h * w + h_recent) over `params` shared weights.

    Every node is reachable from the root, weights are used many times (their
    consumer counts are large), and the chain is deep.
    """
    rng = random.Random(seed)
    weights = [Value(rng.uniform(-1.0, 1.0)) for _ in range(params)]
    h = weights[0]
    recent = [h]
    for _ in range(steps):
        h = (h * rng.choice(weights) + rng.choice(recent[-20:])).tanh()
        recent.append(h)
    return h, [node for node in h.nodes() if node.is_leaf]


def _leaf_grads(leaves):
    return [leaf.grad for leaf in leaves]


def _set_grads(leaves, grads):
    for leaf, grad in zip(leaves, grads):
        leaf.grad = grad


def _reference(seed, steps, before):
    """Gradients of the leaves after one uninterrupted backward() on a fresh copy of the graph."""
    root, leaves = _graph(seed, steps)
    _set_grads(leaves, before)
    root.backward()
    return _leaf_grads(leaves)


def _innermost_package_function(frame):
    """Name of the innermost micrograd_it function on the stack (backward calls into other modules too)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(PACKAGE_FOLDER):
            return frame.f_code.co_name
        frame = frame.f_back
    return "outside"


def _interrupt_once(root, delay):
    """Run root.backward() with SIGALRM raising KeyboardInterrupt after `delay` seconds.

    Returns (where the signal landed, whether backward returned): the name of
    the innermost micrograd_it Python function it interrupted, "outside" (no
    micrograd_it Python frame on the stack: after backward, or inside the
    compiled engine) or None (it never came).
    """
    returned = []

    def run():
        root.backward()
        returned.append(True)
    return interrupt_after(delay, run, where=_innermost_package_function), bool(returned)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_a_real_signal_at_a_random_moment_never_poisons_backward():
    trials = int(os.environ.get("MICROGRAD_IT_INTERRUPT_TRIALS", "200"))
    steps = int(os.environ.get("MICROGRAD_IT_INTERRUPT_STEPS", "20000"))  # 3 nodes each
    seed = 0
    root, leaves = _graph(seed, steps)
    rng = random.Random(1)
    before = [rng.uniform(-1.0, 1.0) for _ in leaves]  # not zeros: a wrong reset would show
    expected = _reference(seed, steps, before)

    _set_grads(leaves, before)
    start = time.perf_counter()
    root.backward()
    duration = time.perf_counter() - start  # only spreads the delays over the pass; nothing timed is asserted

    landings = collections.Counter()
    for trial in range(trials):
        _set_grads(leaves, before)
        landed, returned = _interrupt_once(root, rng.uniform(1e-6, 1.2 * duration))
        landings[landed, "returned" if returned else "raised"] += 1
        after = _leaf_grads(leaves)
        if returned:
            assert after == expected, f"trial {trial}: backward finished, the grads are not the reference's"
        elif landed not in (None, "outside"):
            assert after == before, f"trial {trial}: interrupted in {landed}, the leaves' grads changed"
        else:  # raised with no engine Python frame running: just before the pass, or just after it
            assert after in (before, expected), f"trial {trial}: interrupted around backward, grads half done"
        _set_grads(leaves, before)
        root.backward()
        assert _leaf_grads(leaves) == expected, f"trial {trial} (interrupted in {landed}): the next backward is wrong"
    print(f"\n{trials} trials on {len(root.nodes())} nodes; the signal landed in: {dict(landings)}")


# -- injected exceptions, at every line ---------------------------------------------

def _backward_with_injection(root, at_line, then=lambda: None):
    """Run root.backward(), raising KeyboardInterrupt at the start of the `at_line`-th engine line it runs.

    `then()` is called just before raising (to arm a second interruption).
    Returns (engine lines seen, True if backward raised).
    """
    seen = 0

    def tracer(frame, event, arg):
        nonlocal seen
        if frame.f_code.co_filename != ENGINE_FILE:
            return None
        if event == "line":
            seen += 1
            if seen == at_line:
                then()
                raise KeyboardInterrupt  # raised in the engine's frame, at this line; tracing stops
        return tracer

    sys.settrace(tracer)
    try:
        root.backward()
    except KeyboardInterrupt:
        return seen, True
    finally:
        sys.settrace(None)
    return seen, False


def _small_graph():
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(0.25, label="b")
    h = (x * w + b).tanh()
    out = h * h + (h * x).sigmoid() * w + b.exp() / (x + 2.0)
    return out, [x, w, b]


class _Reference:
    """A graph, the leaves' grads before each trial, and what one uninterrupted backward gives."""

    def __init__(self, make=_small_graph):
        self.root, self.leaves = make()
        self.before = [0.125 * (i + 1) for i in range(len(self.leaves))]
        fresh_root, fresh_leaves = make()
        _set_grads(fresh_leaves, self.before)
        fresh_root.backward()
        self.expected = _leaf_grads(fresh_leaves)
        _, raised = _backward_with_injection(self.root, 0)
        assert not raised
        self.lines = _backward_with_injection(self.root, 0)[0]
        assert self.lines > 30

    def check(self, at_line, then=lambda: None):
        _set_grads(self.leaves, self.before)
        _, raised = _backward_with_injection(self.root, at_line, then)
        where = f"interrupted at engine line event {at_line}"
        assert _leaf_grads(self.leaves) == (self.before if raised else self.expected), where
        _set_grads(self.leaves, self.before)
        self.root.backward()
        assert _leaf_grads(self.leaves) == self.expected, f"{where}: the next backward is wrong"
        return raised


@needs_python_lines
def test_an_exception_at_any_line_of_backward_leaves_the_graph_as_it_was():
    reference = _Reference()
    raised = [reference.check(k) for k in range(1, reference.lines + 2)]
    assert all(raised[:-1]) and not raised[-1]  # every line was hit, the last one past the end


def _second_interrupt_in_the_walk(monkeypatch, after_nodes):
    """Return an arming function: once armed, the engine's next graph walk raises after `after_nodes` nodes."""
    armed = []
    real_walk = engine._walk

    def walk(root):
        if not armed:
            yield from real_walk(root)
            return
        armed.clear()
        for count, node in enumerate(real_walk(root)):
            if count == after_nodes:
                raise KeyboardInterrupt("a second Ctrl-C, during the clean-up")
            yield node

    monkeypatch.setattr(engine, "_walk", walk)
    return lambda: armed.append(True)


@needs_python_lines
@pytest.mark.parametrize("after_nodes", [0, 1, 5, 13])
def test_a_second_exception_in_the_clean_up_walk_is_repaired_by_the_next_backward(monkeypatch, after_nodes):
    reference = _Reference()
    arm = _second_interrupt_in_the_walk(monkeypatch, after_nodes)
    for k in range(1, reference.lines + 1):
        assert reference.check(k, then=arm)
    assert not engine._interrupted


@needs_python_lines
def test_a_second_exception_right_after_the_leaves_are_restored(monkeypatch):
    reference = _Reference()
    armed = []
    real_run = engine._run

    def run(iterator):
        real_run(iterator)
        if armed:
            armed.clear()
            raise KeyboardInterrupt("a second Ctrl-C, after the restore")

    monkeypatch.setattr(engine, "_run", run)
    for k in range(1, reference.lines + 1):
        assert reference.check(k, then=lambda: armed.append(True))


@needs_python_lines
def test_an_exception_during_the_consumer_count_does_not_poison_a_shared_subgraph():
    # Two roots sharing a subgraph: the one interrupted is not the one differentiated next.
    x, w = Value(0.3), Value(-0.7)
    shared = (x * w).tanh()
    first, second = shared * 2.0 + x, shared.exp() * w
    lines, _ = _backward_with_injection(first, 0)
    # second = exp(t) w with t = tanh(x w): d/dx = exp(t) (1 - t^2) w * w, d/dw = exp(t) (1 - t^2) x * w + exp(t)
    t = math.tanh(0.3 * -0.7)
    e = math.exp(t)
    for k in range(1, lines + 1):
        _backward_with_injection(first, k)
        x.grad = w.grad = 0.0
        second.backward()
        assert x.grad == pytest.approx(e * (1 - t * t) * w.data * w.data, rel=1e-12), k
        assert w.grad == pytest.approx(e * (1 - t * t) * x.data * w.data + e, rel=1e-12), k
