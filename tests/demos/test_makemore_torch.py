"""demos/makemore_torch.py on a short run: its figures are written, and its printed numbers are the run's,
recomputed here with plain torch from the same seed (no tracing)."""

import importlib
import os
import re

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the makemore_torch demo needs it")
pytest.importorskip("matplotlib")
F = torch.nn.functional

demo = importlib.import_module("micrograd_it_demos.makemore_torch")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("makemore_torch")
    import io
    from contextlib import redirect_stdout

    printed = io.StringIO()
    with redirect_stdout(printed):
        result = demo.main(str(out_dir), steps=20, seed=3)
    return out_dir, result, printed.getvalue()


def test_every_figure_is_written_and_named_in_the_output(run):
    out_dir, result, printed = run
    paths = list(result["figures"].values()) + [path for one in result["runs"] for path in one["figures"].values()]
    assert sorted(os.path.basename(path) for path in paths) == sorted(os.listdir(out_dir))
    assert len(paths) == 15
    for path in paths:
        assert open(path, "rb").read(8).startswith(b"\x89PNG") and f"wrote {path}" in printed


def test_the_printed_numbers_at_init_are_the_seeds_formulas_recomputed(run):
    _, result, printed = run
    from micrograd_it.makemore import char_dataset

    contexts, targets, _ = char_dataset(block_size=3)
    X, Y = torch.tensor(contexts), torch.tensor(targets)
    batch = torch.randint(0, X.shape[0], (32,), generator=torch.Generator().manual_seed(3))
    for run_numbers, init in zip(result["runs"][:2], ["bad", "fixed"]):
        C, W1, b1, W2, b2 = [p.detach() for p in demo.init_params(init, 3)]
        preact = C[X[batch]].view(-1, 30) @ W1 + b1
        h = torch.tanh(preact)
        saturated = 100 * (h.abs() > 0.99).double().mean().item()  # the seed's boolean_tensor
        loss = F.cross_entropy(h @ W2 + b2, Y[batch]).item()
        assert run_numbers["init"]["saturated_pct"] == pytest.approx(saturated, abs=1e-9)
        assert run_numbers["loss_init"] == pytest.approx(loss, rel=1e-6)
        line = f"{saturated:.1f}% of h saturated"
        assert f"{run_numbers['title']} (lr" in printed and line in printed
        assert f"pre-activations in [{preact.min().item():.1f}, {preact.max().item():.1f}]" in printed


def test_training_really_ran_and_the_high_learning_rate_kills_neurons(run):
    _, result, printed = run
    bad, fixed, high = result["runs"]
    assert [one["steps"] for one in result["runs"]] == [20, 20, 2]
    assert len(fixed["losses"]) == 20 and fixed["losses"][-1] < fixed["losses"][0]
    assert fixed["recorder"]["tanh"].step_ranges[-1] == (19, 19)
    assert high["final"]["saturated_pct"] > fixed["final"]["saturated_pct"]
    numbers = re.findall(r"took (\d+\.\d) s", printed)
    assert numbers and float(numbers[0]) == pytest.approx(result["seconds"], abs=0.05)
