"""What dead neurons' weights did: the analysis against hand-made runs whose answers are known, and numpy."""

import numpy as np
import pytest

from micrograd_it_app import study
from micrograd_it_app._after_death import after_death, relative_updates, seed_summary


def hand_made_run():
    # 3 neurons with 2 incoming weights each, 4 steps. Neuron 0: alive throughout, each step adds a tenth
    # of (3, 4) (|w| = 5 at the start); neuron 1: dead from step 1 on, its weights never move again;
    # neuron 2: dead on steps 0 and 1, alive again on step 2 (revived), moved by 0.5 then.
    run = study.ConfigRun("high_lr", "t", "scaled", 5.0, seed=3)
    w0 = [[3.0 + 0.3 * k, 4.0 + 0.4 * k] for k in range(5)]
    w1 = [[1.0, 0.0], [0.0, 2.0], [0.0, 2.0], [0.0, 2.0], [0.0, 2.0]]
    w2 = [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.5], [0.0, 1.5]]
    run.hidden_weights_over_steps = [[w0[k], w1[k], w2[k]] for k in range(5)]
    run.dead_neurons_over_steps = [[2], [1, 2], [1], [1]]
    run.dead_over_steps = [1, 2, 1, 1]
    run.final = {"dead": [1, 2], "n_neurons": 3}
    return run


def test_relative_updates_by_hand():
    updates = relative_updates(hand_made_run())
    assert len(updates) == 4 and all(len(row) == 3 for row in updates)
    assert [row[0] for row in updates] == pytest.approx([0.1, 0.5 / 5.5, 0.5 / 6.0, 0.5 / 6.5])
    assert [row[1] for row in updates] == pytest.approx([np.sqrt(5.0), 0.0, 0.0, 0.0])
    assert [row[2] for row in updates] == pytest.approx([0.0, 0.0, 0.5, 0.0])


def test_after_death_by_hand():
    numbers = after_death(hand_made_run())
    assert numbers["seed"] == 3 and (numbers["n_neurons"], numbers["n_steps"]) == (3, 4)
    assert numbers["first_dead"] == {2: 0, 1: 1}
    assert numbers["stayed_dead"] == [1] and numbers["stayed_dead_steps"] == {1: 3}
    assert numbers["revived"] == [2]
    assert numbers["dead_now"] == [1, 2] and numbers["dead_now_alive_last_step"] == [2]
    assert numbers["peak"] == 2
    # dead neuron-steps: (0,2) 0.0, (1,1) 0.0, (1,2) 0.0, (2,1) 0.0, (3,1) 0.0 -> median 0
    assert numbers["dead_step_update"] == 0.0
    # alive: neuron 0 on all 4 steps, neuron 1 on step 0 (sqrt 5), neuron 2 on steps 2 and 3 (0.5, 0.0)
    alive = sorted([0.1, 0.5 / 5.5, 0.5 / 6.0, 0.5 / 6.5, np.sqrt(5.0), 0.5, 0.0])
    assert numbers["live_step_update"] == pytest.approx(alive[3])
    # neuron 1 died at step 1 and its weights stayed (0, 2); the neurons alive on step 1 (only neuron 0)
    # moved from (3.3, 4.4) to (4.2, 5.6) by the end: |(0.9, 1.2)| / 5.5
    assert numbers["stayed_dead_change"] == 0.0
    assert numbers["alive_same_span"] == pytest.approx(1.5 / 5.5)


def test_seed_summary_counts_lists_and_takes_medians():
    analyses = [{"dead_now": [1, 2, 3], "x": 0.5}, {"dead_now": [], "x": None}, {"dead_now": [4], "x": 1.5}]
    assert seed_summary(analyses, "dead_now") == (1, 0, 3)
    assert seed_summary(analyses, "x") == (1.0, 0.5, 1.5)
    assert seed_summary([{"x": None}], "x") == (None, None, None)


def test_relative_updates_of_a_real_run_match_numpy():
    options = study.StudyOptions(steps=3, hidden=5, batch=4, emb_dim=2)
    X, Y, vocab_size = study.dataset(options)
    model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, 5, "scaled", seed=1)
    run = study.ConfigRun("high_lr", "t", "scaled", 5.0)
    study.train(model, X, Y, run, options, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    weights = np.array(run.hidden_weights_over_steps)  # steps + 1, neurons, inputs
    expected = np.linalg.norm(weights[1:] - weights[:-1], axis=2) / np.linalg.norm(weights[:-1], axis=2)
    np.testing.assert_allclose(relative_updates(run), expected, rtol=1e-12)
