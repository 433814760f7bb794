"""Losses against their closed forms and closed-form gradients; softmax cross-entropy stable at +-1000."""

import math

import numpy as np
import pytest

from micrograd_it import Value, gradcheck
from micrograd_it.losses import bce_with_logits, hinge, mse, softmax_cross_entropy


def values(numbers):
    return [Value(x) for x in numbers]


def test_mse_value_and_gradient():
    preds, targets = values([0.5, -1.0, 2.0]), [1.0, 0.0, 2.5]
    loss = mse(preds, targets)
    loss.backward()
    # closed form: mean (p - t)^2 and d/dp = 2 (p - t) / n
    assert loss.data == pytest.approx(np.mean((np.array([0.5, -1.0, 2.0]) - targets) ** 2))
    assert [p.grad for p in preds] == pytest.approx([2 * (p - t) / 3 for p, t in zip([0.5, -1.0, 2.0], targets)])


def test_mse_accepts_a_single_value_and_number_predictions():
    assert mse(Value(3.0), 1.0).data == 4.0
    assert isinstance(mse([1.0, 2.0], [0.0, 0.0]), Value)


def test_hinge_value_and_gradient():
    scores, labels = values([2.0, 0.5, -0.3, -2.0]), [1, 1, 1, -1]
    loss = hinge(scores, labels)
    loss.backward()
    # max(0, 1 - y s): 0, 0.5, 1.3, 0 -> mean 0.45; gradient -y/n where the margin is violated
    assert loss.data == pytest.approx(0.45)
    assert [s.grad for s in scores] == pytest.approx([0.0, -0.25, -0.25, 0.0])


def test_bce_with_logits_matches_the_textbook_formula():
    logits, targets = [0.3, -1.2, 2.5], [1.0, 0.0, 0.3]
    zs = values(logits)
    loss = bce_with_logits(zs, targets)
    loss.backward()
    sig = [1 / (1 + math.exp(-z)) for z in logits]
    textbook = -np.mean([y * math.log(s) + (1 - y) * math.log(1 - s) for s, y in zip(sig, targets)])
    assert loss.data == pytest.approx(textbook, rel=1e-12)
    # d/dz = (sigmoid(z) - y) / n
    assert [z.grad for z in zs] == pytest.approx([(s - y) / 3 for s, y in zip(sig, targets)], rel=1e-12)


def test_bce_with_logits_is_finite_for_huge_logits():
    zs = values([1000.0, -1000.0])
    loss = bce_with_logits(zs, [0.0, 1.0])
    loss.backward()
    # both samples are wrong by 1000 nats; sigmoid(+-1000) is exactly 1 / 0 in floats
    assert loss.data == pytest.approx(1000.0)
    assert [z.grad for z in zs] == [0.5, -0.5]


def softmax_minus_onehot(logits, target):
    """Independent reference: numpy softmax in float64 via scipy-style shift, minus the one-hot vector."""
    z = np.array(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    p = e / e.sum()
    onehot = np.zeros_like(p)
    onehot[target] = 1.0
    return -np.log(p[target]) if p[target] > 0 else z.max() - z[target], p - onehot


@pytest.mark.parametrize(
    "logits, target",
    [([1.0, 2.0, 0.5], 0), ([0.0, 0.0], 1), ([3.0, -1.0, 0.2, 0.7], 2), ([1000.0, -1000.0, 0.0], 0),
     ([1000.0, -1000.0, 0.0], 1), ([-1000.0, -1000.0, -999.0], 2)],
)
def test_softmax_cross_entropy_value_and_gradient(logits, target):
    zs = values(logits)
    loss = softmax_cross_entropy(zs, target)
    loss.backward()
    expected_loss, expected_grad = softmax_minus_onehot(logits, target)
    assert math.isfinite(loss.data)
    assert loss.data == pytest.approx(expected_loss, rel=1e-12, abs=1e-12)
    assert [z.grad for z in zs] == pytest.approx(list(expected_grad), abs=1e-12)


def test_softmax_cross_entropy_huge_logits_by_hand():
    # logits (1000, -1000), target 1: the loss is log(e^1000 + e^-1000) + 1000 = 2000 (e^-2000 vanishes)
    zs = values([1000.0, -1000.0])
    loss = softmax_cross_entropy(zs, 1)
    loss.backward()
    assert loss.data == 2000.0
    assert [z.grad for z in zs] == [1.0, -1.0]


def test_softmax_cross_entropy_batch_is_the_mean_and_gradchecks():
    rows, targets = [[0.2, -0.4, 1.0], [1.5, 0.1, -0.3]], [2, 0]
    batch = softmax_cross_entropy([values(r) for r in rows], targets).data
    singles = [softmax_cross_entropy(values(r), t).data for r, t in zip(rows, targets)]
    assert batch == pytest.approx(sum(singles) / 2, rel=1e-12)
    leaves = values([0.2, -0.4, 1.0, 1.5, 0.1, -0.3])
    assert gradcheck(lambda *z: softmax_cross_entropy([list(z[:3]), list(z[3:])], targets), leaves)


@pytest.mark.parametrize(
    "call, error, culprit",
    [
        (lambda: mse([Value(1.0)], [1.0, 2.0]), ValueError, "1 items"),
        (lambda: mse([], []), ValueError, "empty"),
        (lambda: mse([Value(1.0), "x"], [1.0, 2.0]), TypeError, "preds[1]"),
        (lambda: mse([Value(1.0)], [None]), TypeError, "targets[0]"),
        (lambda: mse("abc", [1.0]), TypeError, "'abc'"),
        (lambda: hinge([Value(1.0), Value(2.0)], [1, 0]), ValueError, "labels[1] = 0"),
        (lambda: bce_with_logits([Value(1.0)], [2.0]), ValueError, "targets[0] = 2.0"),
        (lambda: softmax_cross_entropy([Value(1.0), Value(2.0)], 2), ValueError, "got 2 (int)"),
        (lambda: softmax_cross_entropy([Value(1.0), "z"], 0), TypeError, "logits[1]"),
        (lambda: softmax_cross_entropy([], 0), ValueError, "empty"),
        (lambda: softmax_cross_entropy([[1.0, 2.0], [3.0, 4.0]], [0]), ValueError, "2 logit lists but 1 targets"),
        (lambda: softmax_cross_entropy([[1.0, 2.0], [3.0, "q"]], [0, 1]), TypeError, "logits[1][1]"),
    ],
)
def test_bad_inputs_raise_naming_the_culprit(call, error, culprit):
    with pytest.raises(error) as info:
        call()
    assert culprit in str(info.value)
