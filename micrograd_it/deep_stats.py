"""The numbers of the lecture's deep-net diagnostics, from plain lists of floats (either engine's).

The makemore lecture (part 3, *Activations & gradients*) looks at a deep tanh
MLP four ways; each is a dict of numbers here, made from floats, so that our
engine and PyTorch give the same kind of record and a figure only draws it:

- `activation_record`: one tanh layer's outputs ``t``: mean, std, % with ``|t| > 0.97``,
  a density histogram, and the line the lecture prints
  (``layer 1 (      Tanh): mean -0.02, std 0.75, saturated: 20.25%``);
- `gradient_record`: the gradient arriving at those outputs (``t.grad``): mean, std,
  histogram, line (``layer 1 (      Tanh): mean +0.000000, std 3.682960e-03``);
- `weight_record`: a 2-D weight's gradient: mean, std, std(grad) / std(data), histogram,
  line (``weight   (27, 10) | mean +0.000000 | std 1.8e-03 | grad:data ratio 1.8e-03``);
- `update_ratio`: log10(std(lr * grad) / std(data)) of one weight after a step (the
  lecture's ``ud``; about -3 is the rule of thumb).

Stds are the sample std (n - 1), as torch's ``t.std()`` in the lecture.
"""

import math

__all__ = ["SATURATION", "mean_std", "histogram", "activation_record", "gradient_record", "weight_record",
           "update_ratio", "bins_for", "activation_line", "gradient_line", "weight_line"]

SATURATION = 0.97  # the lecture's |t| > 0.97 in its printed line (the engine's traces default to 0.99)
BINS = 50


def bins_for(n):
    """Histogram bins for n values: 50 (the lecture's figures hold 3,200 per layer), 25 below 2,000
    values (a smaller net's histogram would be mostly noise at 50)."""
    return BINS if n >= 2000 else BINS // 2


def mean_std(values):
    """Return (mean, sample std with n - 1) of a non-empty list of floats; std is 0.0 for one value."""
    values = list(values)
    if not values:
        raise ValueError("mean_std needs at least one value")
    mean = math.fsum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    return mean, math.sqrt(math.fsum((x - mean) ** 2 for x in values) / (len(values) - 1))


def histogram(values, bins=BINS, low=None, high=None):
    """Return {"edges": bins + 1 floats, "density": bins floats} as torch.histogram(density=True) computes it.

    The range is [low, high] (default: min and max of the values); a value on the right
    edge falls in the last bin; values outside the range are not counted. Density =
    count / (counted values * bin width), so the bars' area is 1.
    """
    values = list(values)
    low = min(values) if low is None else low
    high = max(values) if high is None else high
    if high <= low:  # all values equal: one bin of width 1 around them
        low, high = low - 0.5, high + 0.5
    width = (high - low) / bins
    counts = [0] * bins
    for x in values:
        if low <= x <= high:
            counts[min(int((x - low) / width), bins - 1)] += 1
    total = sum(counts)
    return {"edges": [low + i * width for i in range(bins)] + [high],
            "counts": counts,
            "density": [count / (total * width) if total else 0.0 for count in counts]}


def activation_line(index, name, mean, std, saturated_pct):
    """The lecture's forward line: ``layer 1 (      Tanh): mean -0.02, std 0.75, saturated: 20.25%``."""
    return f"layer {index} ({name:>10}): mean {mean:+.2f}, std {std:.2f}, saturated: {saturated_pct:.2f}%"


def gradient_line(index, name, mean, std):
    """The lecture's backward line: ``layer 1 (      Tanh): mean +0.000000, std 3.682960e-03``."""
    return f"layer {index} ({name:>10}): mean {mean:+f}, std {std:e}"


def weight_line(shape, mean, std, ratio):
    """The lecture's weight line: ``weight   (27, 10) | mean +0.000000 | std 1.8e-03 | grad:data ratio ...``."""
    return f"weight {str(tuple(shape)):>10} | mean {mean:+f} | std {std:e} | grad:data ratio {ratio:e}"


def activation_record(index, name, acts, threshold=SATURATION, bins=None):
    """Return the record of one tanh layer's outputs `acts` (a flat list): index, name, mean, std,
    saturated_pct (|t| > threshold), n, hist (on [-1, 1]) and line."""
    acts = list(acts)
    bins = bins_for(len(acts)) if bins is None else bins
    mean, std = mean_std(acts)
    saturated_pct = 100.0 * sum(1 for t in acts if abs(t) > threshold) / len(acts)
    return {"index": index, "name": name, "n": len(acts), "mean": mean, "std": std, "threshold": threshold,
            "saturated_pct": saturated_pct, "hist": histogram(acts, bins, -1.0, 1.0),
            "line": activation_line(index, name, mean, std, saturated_pct)}


def _symmetric_hist(values, bins):
    # an odd number of bins puts 0 in the middle of one, not on an edge where rounding picks a side
    bins = bins if bins % 2 else bins + 1
    reach = max(abs(x) for x in values)
    return histogram(values, bins, -reach, reach) if reach > 0 else histogram(values, bins)


def gradient_record(index, name, grads, bins=None):
    """Return the record of the gradient at one layer's outputs `grads` (a flat list): index, name,
    mean, std, n, hist (symmetric around 0, an odd number of bins) and line."""
    grads = list(grads)
    bins = bins_for(len(grads)) if bins is None else bins
    mean, std = mean_std(grads)
    return {"index": index, "name": name, "n": len(grads), "mean": mean, "std": std,
            "hist": _symmetric_hist(grads, bins), "line": gradient_line(index, name, mean, std)}


def weight_record(name, shape, data, grad, bins=None):
    """Return the record of one weight's gradient: name, shape, mean, std (of the grad), data_std,
    ratio = std(grad) / std(data) (None when std(data) is 0), hist of the grad and line."""
    _, data_std = mean_std(data)
    grad = list(grad)
    bins = bins_for(len(grad)) if bins is None else bins
    mean, std = mean_std(grad)
    ratio = std / data_std if data_std > 0 else None
    return {"name": name, "shape": list(shape), "mean": mean, "std": std, "data_std": data_std, "ratio": ratio,
            "hist": _symmetric_hist(grad, bins),
            "line": weight_line(shape, mean, std, float("nan") if ratio is None else ratio)}


def update_ratio(lr, data, grad):
    """Return log10(std(lr * grad) / std(data)), or None when either std is 0 (the log is undefined)."""
    _, grad_std = mean_std(grad)
    _, data_std = mean_std(data)
    if grad_std == 0 or data_std == 0:
        return None
    return math.log10(abs(lr) * grad_std / data_std)
