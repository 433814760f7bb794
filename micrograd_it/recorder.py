"""Watching training: per step and per layer, only statistics, in memory that stays flat however long you train.

    recorder = StatsRecorder()
    for step in range(10_000):
        with net.trace() as tr:            # or: with trace_torch(model) as tr / trace_torch() as tr
            loss = ...
        loss.backward()
        recorder.record(tr)                # after backward: the gradients are part of the statistics
    hidden = recorder["layers.0"]          # a LayerHistory
    hidden.steps, hidden.saturated_pct, hidden.dead, hidden.act_hist ...

Per step and layer it keeps: mean and std of the activations, the saturated %
and the dead count (the trace's own rules), mean and std of grad_in, and two
fixed-bin histograms: of the activations (tanh: 50 bins over [-1, 1]) and of
log10 |grad_in| (40 bins over 1e-10 .. 1, exact zeros counted apart). Values
outside a histogram's range are counted below/above it, never dropped.

Memory is fixed when a layer first appears: `max_rows` rows per layer. When
they are full, neighbouring rows are merged two by two (counts add; means and
stds combine exactly, by Chan's formula), so each row then stands for 2, 4,
8 ... steps and a run of any length fits. Standard library only: a torch trace
layer computes its own numbers (its `step_stats`), ours are computed here.
"""

import math
import numbers
from array import array

from .layer_stats import layer_stats, linear_edges

__all__ = ["StatsRecorder", "LayerHistory", "DEFAULT_ACT_RANGES"]

DEFAULT_ACT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 4.0)}
OTHER_ACT_RANGE = (-2.0, 4.0)

# Columns of a row; the two histograms follow.
FIRST, LAST, STEPS, ACT_N, ACT_MEAN, ACT_M2, GRAD_N, GRAD_MEAN, GRAD_M2, SATURATED, CELLS, DEAD_SUM = range(12)
SCALARS = 12


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _merge_moments(row, other, n, mean, m2):
    """Combine (count, mean, M2) of `other` into `row` at columns n, mean, m2 (Chan et al.)."""
    count_a, count_b = row[n], other[n]
    if count_b == 0:
        return
    total = count_a + count_b
    delta = other[mean] - row[mean]
    row[m2] = row[m2] + other[m2] + delta * delta * count_a * count_b / total
    row[mean] = row[mean] + delta * count_b / total
    row[n] = total


def merge_rows(row, other):
    """Add row `other` (a later one) into `row` in place: step range, moments, counts and histograms."""
    row[FIRST] = min(row[FIRST], other[FIRST])
    row[LAST] = max(row[LAST], other[LAST])
    _merge_moments(row, other, ACT_N, ACT_MEAN, ACT_M2)
    _merge_moments(row, other, GRAD_N, GRAD_MEAN, GRAD_M2)
    for column in (STEPS, SATURATED, CELLS, DEAD_SUM):
        row[column] += other[column]
    row[SCALARS:] = [mine + theirs for mine, theirs in zip(row[SCALARS:], other[SCALARS:])]


