"""The lecture's deep net (micrograd_it.deep, deep_stats, torch_deep): its inits, the printed lines against
the lecture's own %-format applied independently, and the engine's net against the same net in torch."""

import math
import random
import statistics

import pytest

from micrograd_it.batchnorm import BatchNorm1d, Linear, Tanh
from micrograd_it.deep import DeepMLP, diagnose
from micrograd_it.deep_stats import activation_record, gradient_record, histogram, update_ratio, weight_record


def _std(values):
    return statistics.pstdev(values)


@pytest.mark.parametrize("gain", [0.5, 5 / 3, 3.0])
def test_hidden_weights_are_scaled_by_gain_over_sqrt_fan_in(gain):
    net = DeepMLP(gain=gain, hidden=60, depth=3, seed=1)
    linears = [layer for layer in net.layers if isinstance(layer, Linear)]
    for linear in linears[:-1]:
        weights = [w.data for row in linear.w for w in row]
        # a sample std of n >= 1800 normal draws is within 3 / sqrt(2n) < 5% of the true one, almost surely
        assert _std(weights) == pytest.approx(gain / math.sqrt(linear.nin), rel=0.05)
        assert all(b.data == 0.0 for b in linear.b)
    last = [w.data for row in linears[-1].w for w in row]
    assert _std(last) == pytest.approx(0.1 / math.sqrt(60), rel=0.05)  # less confident, and no gain (lecture)
    assert [type(layer).__name__ for layer in net.layers] == ["Linear", "Tanh"] * 3 + ["Linear"]


def test_with_batchnorm_no_bias_and_the_last_gamma_is_a_tenth():
    net = DeepMLP(gain=5 / 3, batchnorm=True, hidden=60, depth=2, seed=2)
    assert [type(layer).__name__ for layer in net.layers] == ["Linear", "BatchNorm1d", "Tanh"] * 2 + [
        "Linear", "BatchNorm1d"]
    linears = [layer for layer in net.layers if isinstance(layer, Linear)]
    assert all(linear.b is None for linear in linears)
    # with BatchNorm the lecture's loop over layers[:-1] scales the last Linear by the gain as well
    last = [w.data for row in linears[-1].w for w in row]
    assert _std(last) == pytest.approx((5 / 3) / math.sqrt(60), rel=0.05)
    assert [g.data for g in net.layers[-1].gamma] == [0.1] * 27
    for bn in net.layers[1:-1]:
        if isinstance(bn, BatchNorm1d):
            assert [g.data for g in bn.gamma] == [1.0] * 60


def test_same_seed_same_net_and_bad_gain_refused():
    one, two = DeepMLP(hidden=8, depth=2, seed=3), DeepMLP(hidden=8, depth=2, seed=3)
    assert [p.data for p in one.parameters()] == [p.data for p in two.parameters()]
    with pytest.raises(ValueError, match="gain must be a finite number > 0, got -1"):
        DeepMLP(gain=-1)


def test_activation_line_is_the_lecture_format_computed_independently():
    rng = random.Random(4)
    acts = [math.tanh(rng.gauss(0.0, 1.6)) for _ in range(3200)]
    record = activation_record(3, "Tanh", acts)
    # the lecture's own format string, with statistics' sample std and a count written differently
    saturated = len([t for t in acts if t > 0.97 or t < -0.97]) / len(acts) * 100
    expected = "layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%" % (
        3, "Tanh", statistics.fmean(acts), statistics.stdev(acts), saturated)
    assert record["line"] == expected
    assert record["line"].startswith("layer 3 (      Tanh): mean ")
    grads = [rng.gauss(0.0, 1e-3) for _ in range(500)]
    assert gradient_record(1, "Tanh", grads)["line"] == "layer %d (%10s): mean %+f, std %e" % (
        1, "Tanh", statistics.fmean(grads), statistics.stdev(grads))
    data, grad = [rng.gauss(0, 0.3) for _ in range(300)], [rng.gauss(0, 1e-3) for _ in range(300)]
    ratio = statistics.stdev(grad) / statistics.stdev(data)
    assert weight_record("W1", (30, 10), data, grad)["line"] == (
        "weight %10s | mean %+f | std %e | grad:data ratio %e" % ((30, 10), statistics.fmean(grad),
                                                                   statistics.stdev(grad), ratio))
    assert update_ratio(0.1, data, grad) == pytest.approx(math.log10(0.1 * ratio), rel=1e-12)


def test_histogram_matches_numpy_density():
    np = pytest.importorskip("numpy")
    rng = random.Random(5)
    values = [rng.gauss(0, 1) for _ in range(1000)]
    hist = histogram(values, 40)
    density, edges = np.histogram(values, bins=40, density=True)
    assert hist["density"] == pytest.approx(density.tolist(), rel=1e-9)
    assert hist["edges"] == pytest.approx(edges.tolist(), rel=1e-12, abs=1e-12)
    assert sum(hist["counts"]) == 1000


