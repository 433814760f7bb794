"""demos/dead_relu.py: which dead ReLU neurons can come back, and the numbers its docstring and docs/study.md state."""

import pytest

from demos.dead_relu import revived, train
from micrograd_it.data import make_moons


@pytest.mark.parametrize("seed", [0, 1])
def test_a_dead_first_layer_neuron_never_comes_back(seed):
    # Full batch, plain SGD, fixed data: a first-layer neuron dead on every point gets gradient exactly 0,
    # so its weights and hence its pre-activations stay as they are: its dead set can only grow.
    X, y = make_moons(n=100, noise=0.1, seed=seed)
    _, _, dead_sets = train(3.0, X, y, 30, seed)
    first = [dead[0] for dead in dead_sets]
    assert all(earlier <= later for earlier, later in zip(first, first[1:]))
    assert revived(dead_sets, 0) == []


def test_at_lr_3_the_count_rises_to_20_and_falls_back_to_17_by_second_layer_revivals():
    # the numbers the demo's docstring and docs/study.md state (seed 0, 30 steps)
    X, y = make_moons(n=100, noise=0.1, seed=0)
    _, dead_counts, dead_sets = train(3.0, X, y, 30, 0)
    assert (max(dead_counts), dead_counts[-1]) == (20, 17)
    assert revived(dead_sets, 1)  # the ones that came back are all in the second layer
    assert revived(dead_sets, 0) == []


def test_revived_lists_neurons_dead_then_alive_later():
    steps = [[{1}, set()], [{1, 2}, {0}], [{2}, set()]]
    assert revived(steps, 0) == [1]
    assert revived(steps, 1) == [0]
