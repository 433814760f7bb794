"""Loss functions on lists of Values; each returns one Value (the mean over samples) to call backward() on.

- mse(preds, targets):                 mean (pred - target)**2
- hinge(scores, labels):               mean relu(1 - label * score), labels in {-1, +1} (micrograd's demo)
- bce_with_logits(logits, targets):    mean softplus(z) - y z, targets in [0, 1]
- softmax_cross_entropy(logits, target): -log softmax(logits)[target], for one sample or a batch
"""

import numbers

from .engine import Value

__all__ = ["mse", "hinge", "bce_with_logits", "softmax_cross_entropy"]


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _as_value(item):
    return item if isinstance(item, Value) else Value(item)


def _as_list(items, what):
    """Return `items` as a list (a single Value or number x becomes [x]); raise TypeError for anything else."""
    if isinstance(items, Value) or (isinstance(items, numbers.Real) and not isinstance(items, bool)):
        return [items]
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{what} must be a list of Values or numbers, got {_describe(items)}")
    return list(items)


def _check_scalar(item, what, index):
    if isinstance(item, Value):
        return item
    if isinstance(item, bool) or not isinstance(item, numbers.Real):
        raise TypeError(f"{what}[{index}] must be a Value or a real number, got {_describe(item)}")
    return item


def _pairs(preds, targets, pred_name, target_name):
    """Check both lists (same non-zero length, scalar items) and return them as lists."""
    preds = _as_list(preds, pred_name)
    targets = _as_list(targets, target_name)
    if len(preds) != len(targets):
        raise ValueError(f"{pred_name} has {len(preds)} items but {target_name} has {len(targets)}")
    if not preds:
        raise ValueError(f"{pred_name} is empty: a loss needs at least one sample")
    preds = [_as_value(_check_scalar(item, pred_name, index)) for index, item in enumerate(preds)]
    for index, item in enumerate(targets):
        _check_scalar(item, target_name, index)
    return preds, targets


def _mean(terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total * (1.0 / len(terms))


def mse(preds, targets):
    """Return the Value mean((pred - target)**2); raises TypeError/ValueError naming a bad item or length."""
    preds, targets = _pairs(preds, targets, "preds", "targets")
    return _mean([(pred - target) ** 2 for pred, target in zip(preds, targets)])


def hinge(scores, labels):
    """Return the Value mean(relu(1 - label * score)); labels must be -1 or +1 (ValueError otherwise)."""
    scores, labels = _pairs(scores, labels, "scores", "labels")
    for index, label in enumerate(labels):
        if label not in (-1, 1):
            raise ValueError(f"hinge labels must be -1 or +1, got labels[{index}] = {label!r}")
    return _mean([(1 - label * score).relu() for score, label in zip(scores, labels)])


def bce_with_logits(logits, targets):
    """Return the Value mean(softplus(z) - y z) = mean binary cross-entropy of sigmoid(z) against y.

    Written with softplus, which is exact for any finite z, rather than
    log(sigmoid(z)), which underflows to log(0) for z below about -745.
    Targets must be numbers in [0, 1] (ValueError otherwise).
    """
    logits, targets = _pairs(logits, targets, "logits", "targets")
    for index, target in enumerate(targets):
        if isinstance(target, Value) or not 0.0 <= target <= 1.0:
            raise ValueError(f"bce_with_logits targets must be numbers in [0, 1], got targets[{index}] = {target!r}")
    # -[y log s + (1 - y) log(1 - s)] with s = sigmoid(z) simplifies to softplus(z) - y z
    return _mean([z.softplus() - target * z for z, target in zip(logits, targets)])


def _one_cross_entropy(logits, target, where):
    logits = _as_list(logits, f"logits{where}")
    if not logits:
        raise ValueError(f"logits{where} is empty")
    logits = [_as_value(_check_scalar(z, f"logits{where}", i)) for i, z in enumerate(logits)]
    if isinstance(target, bool) or not isinstance(target, numbers.Integral) or not 0 <= target < len(logits):
        raise ValueError(f"target{where} must be an int in [0, {len(logits)}), got {_describe(target)}")
    # log-sum-exp, stable: subtracting the largest logit m (a constant, so no gradient flows
    # through it) keeps every exp() in (0, 1]; the loss is unchanged and so is its gradient
    # softmax(logits) - onehot(target).
    m = max(z.data for z in logits)
    total = (logits[0] - m).exp()
    for z in logits[1:]:
        total = total + (z - m).exp()
    return total.log() + m - logits[target]


def softmax_cross_entropy(logits, target):
    """Return the Value -log softmax(logits)[target], stable for any finite logits (even +-1000).

    One sample: `logits` a list of Values/numbers and `target` an int index.
    A batch: `logits` a list of such lists and `target` a list of ints; the
    result is the mean over the batch. Raises TypeError/ValueError naming the
    bad logit, target or length.
    """
    if isinstance(logits, (list, tuple)) and logits and isinstance(logits[0], (list, tuple)):
        targets = _as_list(target, "targets")
        if len(targets) != len(logits):
            raise ValueError(f"the batch has {len(logits)} logit lists but {len(targets)} targets")
        return _mean([_one_cross_entropy(row, t, f"[{i}]") for i, (row, t) in enumerate(zip(logits, targets))])
    return _one_cross_entropy(logits, target, "")

