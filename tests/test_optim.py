"""SGD against the update rule written out by hand; the update:data ratio against numpy."""

import math
import random
import signal
import time

import numpy as np
import pytest

from micrograd_it import Value
from micrograd_it.nn import MLP
from micrograd_it.optim import SGD, group_name
from tests.interrupts import interrupt_after


def params_with_grads(data, grads):
    params = [Value(x) for x in data]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_plain_step_is_data_minus_lr_grad():
    params = params_with_grads([1.0, -2.0, 0.5], [0.1, -0.3, 2.0])
    SGD(params, lr=0.5).step()
    assert [p.data for p in params] == [1.0 - 0.05, -2.0 + 0.15, 0.5 - 1.0]


def test_momentum_and_weight_decay_follow_the_pytorch_recurrence():
    params = params_with_grads([1.0, -2.0], [0.2, 0.4])
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01)
    data, velocity = [1.0, -2.0], [0.0, 0.0]
    for step in range(3):
        grads = [0.2 * (step + 1), 0.4 - step]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for i in range(2):
            g = grads[i] + 0.01 * data[i]
            velocity[i] = 0.9 * velocity[i] + g
            data[i] = data[i] - 0.1 * velocity[i]
        assert [p.data for p in params] == pytest.approx(data, rel=1e-15)


def test_zero_grad_and_step_build_no_graph():
    net = MLP(2, [3, 1], seed=0)
    opt = SGD(net, lr=0.1)
    net([1.0, 2.0]).backward()
    opt.step()
    assert all(p.is_leaf for p in net.parameters())
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())


@pytest.mark.parametrize(
    "name, group",
    [("layers.0.neurons.3.w.1", "layers.0.w"), ("layers.12.neurons.0.b", "layers.12.b"), ("C.5.2", "C"),
     ("emb.C.0.1", "emb.C"), ("mlp.layers.1.neurons.2.w.0", "mlp.layers.1.w"), ("params.7", "params"), ("b", "b")],
)
def test_group_names(name, group):
    assert group_name(name) == group


def test_ratio_history_is_log10_std_update_over_std_data_per_group():
    net = MLP(2, [4, 3, 1], init="scaled", seed=0)
    opt = SGD(net, lr=0.05)
    before = {name: p.data for name, p in net.named_parameters()}
    net([0.5, -1.0]).backward()
    opt.step()
    ratios = opt.ratio_history[-1]
    assert sorted(ratios) == sorted(f"layers.{i}.{kind}" for i in range(3) for kind in "wb")
    for group, ratio in ratios.items():
        members = [(name, p) for name, p in net.named_parameters() if group_name(name) == group]
        updates = np.array([p.data - before[name] for name, p in members])
        data = np.array([p.data for _, p in members])
        if len(members) == 1:
            assert ratio is None  # the std of one number is 0: the ratio is undefined
        elif updates.std() == 0:
            assert ratio is None
        else:
            assert ratio == pytest.approx(math.log10(updates.std() / data.std()), rel=1e-9)


def test_named_param_list_and_one_entry_per_step():
    a, b = Value(1.0), Value(3.0)
    a.grad, b.grad = 1.0, -1.0
    opt = SGD([("x.0", a), ("x.1", b)], lr=0.1)
    opt.step()
    opt.step()
    assert len(opt.ratio_history) == 2
    # updates (-0.1, +0.1) have std 0.1; after two steps data (0.8, 3.2) has std 1.2
    assert opt.ratio_history[-1]["x"] == pytest.approx(math.log10(0.1 / 1.2))


def test_a_step_that_would_overflow_raises_and_changes_nothing():
    params = params_with_grads([1.0, 2.0], [1.0, 1e308])
    opt = SGD(params, lr=1e10)
    with pytest.raises(OverflowError, match="params.1"):
        opt.step()
    assert [p.data for p in params] == [1.0, 2.0] and opt.ratio_history == []


