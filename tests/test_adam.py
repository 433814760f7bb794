"""Adam against torch.optim.Adam (skipped without torch), a closed form of its first step, its checks,
and its all-or-nothing step under real signals."""

import math
import random
import signal
import time

import pytest

from micrograd_it import Value
from micrograd_it.optim import Adam
from tests.interrupts import interrupt_after
from tests.test_optim import params_with_grads  # the same leaves with grads as the SGD tests




def test_the_first_step_moves_each_parameter_by_lr_against_the_sign_of_its_gradient():
    # Closed form: at t = 1, m / (1 - b1) = g and v / (1 - b2) = g^2, so the update is
    # lr * g / (|g| + eps): lr * sign(g) up to eps, whatever the betas.
    grads = [0.3, -2.0, 1e-3, 0.0]
    params = params_with_grads([1.0, 1.0, 1.0, 1.0], grads)
    Adam(params, lr=0.1, betas=(0.85, 0.99), eps=1e-8).step()
    for p, g in zip(params, grads):
        assert p.data == pytest.approx(1.0 - 0.1 * g / (abs(g) + 1e-8), rel=1e-12, abs=1e-15)


def test_adam_matches_torch_over_steps_with_a_changing_learning_rate():
    torch = pytest.importorskip("torch")
    rng = random.Random(1)
    data = [rng.uniform(-1, 1) for _ in range(6)]
    ours = [Value(x) for x in data]
    theirs = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    opt = Adam(ours, lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    reference = torch.optim.Adam([theirs], lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    for step in range(20):
        grads = [rng.gauss(0, 1) * 10 ** rng.uniform(-3, 1) for _ in data]
        lr = 0.01 * (1 - step / 20)  # the lesson's linear decay
        for p, g in zip(ours, grads):
            p.grad = g
        theirs.grad = torch.tensor(grads, dtype=torch.float64)
        opt.lr = lr
        for group in reference.param_groups:
            group["lr"] = lr
        opt.step()
        reference.step()
        # torch divides by sqrt(bias correction 2) after the root, we inside it: equal to rounding
        assert [p.data for p in ours] == pytest.approx(theirs.detach().tolist(), rel=1e-12, abs=1e-15)


def test_adam_works_on_another_value_class_with_data_and_grad():
    class Scalar:  # a microgpt-style parameter: Adam reads and writes only data and grad
        def __init__(self, data):
            self.data, self.grad = data, 0

    other, ours = [Scalar(0.5), Scalar(-1.5)], params_with_grads([0.5, -1.5], [0.25, -4.0])
    other[0].grad, other[1].grad = 0.25, -4.0
    for params in (other, ours):
        opt = Adam(params, lr=0.05)
        opt.step()
        opt.step()
    assert [p.data for p in other] == [p.data for p in ours]


@pytest.mark.parametrize("kwargs, error, word", [
    ({"lr": 0.0}, ValueError, "lr"), ({"lr": "0.1"}, TypeError, "lr"), ({"eps": -1.0}, ValueError, "eps"),
    ({"betas": (0.9, 1.0)}, ValueError, "beta2"), ({"betas": (-0.1, 0.9)}, ValueError, "beta1"),
    ({"betas": 0.9}, TypeError, "betas"), ({"lr": float("nan")}, ValueError, "lr"),
])
def test_bad_settings_are_refused_naming_them(kwargs, error, word):
    with pytest.raises(error, match=word):
        Adam([Value(1.0)], **kwargs)


def test_bad_parameters_are_refused_naming_them():
    with pytest.raises(TypeError, match="'params.1'"):
        Adam([Value(1.0), 2.0])
    with pytest.raises(ValueError, match="no parameters"):
        Adam([])


def test_a_step_that_would_overflow_changes_nothing():
    params = params_with_grads([1.0, 2.0, 1e308], [0.5, 0.5, -1e300])
    opt = Adam(params, lr=1e300)
    with pytest.raises(OverflowError, match="'params.2'"):
        opt.step()
    assert [p.data for p in params] == [1.0, 2.0, 1e308]
    assert opt.m == [0.0] * 3 and opt.v == [0.0] * 3 and opt.steps == 0


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")
def test_a_real_signal_during_step_applies_all_or_nothing():
    rng = random.Random(0)
    params = params_with_grads([rng.uniform(-1, 1) for _ in range(30_000)], [rng.uniform(-1, 1) for _ in range(30_000)])
    opt = Adam(params, lr=0.01)
    start = time.perf_counter()
    opt.step()
    duration = time.perf_counter() - start  # spreads the delays; nothing timed is asserted
    for trial in range(20):
        before = ([p.data for p in params], opt.m, opt.v, opt.steps)
        interrupt_after(rng.uniform(1e-6, 1.2 * duration), opt.step)
        after = ([p.data for p in params], opt.m, opt.v, opt.steps)
        if after != before:  # then the whole step: one more step, every parameter moved by its own rule
            assert after[3] == before[3] + 1, f"trial {trial}: half a step"
            t = after[3]
            for new, old, m, v in zip(after[0], before[0], after[1], after[2]):
                assert new == old - 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8), trial
