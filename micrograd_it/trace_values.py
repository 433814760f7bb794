"""Trace any Value code, not only our Modules: every activation op applied inside a block, as layers.

    with trace_values() as tr:
        loss = any_code_built_on_values(...)   # microgpt's forward pass, a hand-written MLP...
    loss.backward()
    tr.layers          # one LayerTrace per line of code applying an activation (and per depth)
    print(tr)          # the summary table, as net.trace()'s

The scalar twin of `micrograd_it.torch_trace.trace_torch`. Each activation op of the catalogue
(relu, tanh, sigmoid... the ops marked as activations in micrograd_it/ops.py) applied inside the
block, in this thread or task, is recorded: its input (preact) and output (act) Values. So is a
node made by hand, microgpt's way (``Value(t, (self,), (1 - t**2,))``), in a function named as
such an activation (a learner's own ``def tanh(self)``), when its value and local derivative are
that activation's (to 1e-9): it is recorded as that activation, at the line that called the
function, so the catalogue's saturation rule is the right one for it. Any other hand-made node (a
``def silu(self)``, or a leaky ReLU named relu) is not recorded: its rule would be a guess. The
LayerTraces keep those Values and read ``.data`` / ``.grad`` when asked, so they see a
``backward()`` run after the block, as net.trace()'s do.

How calls become layers (the grouping rule):
- **layer**: the calls made by one line of code with one op (and constant), at one *depth*: how
  many activations lie on the longest path from the graph's leaves to the call, itself included.
  A loop that applies the same line to every layer of a network (micrograd's ``Neuron.__call__``,
  microgpt's ``for li in range(n_layer)``) thus gives one layer per depth; a line with calls at
  several depths is named with ``#depth``.
- **row**: one execution of the code around the line: the calls that share one frame (one run of a
  function, of a list comprehension) at the innermost level of the call stack where, for this
  line, some frame holds two calls of one layer. microgpt's ``[xi.relu() for xi in x]`` makes one
  row per token position (64 columns); micrograd's ``Neuron.__call__`` runs once per neuron, so the
  row is the Layer's call, one per sample (its other layers on that line show the level, so its
  last layer of one neuron gets a row per sample too). A layer of a single call is one row.
- **column**: the calls of a row, in the order they ran (neuron 0, 1, ...).
- **ragged**: rows of a layer that differ in length (a run that stopped early) are never padded or
  cut: each length becomes a layer of its own, named ``(... calls per row)``.
- Limits of the rule, both giving one row where a reader may expect several: code that runs every
  call in one frame (a flat loop over samples in the ``with`` block itself), and a function that
  applies its activation once per call (one neuron) called in a loop, whose calls share only the
  loop's frame: one neuron on many samples and many neurons on one sample look alike there. Put a
  sample's forward pass in a function (as programs do) to get a row per sample.

Names say where to look: ``gpt.py:140 mlp() relu`` (file, line, function, op). Tracing computes
nothing of its own on the graph and writes nothing into it, so values and gradients are those of
an untraced run bit for bit; off, it costs the activation ops one read each. Blocks hold for the
thread or asyncio task that entered them (a task created inside sees it while it is open), and
cannot be nested in one thread.
"""

import contextvars
import math
import os
import sys
import weakref

from . import engine as _engine
from ._compiled import fast_function
from .catalogue import CATALOGUE
from .trace import LayerTrace, Trace, block_abandoned

__all__ = ["trace_values", "ValuesLayerTrace"]

_ENGINE_FILE = _engine.__file__  # the Python source's frames are skipped (compiled, it has none)
_current = contextvars.ContextVar("micrograd_it.trace_values", default=None)
_open_tracers = weakref.WeakSet()  # the blocks entered and not yet closed, in any thread
_C_DEPTH = fast_function("activation_depth")  # the compiled build: `_depth_below` in C (the same counts), else None


def _record(preact, act, op):
    """The engine's hook (see engine._TraceSwitch): keep the call if this context is tracing."""
    tracer = _current.get()
    if tracer is not None and tracer._open:
        tracer._add(preact, act, op, sys._getframe(1))


def _record_made(preact, act, op):
    """The engine's hook for a node made by hand in a function named as an activation (``def tanh(self):
    return Value(t, (self,), (1 - t**2,))``): recorded at the line that called that function, when its
    value and local derivative are the catalogue's for that activation (up to rounding)."""
    tracer = _current.get()
    if tracer is not None and tracer._open and _is_that_activation(preact, act, op):
        frame = sys._getframe(1)
        # the engine's frames (its Python source) and __init__s passing the arguments on, then the maker
        while frame is not None and (frame.f_code.co_filename == _ENGINE_FILE or frame.f_code.co_name == "__init__"):
            frame = frame.f_back
        if frame is not None:
            tracer._add(preact, act, op, frame.f_back)


