"""Modes such as `no_grad()` that hold for one thread or asyncio task, from a `with` block's entry to its exit.

Each mode keeps, in a `contextvars.ContextVar`, the innermost block entered
in the current context. A new thread starts with no block (the mode is off
there); an asyncio task, or `asyncio.to_thread`, starts with a copy of its
creator's context, so it sees the blocks its creator was inside. A block is
open from its `__enter__` to its `__exit__`: a task created inside a block
sees the mode while that block is open, and no longer once it has exited
(as in the creator itself). Exiting resets the variable with the token of
the entry, so every context finds exactly the mode it had before.
"""

import contextvars

__all__ = ["ScopedMode"]


class _Block:
    """One entry into a mode's `with` block: open until its exit; `outer` is the block it was entered in."""

    __slots__ = ("open", "outer", "token")

    def __init__(self, outer):
        self.open = False
        self.outer = outer
        self.token = None


class ScopedMode:
    """A mode that is on inside its `with` blocks, for the thread or task that entered them."""

    def __init__(self, name):
        self._innermost = contextvars.ContextVar(name, default=None)
        # None when no block was ever entered in (or inherited by) this context: the mode is off
        self.innermost_block = self._innermost.get

    def is_on(self):
        """Return True when a block of this mode is open in the current context."""
        block = self._innermost.get()
        while block is not None:
            if block.open:
                return True
            block = block.outer
        return False

    def enter(self):
        """Open a new block in the current context; return None."""
        block = _Block(self._innermost.get())
        block.token = self._innermost.set(block)
        block.open = True  # last: a block interrupted half-way through entering never turns the mode on

    def exit(self):
        """Close the innermost block of the current context and restore what the context held before it."""
        block = self._innermost.get()
        if block is None:
            raise RuntimeError("a mode was exited more often than it was entered in this context")
        block.open = False  # first: from here on, every context that holds this block sees it closed
        try:
            self._innermost.reset(block.token)
        except (ValueError, RuntimeError):  # entered in another context (e.g. a generator resumed elsewhere)
            self._innermost.set(block.outer)
