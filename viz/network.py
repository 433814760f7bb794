"""Draw an MLP as its neurons, each coloured by how often it saturated over a traced batch.

    with net.trace() as trace:
        loss = mse([net(x) for x in X], Y)
        loss.backward()
    draw_network(net, trace)          # a Digraph; render(..., "net.png") from viz.graph writes it

Each layer is one table of cells, one cell per neuron, in index order (row by
row), so neuron j of the map is column j of `saturation_map`, whatever the
layout engine does. A neuron's fill is its saturation: the fraction of samples
on which it passed (almost) no gradient, on a sequential scale from pale
yellow (never) to dark brown (always); the trace decides what saturated means
for each activation. A neuron saturated on every sample is dead: a cross
before its index and a thick black outline. The weights into a dead neuron can
(almost) no longer learn (their gradient is its grad_in, ~0, times their
input), and so can the weights fed by a dead neuron that outputs 0 (a dead
relu): they are drawn grey and dotted, or as hollow bars.

Two sizes, picked by the net's width (`cells=None`):
- a small net (inputs and layers narrower than CELLS_FROM): a column of cells
  per layer printing saturation and mean |grad_in|, every weight an edge
  (the strongest `max_edges_per_neuron` into each neuron);
- a wide one, such as the seed's 30 -> 200 -> 27: a grid per layer, each cell
  with bars for the norms of its weights in and out, and one or two summary
  edges per weight matrix (the weights that learn, those that cannot).
The cells are `viz.network_cells`, the assembly `viz.network_draw`.
"""

import math

from .graph import SATURATION_SCALE, saturation_color
from ._text import shown
from .network_draw import draw

__all__ = ["draw_network", "network_numbers", "saturation_color", "SATURATION_SCALE", "CELLS_FROM"]

STRONGEST_WEIGHTS = 6  # edges drawn into each neuron of a small net when its fan-in is larger
CELLS_FROM = 13  # a layer (or the inputs) this wide or wider: the net is drawn as grids (12 cells ~ a screen tall)