def _is_that_activation(preact, act, op):
    """True when `act` holds what the catalogue's `op` gives at `preact` (value and local derivative,
    to 1e-9): then the op's saturation rule is the right one for it, not a guess from its name."""
    try:
        out, local = CATALOGUE[op.name].rule(preact._data)
    except (ArithmeticError, ValueError):
        return False
    return (math.isclose(out, act._data, rel_tol=1e-9, abs_tol=1e-12)
            and math.isclose(local, act._dx, rel_tol=1e-9, abs_tol=1e-12))


def _hook(on):
    """Point the engine's hook at this module; ``anywhere`` True (on), or True while a block is open (off).

    No lock (a Ctrl-C between a lock's acquire and release would leave every later block waiting): when a
    block closes, the hook goes off only if no block is entered, and that is checked again after the
    write, so a block entered meanwhile in another thread turns it back on. A set of the entered blocks
    rather than a count: no interrupt can leave it wrong for good (an abandoned block leaves it when the
    next one in its context closes it, or when it is collected)."""
    _engine._tracing.record = _record
    _engine._tracing.record_made = _record_made
    if on:
        _engine._tracing.anywhere = True
        return
    _engine._tracing.anywhere = len(_open_tracers) > 0
    if len(_open_tracers) > 0:
        _engine._tracing.anywhere = True


class ValuesLayerTrace(LayerTrace):
    """A LayerTrace recorded by trace_values(): the same API, plus where it came from.

    ``file``, ``line``, ``function``: the code that applied the activation; ``depth``: how many
    activations lie on the path below it, itself included; ``params``: the op's constant
    (``(0.1,)`` for ``leaky_relu(0.1)``), whose local derivative the saturation rule then uses.
    """

    def __init__(self, name, activation, n_neurons, site, depth, params):
        super().__init__(name, activation, n_neurons)
        self.file, self.line, self.function = site
        self.depth, self.params = depth, params

    def saturated(self, threshold=0.99):
        """samples x neurons of bools, as LayerTrace's; an op with a constant other than its default
        (leaky_relu(0.1)) is judged by its own local derivative at that constant."""
        definition = CATALOGUE[self.activation]
        if not self.params or self.params[0] == definition.param.default or definition.activation.saturated:
            return super().saturated(threshold)
        super().saturated(threshold)  # checks the threshold
        return [[abs(definition.rule(node.data, *self.params)[1]) + threshold < 1.0 for node in row]
                for row in self.preact_nodes]


