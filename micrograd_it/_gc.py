"""Pausing Python's cyclic garbage collector around engine work: `gc_paused()`, and back on after.

The engine's graphs hold no reference cycles (no per-node closures: each
node keeps its local derivatives as floats), so reference counting frees a
graph the moment its last name goes, and the cyclic collector has nothing to
find in it. It still runs, though: every ~700 new GC-tracked objects start a
young collection, and its full passes rescan every live node. In a training
loop on the Python source that is a third to a half of the time
(docs/performance.md), all of it finding nothing. (The compiled engine makes
its nodes outside the collector's lists, see micrograd_it/_nodes.c, so
there pausing saves little; the study pauses it all the same, for the other
objects it makes and for the Python source.)

    from micrograd_it import gc_paused
    with gc_paused():
        for step in range(100):
            loss = ...; loss.backward(); opt.step()

The collector is process-wide: while any thread is inside a `gc_paused()`
block, it is off for every thread, and it comes back on when the last such
block ends (blocks nest and may overlap across threads: they are counted).
On exit it is restored to what it was when the first block began: a
collector that you had switched off yourself stays off. Code that makes
reference cycles inside the block (matplotlib figures, exceptions kept with
their tracebacks) keeps that memory until the collector runs again.
"""

import gc
import threading
import weakref

__all__ = ["gc_paused"]

_lock = threading.RLock()  # re-entrant: a signal handler that pauses too must not deadlock
_open = ()  # one weak reference per gc_paused block running now, in any thread
_was_enabled = False  # gc.isenabled() when the first of them began


def _join(paused):
    global _open, _was_enabled
    with _lock:
        if not _open:
            _was_enabled = gc.isenabled()
        _open = _open + (weakref.ref(paused, _forget),)
        gc.disable()


def _remove(is_this_block):
    # Idempotent (nothing matching, nothing done), so that an interrupted call can simply be repeated.
    global _open
    with _lock:
        matching = [index for index, ref in enumerate(_open) if is_this_block(ref)]
        if matching:
            last = matching[-1]
            remaining = _open[:last] + _open[last + 1:]
            if not remaining and _was_enabled:
                gc.enable()
            _open = remaining


def _leave(paused):
    _remove(lambda ref: ref() is paused)


def _forget(dead_ref):
    # A block whose __exit__ never ran (see gc_paused.__exit__) ends when its object is freed.
    _remove(lambda ref: ref is dead_ref)


class gc_paused:
    """Context manager: the cyclic garbage collector is off inside the block, restored on exit.

    Nestable and counted across threads (the collector comes back when the last
    open block ends); restores exactly what it found, also when the block raises
    or a Ctrl-C lands inside ``__enter__``/``__exit__`` themselves. ``__enter__``
    returns the object.
    """

    # A KeyboardInterrupt can land between any two steps of _join/_remove: each
    # half-done step is undone or finished below. One can also land as
    # __exit__ starts, before its first line runs; then this block ends when
    # its object is freed (at once for `with gc_paused():`), through the weak
    # reference's callback. That callback never runs on the normal path.

    def __enter__(self):
        try:
            _join(self)
        except BaseException:
            _leave(self)  # as if this block had never begun
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            _leave(self)
        except BaseException:
            _leave(self)  # finish leaving, then let the interrupt through
            raise
        return False


def paused_blocks():
    """Return how many gc_paused() blocks are running now, in all threads (0 outside any)."""
    return len(_open)