def _check(net, trace):
    layers = getattr(net, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError(f"draw_network() needs an MLP (with .layers of neurons), got {type(net).__name__}")
    if not hasattr(trace, "layers") or len(trace.layers) != len(layers):
        found = len(trace.layers) if hasattr(trace, "layers") else type(trace).__name__
        raise ValueError(f"the trace must have one layer per layer of the net ({len(layers)}), got {found}")
    for layer, layer_trace in zip(layers, trace.layers):
        if layer_trace.n_neurons != len(layer.neurons):
            raise ValueError(f"trace layer {layer_trace.name} has {layer_trace.n_neurons} neurons, "
                             f"the net's layer has {len(layer.neurons)}: is it the trace of another net?")
    if trace.layers[0].n_samples == 0:
        raise ValueError("the trace recorded no samples: call the net inside `with net.trace() as trace:`")


class LayerNumbers:
    """What the map shows of one layer, per neuron j (lists indexed by j).

    saturation[j]: fraction of samples saturated; dead: set of neurons saturated on
    every sample; grad_in[j]: mean |d loss / d preact|; in_norm[j]: ||weights into j||
    (bias excluded); out_norm[j]: ||weights from j into the next layer|| (None for the
    last layer); frozen_in[j] / frozen_out[j]: how many of those weights can (almost)
    no longer learn; weights[j]: the Values of its incoming weights.
    """

    def __init__(self, layer, layer_trace, threshold):
        self.name, self.activation = shown(layer_trace.name), shown(layer_trace.activation)
        self.n_neurons, self.n_samples = layer_trace.n_neurons, layer_trace.n_samples
        self.saturation = layer_trace.saturation(threshold)
        self.dead = set(layer_trace.dead(threshold))
        grad_rows = layer_trace.grad_in
        self.grad_in = [sum(abs(row[j]) for row in grad_rows) / len(grad_rows) for j in range(self.n_neurons)]
        self.weights = [list(neuron.w) for neuron in layer.neurons]
        # hypot, not sqrt(sum of squares): weights of 1e200 have a norm that is a float, their squares are not
        self.in_norm = [math.hypot(*(w.data for w in ws)) for ws in self.weights]
        act_rows = layer_trace.act
        # a dead neuron whose output is ~0 on every sample (a dead relu) also starves the weights it feeds:
        # their gradient is its act times the gradient downstream
        self.silent = {j for j in self.dead if max(abs(row[j]) for row in act_rows) <= 1.0 - threshold}
        self.fan_in = len(self.weights[0])
        self.out_norm, self.frozen_out, self.n_next = None, None, 0
        self.frozen_in = [0] * self.n_neurons

    @property
    def linear(self):
        return self.activation == "linear"


def network_numbers(net, trace, threshold=0.99):
    """Return (inputs, layers): the input LayerNumbers-like summary and one LayerNumbers per layer.

    A weight from source k into neuron m is counted frozen when m is dead, or
    when k is a dead neuron whose output is ~0 on every sample. Raises like
    draw_network for a net and trace that do not match.
    """
    _check(net, trace)
    layers = [LayerNumbers(layer, lt, threshold) for layer, lt in zip(net.layers, trace.layers)]
    inputs = InputNumbers(layers[0].fan_in)
    sources = [inputs] + layers
    for source, target in zip(sources, layers):
        silent = getattr(source, "silent", set())
        fed = [[] for _ in range(source.n_neurons)]  # fed[k]: the weights from source k
        source.frozen_out = [0] * source.n_neurons
        for m, weights in enumerate(target.weights):
            for k, weight in enumerate(weights):
                fed[k].append(weight.data)
                if m in target.dead or k in silent:
                    target.frozen_in[m] += 1
                    source.frozen_out[k] += 1
        source.out_norm = [math.hypot(*weights) for weights in fed]
        source.n_next = target.n_neurons
    return inputs, layers


class InputNumbers:
    """The inputs as the map shows them: n_neurons of them, with the norms of the weights they feed."""

    name, activation, linear = "inputs", "input", True

    def __init__(self, n_inputs):
        self.n_neurons = n_inputs
        self.out_norm, self.frozen_out, self.n_next = None, None, 0


def title_lines(layers, n_samples, threshold, backward_ran):
    """Return the map's title: what was traced, and per non-linear layer its saturation and dead count."""
    summaries = [f"{numbers.name}: {100 * sum(numbers.saturation) / numbers.n_neurons:.0f}% saturated, "
                 f"{len(numbers.dead)} dead" for numbers in layers if not numbers.linear]
    lines = [f"{len(layers)} layers traced on {n_samples} sample{'' if n_samples == 1 else 's'} "
             f"(saturated: the trace's rule at threshold {threshold:g})", "; ".join(summaries)]
    if not backward_ran:
        lines.append("backward() has not run: every |g| (mean |grad_in|) is 0")
    return [line for line in lines if line]


def draw_network(net, trace, *, threshold=0.99, max_edges_per_neuron=STRONGEST_WEIGHTS, rankdir="LR",
                 format="svg", legend=True, cells=None):
    """Return a LaidOutDigraph of `net`'s neurons coloured by their saturation over `trace`.

    `trace` comes from ``with net.trace() as trace:`` around the forward (and
    backward) pass. `threshold` is the trace's saturation threshold. `cells`:
    True draws every layer as a compact grid with summary edges, False as a
    column of cells (a row with rankdir="TB") with the `max_edges_per_neuron`
    strongest weights into each neuron as edges, None picks True when the
    inputs or a layer are CELLS_FROM wide or wider. Raises TypeError when `net`
    is not an MLP and ValueError when `trace` does not match it, recorded
    nothing, or an option is bad.
    """
    if isinstance(max_edges_per_neuron, bool) or not isinstance(max_edges_per_neuron, int) or max_edges_per_neuron < 1:
        raise ValueError(f"max_edges_per_neuron must be a whole number >= 1, got {max_edges_per_neuron!r}")
    if cells not in (None, True, False):
        raise ValueError(f"cells must be None, True or False, got {cells!r}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    inputs, layers = network_numbers(net, trace, threshold)
    if cells is None:
        cells = max([inputs.n_neurons] + [numbers.n_neurons for numbers in layers]) >= CELLS_FROM
    backward_ran = any(g != 0.0 for numbers in layers for g in numbers.grad_in)
    title = title_lines(layers, trace.layers[0].n_samples, threshold, backward_ran)
    return draw(inputs, layers, title, size="compact" if cells else "full", rankdir=rankdir,
                max_edges_per_neuron=max_edges_per_neuron, format=format, legend=legend)
