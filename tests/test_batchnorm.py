"""BatchNorm1d, Linear and Tanh on Values (micrograd_it.batchnorm): forward and backward against finite
differences and against torch.nn.BatchNorm1d in float64; the Tanh layer seen per sample by net.trace()."""

import math
import random

import pytest

from micrograd_it import Value, gradcheck
from micrograd_it.batchnorm import BatchNorm1d, Linear, Tanh
from micrograd_it.nn import Module


def _batch(rng, n, dim, scale=2.0):
    return [[Value(rng.gauss(0.5, scale)) for _ in range(dim)] for _ in range(n)]


def _data(rows):
    return [v.data for row in rows for v in row]


def _weighted_sum(rows, coefficients):
    """A scalar of every output, each with its own weight: its gradient reaches every input differently."""
    total = Value(0.0)
    for row, weights in zip(rows, coefficients):
        for out, c in zip(row, weights):
            total = total + out * c
    return total


def test_batchnorm_forward_normalises_each_feature_over_the_batch():
    rng = random.Random(0)
    rows = _batch(rng, 7, 3)
    bn = BatchNorm1d(3)
    out = bn.batch(rows)
    for j in range(3):
        column = [row[j].data for row in out]
        mean = sum(column) / len(column)
        var = sum((x - mean) ** 2 for x in column) / len(column)
        inputs = [row[j].data for row in rows]
        in_mean = sum(inputs) / len(inputs)
        in_var = sum((x - in_mean) ** 2 for x in inputs) / len(inputs)
        assert mean == pytest.approx(0.0, abs=1e-12)
        assert var == pytest.approx(in_var / (in_var + bn.eps), rel=1e-12)  # (x - m)^2 / (v + eps) averaged