class LayerHistory:
    """The rows of one layer: each row is one step, or (after merging) 2, 4, 8 ... consecutive steps.

    Every property returns one number per row (the last row may still be filling up).
    """

    def __init__(self, name, activation, act_edges, grad_edges, capacity):
        self.name = name
        self.activation = activation
        self.act_edges = list(act_edges)
        self.grad_log10_edges = [math.log10(edge) for edge in grad_edges]
        self._grad_edges = list(grad_edges)
        self.n_neurons = 0
        self.width = SCALARS + (len(act_edges) + 1) + (len(grad_edges) + 2)
        self.capacity = capacity
        self.stride = 1  # steps per full row
        self._rows = array("d", bytes(8 * capacity * self.width))  # all the memory it will ever hold
        self._count = 0
        self._pending = None  # the row being filled, a list of `width` floats

    def add(self, step, stats):
        """Add one step's `layer_stats`; return None."""
        self.n_neurons = stats["n_neurons"]
        row = [0.0] * self.width
        row[FIRST] = row[LAST] = float(step)
        row[STEPS] = 1.0
        row[ACT_N], row[ACT_MEAN], row[ACT_M2] = stats["act"]
        if stats["grad"] is not None:
            row[GRAD_N], row[GRAD_MEAN], row[GRAD_M2] = stats["grad"]
        row[SATURATED], row[CELLS], row[DEAD_SUM] = stats["saturated"], stats["cells"], stats["dead"]
        hist_start = SCALARS + len(self.act_edges) + 1
        row[SCALARS:hist_start] = stats["act_hist"]
        if stats["grad_hist"] is not None:
            row[hist_start:] = stats["grad_hist"]
        if self._pending is None:
            self._pending = row
        else:
            merge_rows(self._pending, row)
        if self._pending[STEPS] == self.stride:
            self._commit()

    def _commit(self):
        start = self._count * self.width
        self._rows[start:start + self.width] = array("d", self._pending)
        self._count += 1
        self._pending = None
        if self._count == self.capacity:  # full: merge neighbours, each row now holds twice the steps
            for index in range(self.capacity // 2):
                row = self._row(2 * index)
                merge_rows(row, self._row(2 * index + 1))
                self._rows[index * self.width:(index + 1) * self.width] = array("d", row)
            self._count = self.capacity // 2
            self.stride *= 2

    def _row(self, index):
        return list(self._rows[index * self.width:(index + 1) * self.width])

    def rows(self):
        """Return every row as a list of floats (the committed ones, then the one filling up)."""
        rows = [self._row(index) for index in range(self._count)]
        return rows + ([list(self._pending)] if self._pending is not None else [])

    def _column(self, column, denominator, transform=None):
        """row[column] / row[denominator] per row (through `transform`), None where the denominator is 0."""
        values = []
        for row in self.rows():
            if row[denominator] == 0:
                values.append(None)
            else:
                value = row[column] / row[denominator]
                values.append(transform(value) if transform else value)
        return values

    @property
    def steps(self):
        """The middle step of each row."""
        return [(row[FIRST] + row[LAST]) / 2 for row in self.rows()]

    @property
    def step_ranges(self):
        """(first step, last step) of each row."""
        return [(int(row[FIRST]), int(row[LAST])) for row in self.rows()]

    @property
    def act_mean(self):
        """Mean activation per row (None for a row without activations)."""
        return [None if row[ACT_N] == 0 else row[ACT_MEAN] for row in self.rows()]

    @property
    def act_std(self):
        """Standard deviation (population) of the activations of each row."""
        return self._column(ACT_M2, ACT_N, math.sqrt)

    @property
    def saturated_pct(self):
        """% of (sample, neuron) entries saturated, per row."""
        return [None if row[CELLS] == 0 else 100.0 * row[SATURATED] / row[CELLS] for row in self.rows()]

    @property
    def dead(self):
        """Dead neurons per step (a mean when a row holds several steps)."""
        return self._column(DEAD_SUM, STEPS)

    @property
    def grad_in_mean(self):
        """Mean of d loss / d preact per row; None where no gradient was recorded."""
        return [None if row[GRAD_N] == 0 else row[GRAD_MEAN] for row in self.rows()]

    @property
    def grad_in_std(self):
        """Standard deviation of d loss / d preact per row; None where no gradient was recorded."""
        return self._column(GRAD_M2, GRAD_N, math.sqrt)

    def _hist(self, first, count):
        return [[int(value) for value in row[first:first + count]] for row in self.rows()]

    @property
    def act_hist(self):
        """rows x bins counts of the activations (bins: act_edges); act_below/act_above: outside them."""
        return self._hist(SCALARS + 1, len(self.act_edges) - 1)

    @property
    def act_below(self):
        """Activations below the first edge, per row."""
        return [int(row[SCALARS]) for row in self.rows()]

    @property
    def act_above(self):
        """Activations above the last edge, per row."""
        return [int(row[SCALARS + len(self.act_edges)]) for row in self.rows()]

    @property
    def grad_hist(self):
        """rows x bins counts of log10 |grad_in| (bins: grad_log10_edges); zeros, below, above apart."""
        return self._hist(self._grad_start + 2, len(self._grad_edges) - 1)

    @property
    def _grad_start(self):
        return SCALARS + len(self.act_edges) + 1

    @property
    def grad_zero(self):
        """Gradients exactly 0, per row (relu's dead side)."""
        return [int(row[self._grad_start]) for row in self.rows()]

    @property
    def grad_below(self):
        """Nonzero |grad_in| below the first edge, per row."""
        return [int(row[self._grad_start + 1]) for row in self.rows()]

    @property
    def grad_above(self):
        """|grad_in| above the last edge, per row."""
        return [int(row[-1]) for row in self.rows()]

    def __repr__(self):
        return f"LayerHistory({self.name!r}, {self.activation!r}, {len(self.rows())} rows of {self.stride} steps)"


def _check_range(value, what):
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) for x in value)
            or not value[0] < value[1]):
        raise ValueError(f"{what} must be (low, high) with finite numbers low < high, got {_describe(value)}")
    return float(value[0]), float(value[1])