def test_diagnose_records_every_tanh_layer_at_init_and_after_training():
    from micrograd_it.data import build_char_dataset

    X, Y = build_char_dataset(["emma", "olivia", "ava", "isabella", "sophia"], block_size=3)
    net = DeepMLP(gain=5 / 3, batchnorm=True, hidden=6, depth=3, emb_dim=4, seed=6)
    run = diagnose(net, X, Y, steps=4, batch=5, lr=0.1, seed=7)
    assert len(run["losses"]) == 4 and set(run["update_ratio"]) == {"C", "W1", "W2", "W3", "W4"}
    for record in (run["init"], run["final"]):
        assert [a["index"] for a in record["activations"]] == [2, 5, 8]  # the lecture's positions in `layers`
        assert all(a["n"] == 5 * 6 for a in record["activations"])
        assert record["weights"][1]["shape"] == [12, 6]
    assert run["init"]["loss"] == run["losses"][0] and run["final"]["loss"] == run["losses"][-1]
    assert all(len(series) == 4 for series in run["update_ratio"].values())
    assert sum(isinstance(layer, Tanh) for layer in net.layers) == 3


# -- against torch -----------------------------------------------------------------------------------------

def _torch_twin(torch, net):
    """The engine's DeepMLP as a torch LectureDeepNet in float64, with the same numbers."""
    from micrograd_it.torch_deep import LectureDeepNet

    C = torch.tensor([[v.data for v in row] for row in net.C.C], dtype=torch.float64)
    modules = []
    for layer in net.layers:
        if isinstance(layer, Linear):
            linear = torch.nn.Linear(layer.nin, layer.nout, bias=layer.b is not None).double()
            with torch.no_grad():
                linear.weight.copy_(torch.tensor([[w.data for w in row] for row in layer.w], dtype=torch.float64))
                if layer.b is not None:
                    linear.bias.copy_(torch.tensor([b.data for b in layer.b], dtype=torch.float64))
            modules.append(linear)
        elif isinstance(layer, BatchNorm1d):
            bn = torch.nn.BatchNorm1d(layer.dim).double()
            with torch.no_grad():
                bn.weight.copy_(torch.tensor([g.data for g in layer.gamma], dtype=torch.float64))
            modules.append(bn)
        else:
            modules.append(torch.nn.Tanh())
    return LectureDeepNet(C, modules)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_engine_deep_net_and_its_records_match_torch(batchnorm):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch cross-check needs it")
    from micrograd_it.losses import softmax_cross_entropy
    from micrograd_it.torch_deep import _snapshot
    from micrograd_it.deep import snapshot
    from micrograd_it.torch_trace import trace_torch

    net = DeepMLP(gain=3.0, batchnorm=batchnorm, hidden=7, depth=3, emb_dim=4, seed=8)
    twin = _torch_twin(torch, net)
    rng = random.Random(9)
    X = [[rng.randrange(27) for _ in range(3)] for _ in range(6)]
    Y = [rng.randrange(27) for _ in range(6)]
    with net.trace() as trace:
        loss = softmax_cross_entropy(net.forward(X), Y)
    loss.backward()
    ours = snapshot(net, trace, loss.data)
    with trace_torch(twin) as torch_trace:
        torch_loss = torch.nn.functional.cross_entropy(twin(torch.tensor(X)), torch.tensor(Y))
        torch_loss.backward()
    theirs = _snapshot(twin, torch_trace, torch_loss.item())
    assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-12)
    for kind in ("activations", "gradients", "weights"):
        for mine, ref in zip(ours[kind], theirs[kind], strict=True):
            assert mine.get("index") == ref.get("index")
            for key in ("mean", "std"):
                assert mine[key] == pytest.approx(ref[key], rel=1e-7, abs=1e-15)
            assert mine["hist"]["counts"] == ref["hist"]["counts"], (kind, mine.get("name"), mine["hist"], ref["hist"])
    for mine, ref in zip(ours["activations"], theirs["activations"]):
        assert mine["line"] == ref["line"]


@pytest.mark.parametrize("batchnorm", [False, True])
def test_torch_net_is_drawn_as_the_lecture_draws_it(batchnorm):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch cross-check needs it")
    from micrograd_it.torch_deep import LECTURE_SEED, lecture_deep_net

    net = lecture_deep_net(gain=5 / 3, batchnorm=batchnorm)
    g = torch.Generator().manual_seed(LECTURE_SEED)  # the lecture's draws, in its order
    assert torch.equal(net.C.data, torch.randn((27, 10), generator=g))
    linears = [m for m in net.layers if isinstance(m, torch.nn.Linear)]
    sizes = [30, 100, 100, 100, 100, 100, 27]
    for index, linear in enumerate(linears):
        drawn = torch.randn((sizes[index], sizes[index + 1]), generator=g) / sizes[index] ** 0.5
        last = index == len(linears) - 1
        scale = (5 / 3) if (not last or batchnorm) else 0.1
        assert torch.allclose(linear.weight.data.T, drawn * scale, rtol=1e-6, atol=0)
        assert (linear.bias is None) == batchnorm
    tanh_at = [i for i, m in enumerate(net.layers) if isinstance(m, torch.nn.Tanh)]
    assert tanh_at == ([2, 5, 8, 11, 14] if batchnorm else [1, 3, 5, 7, 9])
    if batchnorm:
        assert torch.equal(net.layers[-1].weight.data, torch.full((27,), 0.1))