@pytest.mark.parametrize(
    "make, error, culprit",
    [
        (lambda: SGD([Value(1.0)], lr=0), ValueError, "lr"),
        (lambda: SGD([Value(1.0)], lr=float("nan")), ValueError, "nan"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-1), ValueError, "momentum"),
        (lambda: SGD([Value(1.0)], lr="0.1"), TypeError, "lr"),
        (lambda: SGD([Value(1.0)], lr=None), TypeError, "None"),
        (lambda: SGD([Value(1.0)], lr=True), TypeError, "True"),
        (lambda: SGD([Value(1.0)], lr=10**400), ValueError, "lr"),
        (lambda: SGD([Value(1.0)], lr=0.1, weight_decay=float("inf")), ValueError, "weight_decay"),
        (lambda: SGD([Value(1.0), 2.0], lr=0.1), TypeError, "params.1"),
        (lambda: SGD([], lr=0.1), ValueError, "no parameters"),
        (lambda: SGD(5, lr=0.1), TypeError, "5"),
    ],
)
def test_bad_arguments_raise_naming_the_culprit(make, error, culprit):
    with pytest.raises(error) as info:
        make()
    assert culprit in str(info.value)


def test_a_huge_step_is_applied_whole_with_a_finite_ratio():
    # lr 1e300 on grads +-1: updates (-1e300, +1e300) and new data (-1e300, +1e300) have the same
    # std, 1e300, so the ratio is log10(1) = 0 -- computed without squaring 1e300 (which overflows).
    params = params_with_grads([1.0, 1.0], [1.0, -1.0])
    opt = SGD(params, lr=1e300, momentum=0.9)
    opt.step()
    assert [p.data for p in params] == [-1e300, 1e300]
    assert opt.velocity == [1.0, -1.0]
    assert opt.ratio_history == [{"params": 0.0}]


def test_a_refused_step_with_momentum_changes_nothing_and_names_the_parameter():
    params = params_with_grads([1.0, 1.0, 3.0], [1.0, -1.0, 0.5])
    opt = SGD([("a.0", params[0]), ("a.1", params[1]), ("b", params[2])], lr=1e300, momentum=0.9)
    opt.step()
    snapshot = ([p.data for p in params], list(opt.velocity), [dict(r) for r in opt.ratio_history])
    params[1].grad = -1e10  # velocity 0.9 * -1 - 1e10: lr * velocity is past the largest float
    with pytest.raises(OverflowError, match="'a.1'"):
        opt.step()
    assert ([p.data for p in params], opt.velocity, opt.ratio_history) == snapshot


@pytest.mark.parametrize("knob", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("bad, error", [
    (-0.5, ValueError), (float("nan"), ValueError), (float("inf"), ValueError), ("0.1", TypeError),
    (None, TypeError), (True, TypeError), ([0.1], TypeError),
])
def test_knobs_are_checked_when_assigned_later(knob, bad, error):
    opt = SGD([Value(1.0)], lr=0.1, momentum=0.5, weight_decay=0.01)
    before = getattr(opt, knob)
    with pytest.raises(error) as info:
        setattr(opt, knob, bad)
    assert knob in str(info.value) and repr(bad) in str(info.value)
    assert getattr(opt, knob) == before


def test_knobs_accept_good_values_later_and_use_them():
    params = params_with_grads([1.0], [2.0])
    opt = SGD(params, lr=0.1)
    opt.lr = 0.25
    opt.momentum = 0
    opt.weight_decay = 0.5
    opt.step()
    assert params[0].data == 1.0 - 0.25 * (2.0 + 0.5 * 1.0)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = 0.0


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_a_real_signal_during_step_applies_all_or_nothing():
    rng = random.Random(0)
    params = params_with_grads([rng.uniform(-1, 1) for _ in range(30_000)], [rng.uniform(-1, 1) for _ in range(30_000)])
    opt = SGD(params, lr=0.01, momentum=0.9)
    start = time.perf_counter()
    opt.step()
    duration = time.perf_counter() - start  # spreads the delays; nothing timed is asserted
    outcomes = {"before": 0, "after": 0}
    for trial in range(30):
        before = ([p.data for p in params], opt.velocity, len(opt.ratio_history))
        interrupt_after(rng.uniform(1e-6, 1.2 * duration), opt.step)
        after = ([p.data for p in params], opt.velocity, len(opt.ratio_history))
        if after == before:
            outcomes["before"] += 1
        else:
            # the whole step: every parameter moved by -lr * its new velocity, one more history entry
            assert after[2] == before[2] + 1, f"trial {trial}: half a step"
            assert all(new == old - 0.01 * v for new, old, v in zip(after[0], before[0], after[1])), trial
            outcomes["after"] += 1
    print(f"\nSGD step interrupted: {outcomes}")
