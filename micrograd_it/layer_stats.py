"""The numbers the training recorder keeps of one traced layer, computed from our LayerTrace's lists.

A torch layer trace computes the same numbers with tensors (its `step_stats`);
`layer_stats` uses that when it is there. Standard library only.
"""

import bisect

__all__ = ["layer_stats", "histogram", "linear_edges"]


def linear_edges(low, high, count):
    """`count` + 1 evenly spaced bin edges from low to high (both included)."""
    return [low + (high - low) * i / count for i in range(count)] + [float(high)]


def histogram(values, edges):
    """Return (below, count of each bin ..., above): the bins of numpy.histogram with these edges
    (each [e_i, e_i+1), the last one closed), and how many values fell outside them."""
    counts = [0] * (len(edges) + 1)  # counts[0]: below, counts[-1]: above
    last = edges[-1]
    for value in values:
        index = bisect.bisect_right(edges, value)  # edges[index - 1] <= value < edges[index]
        if value == last:
            index -= 1
        counts[index] += 1
    return tuple(counts)


def _moments(values):
    """(count, mean, sum of squared deviations from the mean), two-pass for accuracy."""
    if not values:
        return (0, 0.0, 0.0)
    mean = sum(values) / len(values)
    return (len(values), mean, sum((value - mean) ** 2 for value in values))


def layer_stats(layer, threshold, act_edges, grad_edges):
    """Return the statistics of one traced layer as a dict (see StatsRecorder) -- our LayerTrace or a torch one.

    act=(n, mean, M2), saturated (count), cells, dead, n_neurons, act_hist=(below, bins..., above),
    grad=(n, mean, M2) or None, grad_hist=(zeros, below, bins of |grad_in|..., above) or None.
    """
    if hasattr(layer, "step_stats"):  # a torch layer: the same numbers, computed with tensors
        return layer.step_stats(threshold, act_edges, grad_edges)
    acts = [value for row in layer.act for value in row]
    flags = layer.saturated(threshold)
    dead = sum(1 for column in zip(*flags) if all(column)) if flags else 0
    grads = [value for row in layer.grad_in for value in row]
    magnitudes = [abs(value) for value in grads if value != 0.0]
    return dict(act=_moments(acts), saturated=sum(sum(row) for row in flags), cells=len(acts), dead=dead,
                n_neurons=layer.n_neurons, act_hist=histogram(acts, act_edges),
                grad=_moments(grads), grad_hist=(len(grads) - len(magnitudes),) + histogram(magnitudes, grad_edges))