def test_batchnorm_backward_matches_finite_differences():
    rng = random.Random(1)
    n, dim = 4, 3
    inputs = [rng.gauss(0.0, 1.5) for _ in range(n * dim)]
    coefficients = [[rng.uniform(-1, 1) for _ in range(dim)] for _ in range(n)]
    bn = BatchNorm1d(dim)
    for gamma in bn.gamma:
        gamma.data = rng.uniform(0.5, 2.0)
    for beta in bn.beta:
        beta.data = rng.uniform(-1.0, 1.0)
    leaves = [Value(x) for x in inputs] + bn.gamma + bn.beta

    def loss(*values):
        rows = [list(values[i * dim:(i + 1) * dim]) for i in range(n)]
        return _weighted_sum(bn.batch(rows), coefficients).tanh()  # tanh: a non-linear use of every output

    assert gradcheck(loss, leaves, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_linear_without_bias_backward_matches_finite_differences():
    rng = random.Random(2)
    linear = Linear(3, 2, bias=False, seed=3)
    x = [Value(rng.gauss(0, 1)) for _ in range(3)]
    weights = [w for row in linear.w for w in row]
    assert linear.b is None and len(linear.parameters()) == 6

    def loss(*values):
        return _weighted_sum(linear.batch([list(values[:3])]), [[0.3, -1.2]]).tanh()

    assert gradcheck(loss, x + weights)


def test_running_statistics_follow_the_torch_rule_and_errors_change_nothing():
    rng = random.Random(4)
    bn = BatchNorm1d(2, momentum=0.25)
    rows = _batch(rng, 5, 2)
    bn.batch(rows)
    for j in range(2):
        column = [row[j].data for row in rows]
        mean = sum(column) / 5
        unbiased = sum((x - mean) ** 2 for x in column) / 4
        assert bn.running_mean[j] == pytest.approx(0.25 * mean, rel=1e-12)
        assert bn.running_var[j] == pytest.approx(0.75 + 0.25 * unbiased, rel=1e-12)
    before = (list(bn.running_mean), list(bn.running_var))
    with pytest.raises(ValueError, match="at least 2 rows"):
        bn.batch(rows[:1])
    with pytest.raises(ValueError, match="rows of 2 inputs; row 1"):
        bn.batch([rows[0], rows[1][:1]])
    assert (bn.running_mean, bn.running_var) == before
    bn.training = False
    out = bn.batch(rows[:1])  # eval: one row is fine, it uses the running statistics
    expected = (rows[0][0].data - bn.running_mean[0]) / math.sqrt(bn.running_var[0] + bn.eps)
    assert out[0][0].data == pytest.approx(expected, rel=1e-12)


def test_batchnorm_parameters_are_gamma_and_beta_only():
    bn = BatchNorm1d(4)
    names = [name for name, _ in bn.named_parameters()]
    assert names == [f"gamma.{i}" for i in range(4)] + [f"beta.{i}" for i in range(4)]


class _Stack(Module):
    def __init__(self):
        self.lin = Linear(4, 3, bias=False, seed=5)
        self.bn = BatchNorm1d(3)
        self.act = Tanh(3)

    def forward(self, rows):
        return self.act.batch(self.bn.batch(self.lin.batch(rows)))


def test_tanh_layer_is_traced_per_sample_with_the_batchnorm_output_as_preact():
    rng = random.Random(6)
    net = _Stack()
    rows = [[rng.gauss(0, 1) for _ in range(4)] for _ in range(5)]
    plain = [[v.data for v in row] for row in net.forward(rows)]
    net.bn.running_mean, net.bn.running_var = [0.0] * 3, [1.0] * 3
    with net.trace() as trace:
        bn_out = net.bn.batch(net.lin.batch(rows))
        acts = net.act.batch(bn_out)
        loss = _weighted_sum(acts, [[1.0, -2.0, 0.5]] * 5)
    loss.backward()
    assert len(trace.layers) == 1
    layer = trace.layers[0]
    assert (layer.name, layer.activation, layer.n_samples, layer.n_neurons) == ("act", "tanh", 5, 3)
    assert layer.preact == [[v.data for v in row] for row in bn_out]
    assert layer.act == plain  # tracing computes the same numbers as an untraced call
    for pre_row, grad_row, act_row, grad_in_row in zip(layer.preact, layer.grad_out, layer.act, layer.grad_in):
        for preact, grad_out, act, grad_in in zip(pre_row, grad_row, act_row, grad_in_row):
            assert act == math.tanh(preact)
            assert grad_in == pytest.approx((1 - act ** 2) * grad_out, rel=1e-12)


def test_tanh_width_is_checked():
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        Tanh(3)([Value(1.0), Value(2.0)])


# -- against torch -----------------------------------------------------------------------------------------

def test_batchnorm_forward_backward_and_running_stats_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch cross-check needs it")
    rng = random.Random(7)
    n, dim = 6, 4
    bn = BatchNorm1d(dim)
    for gamma, beta in zip(bn.gamma, bn.beta):
        gamma.data, beta.data = rng.uniform(0.5, 2.0), rng.uniform(-1.0, 1.0)
    ref = torch.nn.BatchNorm1d(dim).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([g.data for g in bn.gamma], dtype=torch.float64))
        ref.bias.copy_(torch.tensor([b.data for b in bn.beta], dtype=torch.float64))
    coefficients = [[rng.uniform(-1, 1) for _ in range(dim)] for _ in range(n)]
    for _ in range(2):  # two training batches: the running statistics move twice
        data = [[rng.gauss(1.0, 3.0) for _ in range(dim)] for _ in range(n)]
        rows = [[Value(x) for x in row] for row in data]
        out = bn.batch(rows)
        loss = _weighted_sum(out, coefficients)
        for p in bn.parameters():
            p.grad = 0.0
        loss.backward()
        x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        ref.zero_grad()
        ref_out = ref(x)
        (ref_out * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()
        assert _data(out) == pytest.approx(ref_out.detach().flatten().tolist(), rel=1e-12)
        for row, ref_row in zip(rows, x.grad.tolist()):
            assert [v.grad for v in row] == pytest.approx(ref_row, rel=1e-9, abs=1e-12)
        assert [g.grad for g in bn.gamma] == pytest.approx(ref.weight.grad.tolist(), rel=1e-12)
        assert [b.grad for b in bn.beta] == pytest.approx(ref.bias.grad.tolist(), rel=1e-12)
        assert bn.running_mean == pytest.approx(ref.running_mean.tolist(), rel=1e-12)
        assert bn.running_var == pytest.approx(ref.running_var.tolist(), rel=1e-12)
    bn.training = False
    ref.eval()
    data = [[rng.gauss(1.0, 3.0) for _ in range(dim)] for _ in range(3)]
    out = bn.batch([[Value(x) for x in row] for row in data])
    assert _data(out) == pytest.approx(ref(torch.tensor(data, dtype=torch.float64)).flatten().tolist(), rel=1e-12)


def test_batchnorm_matches_the_manual_torch_formula():
    """The same numbers written as the lecture writes BatchNorm by hand (biased variance, as torch normalises)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch cross-check needs it")
    rng = random.Random(8)
    data = [[rng.gauss(0.0, 2.0) for _ in range(3)] for _ in range(5)]
    bn = BatchNorm1d(3)
    out = bn.batch([[Value(x) for x in row] for row in data])
    x = torch.tensor(data, dtype=torch.float64)
    xmean = x.mean(0, keepdim=True)
    xvar = x.var(0, keepdim=True, unbiased=False)
    expected = (x - xmean) / torch.sqrt(xvar + 1e-5)
    assert _data(out) == pytest.approx(expected.flatten().tolist(), rel=1e-12)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_trace_values_sees_the_same_tanh_neurons_as_net_trace(batchnorm):
    """trace_values() (branch compat; skipped until it is merged) groups by line and depth: one layer per tanh
    layer, a row per sample, the same numbers as net.trace()."""
    trace_values = pytest.importorskip("micrograd_it.trace_values").trace_values
    from micrograd_it.deep import DeepMLP
    from micrograd_it.losses import softmax_cross_entropy

    net = DeepMLP(gain=5 / 3, batchnorm=batchnorm, hidden=6, depth=5, seed=0)
    rng = random.Random(10)
    X = [[rng.randrange(27) for _ in range(3)] for _ in range(4)]
    Y = [rng.randrange(27) for _ in range(4)]
    with trace_values() as by_line:
        loss = softmax_cross_entropy(net.forward(X), Y)
    loss.backward()
    with net.trace() as by_module:
        loss = softmax_cross_entropy(net.forward(X), Y)
    loss.backward()
    assert [(layer.n_samples, layer.n_neurons) for layer in by_line.layers] == [(4, 6)] * 5
    for line_layer, module_layer in zip(by_line.layers, by_module.layers, strict=True):
        assert line_layer.act == module_layer.act
        assert line_layer.grad_out == module_layer.grad_out


def test_batchnorm_takes_plain_numbers_and_names_a_bad_one():
    bn = BatchNorm1d(2)
    out = bn.batch([[1.0, 2.0], [3.0, 5.0]])
    # two values per feature: each is one (biased) std from the mean, so +-1 / sqrt(1 + eps / var)
    assert out[1][0].data == pytest.approx(1 / math.sqrt(1 + 1e-5 / 1.0), rel=1e-12)
    assert bn.running_mean == pytest.approx([0.2, 0.35], rel=1e-12)  # 0.1 * the batch means 2 and 3.5
    before = (list(bn.running_mean), list(bn.running_var))
    with pytest.raises(TypeError, match="'abc'"):
        bn.batch([[1.0, "abc"], [3.0, 5.0]])
    assert (bn.running_mean, bn.running_var) == before