def _check_int(value, what, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {_describe(value)}")
    return int(value)


class StatsRecorder:
    """Keeps, per step and per layer, the statistics of a trace (ours or a torch one): see the module docstring.

    threshold: the saturation threshold of the trace's rules; act_bins / act_range: the activation
    histogram (default range per activation: tanh [-1, 1], sigmoid [0, 1], relu [0, 4], others [-2, 4]);
    grad_bins / grad_decades: the histogram of log10 |grad_in|; max_rows (even): rows kept per layer.
    Raises ValueError for a bad argument.
    """

    def __init__(self, threshold=0.99, act_bins=50, act_range=None, grad_bins=40, grad_decades=(-10, 0),
                 max_rows=1000):
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be a number in (0, 1), got {_describe(threshold)}")
        self.threshold = float(threshold)
        self.act_bins = _check_int(act_bins, "act_bins", 1)
        self.act_range = None if act_range is None else _check_range(act_range, "act_range")
        low, high = _check_range(grad_decades, "grad_decades")
        grad_bins = _check_int(grad_bins, "grad_bins", 1)
        # the edges in |grad| itself, so that ours and torch's compare the same floats
        self.grad_edges = [10.0 ** exponent for exponent in linear_edges(low, high, grad_bins)]
        self.max_rows = _check_int(max_rows, "max_rows", 2)
        if self.max_rows % 2:
            raise ValueError(f"max_rows must be even (rows are merged two by two), got {max_rows!r}")
        self._act_edges = {}  # activation -> its histogram's edges
        self.layers = {}  # name -> LayerHistory, in the order they first appeared
        self.n_records = 0
        self._last_step = None

    def act_edges(self, activation):
        """The activation histogram's bin edges for a layer with this activation."""
        if activation not in self._act_edges:
            low, high = self.act_range or DEFAULT_ACT_RANGES.get(activation, OTHER_ACT_RANGE)
            self._act_edges[activation] = linear_edges(low, high, self.act_bins)
        return self._act_edges[activation]

    def record(self, trace, step=None):
        """Add the statistics of every layer of `trace` (a Trace or TorchTrace, after backward) as step `step`
        (default: the number of earlier records). Returns None.

        Raises TypeError for something that is not a trace, ValueError for a step that goes back in time or
        a layer whose activation changed. Nothing is added when it raises.
        """
        layers = getattr(trace, "layers", None)
        if not isinstance(layers, list):
            raise TypeError(f"record needs a trace (with .layers), got {_describe(trace)}")
        step = self.n_records if step is None else _check_int(step, "step", 0)
        if self._last_step is not None and step <= self._last_step:
            raise ValueError(f"step {step} does not come after the last recorded step {self._last_step}")
        for layer in layers:
            known = self.layers.get(layer.name)
            if known is not None and known.activation != layer.activation:
                raise ValueError(f"layer {layer.name!r} was {known.activation}, now {layer.activation}")
        computed = []  # every layer's numbers first: an error in one leaves the recorder untouched
        for layer in layers:
            edges = self.act_edges(layer.activation)
            computed.append((layer, layer_stats(layer, self.threshold, edges, self.grad_edges)))
        for layer, stats in computed:
            history = self.layers.get(layer.name)
            if history is None:
                history = LayerHistory(layer.name, layer.activation, self.act_edges(layer.activation),
                                       self.grad_edges, self.max_rows)
                self.layers[layer.name] = history
            history.add(step, stats)
        self.n_records += 1
        self._last_step = step

    def __getitem__(self, name):
        """The LayerHistory of layer `name`; KeyError naming the known layers otherwise."""
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"no layer {name!r} recorded; the layers are {list(self.layers)}") from None

    def __repr__(self):
        return f"StatsRecorder({self.n_records} steps, layers {list(self.layers)})"