class trace_values(Trace):
    """Context manager: ``with trace_values() as tr:`` records every activation op applied inside.

    After the block, ``tr.layers`` holds one `ValuesLayerTrace` per layer (see the module's
    grouping rule), in the order each was first called; ``print(tr)`` shows their summary.
    Raises RuntimeError when entered twice or inside another trace_values() of this thread.
    """

    def __init__(self):
        super().__init__([])
        self._open = False
        self._token = None

    def __enter__(self):
        if self._state != "new":
            raise RuntimeError("this trace_values() was already used; open a new one")
        outer = _current.get()
        if outer is not None and outer._open and block_abandoned(outer._block_frame):
            outer.__exit__(None, None, None)  # a Ctrl-C as its __exit__ began: the block ended, finish closing it
        if outer is not None and outer._open:
            raise RuntimeError("trace_values() blocks cannot be nested in one thread")
        self._calls = []      # (site, op, depth, frame serials innermost first, preact, act)
        self._depth = {}      # Value -> activations on the longest path below it, for this block
        self._frames = {}     # frame -> serial number; holds the frames until the block ends
        self._functions = {}  # (code, line) -> the name of the function that holds it
        self._block_frame = sys._getframe(1)
        _open_tracers.add(self)
        _hook(on=True)  # before the block opens: the engine's hook must never miss an open block
        try:
            self._token = _current.set(self)
            self._state = "open"
            self._open = True  # last: recording starts only once the block is fully entered
        except BaseException:  # Ctrl-C half-way in: as if the block had never been entered
            self._close()
            self._state = "new"
            raise
        return self

    def __exit__(self, *exc_info):
        if self._state != "open":  # closed already (an abandoned block, closed by the next one)
            return False
        try:
            self._close()
        finally:  # a Ctrl-C inside the first: this one finishes it (each step can run twice)
            self._close()
        try:
            self.layers = _layers(self._calls, self._functions)
        finally:
            self._calls, self._depth, self._frames, self._block_frame = [], {}, {}, None
        return False

    def _close(self):
        """Stop recording: this context's current block back to none, the engine's hook off if no block is open."""
        self._open = False
        self._state = "closed"
        if self._token is not None:
            token, self._token = self._token, None
            try:
                _current.reset(token)
            except (ValueError, RuntimeError):  # exited in another context than it was entered
                _current.set(None)
        _open_tracers.discard(self)
        _hook(on=False)

    def _add(self, preact, act, op, frame):
        while frame is not None and frame.f_code.co_filename == _ENGINE_FILE:
            frame = frame.f_back
        if frame is None:
            return
        site = (frame.f_code, frame.f_lineno)
        if site not in self._functions:  # a list comprehension's frame: name the function around it
            outer = frame
            while outer.f_back is not None and outer.f_code.co_name.startswith("<") and outer.f_code.co_name != "<module>":
                outer = outer.f_back
            self._functions[site] = outer.f_code.co_name
        serials = []
        while frame is not None:
            serials.append(self._frames.setdefault(frame, len(self._frames)))
            if frame is self._block_frame:
                break
            frame = frame.f_back
        depth = 1 + (self._depth_below(preact) if _C_DEPTH is None else _C_DEPTH(preact, self._depth))
        self._depth[act] = depth
        self._calls.append((site, op, depth, serials, preact, act))

    def _depth_below(self, root):
        """The most activations on any path below `root` (each node's count remembered for the block).

        Each node of the graph is visited once per block; this walk is most of tracing's cost, so it
        reads the engine's input slots directly rather than building `children` tuples.
        """
        memo = self._depth
        known = memo.get(root)
        if known is not None:
            return known
        stack = [root]
        while stack:
            node = stack[-1]
            x = node._x
            if x is None:  # a leaf
                memo[node] = 0
                stack.pop()
                continue
            below_x = memo.get(x)
            if below_x is None:
                stack.append(x)
                continue
            y = node._y
            below_y = 0 if y is None else memo.get(y)
            if below_y is None:
                stack.append(y)
                continue
            memo[node] = below_x if below_x > below_y else below_y
            stack.pop()
        return memo[root]


def _layers(calls, functions):
    """Group the recorded calls into ValuesLayerTraces by the module's rule."""
    groups = {}  # (site, op name, params, depth) -> calls, in first-call order
    for call in calls:
        site, op, depth = call[0], call[1], call[2]
        groups.setdefault((site, op.name, op.params, depth), []).append(call)
    level = _row_levels(groups)
    depths = {}
    for site, _, _, depth in groups:
        depths.setdefault(site, set()).add(depth)
    layers = []
    for key, members in groups.items():
        site, name, params, depth = key
        row_level = level[site]
        rows = {}
        for call in members:
            serials = call[3]
            rows.setdefault(serials[min(row_level, len(serials) - 1)] if row_level is not None else id(call),
                            []).append(call)
        layers.extend(_by_width(key, list(rows.values()), len(depths[site]) > 1, functions[site]))
    return layers


def _row_levels(groups):
    """For each line: the innermost stack level at which some frame holds two calls of one layer (None: none does)."""
    level = {}
    for (site, _, _, _), members in groups.items():
        deepest = max(len(call[3]) for call in members)
        for candidate in range(deepest):
            seen = set()
            if any(_seen_twice(seen, call[3][min(candidate, len(call[3]) - 1)]) for call in members):
                if level.get(site) is None or candidate < level[site]:
                    level[site] = candidate
                break
        else:
            level.setdefault(site, None)
    return level


def _seen_twice(seen, serial):
    if serial in seen:
        return True
    seen.add(serial)
    return False


def _by_width(key, rows, several_depths, function):
    """One ValuesLayerTrace per row length (one, unless rows are ragged)."""
    (code, line), name, params, depth = key
    widths = []
    for row in rows:
        if len(row) not in widths:
            widths.append(len(row))
    op_text = name if not params else f"{name}({', '.join(f'{p:g}' for p in params)})"
    base = f"{os.path.basename(code.co_filename)}:{line} {function}() {op_text}"
    if several_depths:
        base += f" #{depth}"
    layers = []
    for width in widths:
        title = base if len(widths) == 1 else f"{base} ({width} calls per row)"
        layer = ValuesLayerTrace(title, name, width, (code.co_filename, line, function), depth, params)
        layer.preact_nodes = [[call[4] for call in row] for row in rows if len(row) == width]
        layer.act_nodes = [[call[5] for call in row] for row in rows if len(row) == width]
        layers.append(layer)
    return layers
