"""Tracing PyTorch (micrograd_it.torch_trace): hooks on a Sequential and on a custom module, the functional mode
on the seed's raw code, values and gradients unchanged bit for bit, and the same traces as our engine's."""

import base64
import copy
import io
import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch tracing tests need it")
F = torch.nn.functional

from micrograd_it.trace import Trace, is_saturated  # noqa: E402
from micrograd_it.torch_trace import TorchLayerTrace, trace_torch  # noqa: E402

from .twin_nets import TORCH_ACTIVATIONS, twin_traces  # noqa: E402


def seed_tensors(scale_w1=1.0, seed=2147483647):
    """The seed's parameters (C 27x10, W1 30x200, W2 200x27) and a batch of 32 contexts."""
    g = torch.Generator().manual_seed(seed)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g) * scale_w1
    b1 = torch.randn(200, generator=g)
    W2 = torch.randn((200, 27), generator=g) * 0.1
    b2 = torch.zeros(27)
    params = [p.requires_grad_() for p in (C, W1, b1, W2, b2)]
    Xb = torch.randint(0, 27, (32, 3), generator=g)
    Yb = torch.randint(0, 27, (32,), generator=g)
    return params, Xb, Yb


def seed_forward(params, Xb, Yb):
    """The seed's code, as written there."""
    C, W1, b1, W2, b2 = params
    emb = C[Xb]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    logits = h @ W2 + b2
    return h, F.cross_entropy(logits, Yb)


# -- the functional mode on the seed's code ------------------------------------------------------------

def test_functional_mode_traces_the_seeds_raw_code():
    params, Xb, Yb = seed_tensors()
    with trace_torch() as tr:
        h, loss = seed_forward(params, Xb, Yb)
        loss.backward()
    assert [layer.name for layer in tr.layers] == ["tanh"] and tr.layers[0].activation == "tanh"
    layer = tr.layers[0]
    assert layer.where.startswith("test_torch_trace.py:")

    # independent: the same code untraced, with retain_grad on the intermediate tensors
    plain, Xb, Yb = seed_tensors()
    C, W1, b1, W2, b2 = plain
    preact = C[Xb].view(-1, 30) @ W1 + b1
    preact.retain_grad()
    h_plain = torch.tanh(preact)
    h_plain.retain_grad()
    F.cross_entropy(h_plain @ W2 + b2, Yb).backward()
    assert torch.equal(layer.preact, preact.detach()) and torch.equal(layer.act, h_plain.detach())
    assert torch.equal(layer.grad_out, h_plain.grad) and torch.equal(layer.grad_in, preact.grad)
    assert torch.equal(layer.saturated(0.99), h_plain.detach().abs() > 0.99)  # the seed's boolean_tensor
    assert layer.dead(0.99) == torch.nonzero((h_plain.abs() > 0.99).all(dim=0)).flatten().tolist()
    for traced, untraced in zip(params, plain):  # tracing changed no gradient, bit for bit
        assert torch.equal(traced.grad, untraced.grad)
    assert layer.n_samples == 32 and layer.n_neurons == 200 and layer.preact.dtype == torch.float32


@pytest.mark.parametrize("call, activation", [
    (lambda x: torch.tanh(x), "tanh"), (lambda x: x.tanh(), "tanh"), (lambda x: F.tanh(x), "tanh"),
    (lambda x: torch.relu(x), "relu"), (lambda x: F.relu(x), "relu"), (lambda x: x.relu(), "relu"),
    (lambda x: torch.sigmoid(x), "sigmoid"), (lambda x: x.sigmoid(), "sigmoid"),
    (lambda x: F.leaky_relu(x, 0.2), "leaky_relu"), (lambda x: F.elu(x, alpha=0.5), "elu"),
    (lambda x: F.gelu(x), "gelu"), (lambda x: F.gelu(x, approximate="tanh"), "gelu"),
    (lambda x: F.silu(x), "silu"), (lambda x: F.softplus(x), "softplus"), (lambda x: F.hardtanh(x), "hardtanh"),
    (lambda x: (x * 1).relu_(), "relu"), (lambda x: F.relu(x * 1, inplace=True), "relu"),
    (lambda x: torch.tanh_(x * 1), "tanh"),
])
def test_every_functional_form_is_one_layer_with_its_activation_and_exact_gradients(call, activation):
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    weights = torch.linspace(-1, 1, 30, dtype=torch.float64).reshape(6, 5)
    with trace_torch() as tr:
        out = call(x)
        (out * weights).sum().backward()
    assert [layer.activation for layer in tr.layers] == [activation]
    layer = tr.layers[0]
    plain = x.detach().clone().requires_grad_()
    expected = call(plain)
    (expected * weights).sum().backward()
    assert torch.equal(out, expected) and torch.equal(x.grad, plain.grad)
    assert torch.equal(layer.act, expected.detach()) and torch.equal(layer.grad_out, weights)
    assert torch.equal(layer.grad_in, plain.grad)  # the activation is x's only user
    assert torch.allclose(layer.grad_in, layer.local_derivative() * weights, rtol=0, atol=1e-15)


def test_functional_params_say_the_constants():
    x = torch.randn(4, 3, requires_grad=True)
    with trace_torch() as tr:
        F.leaky_relu(x, 0.2)
        F.elu(x, alpha=0.5)
        F.gelu(x, approximate="tanh")
    assert [layer.params for layer in tr.layers] == ["negative_slope=0.2", "alpha=0.5", "approximate='tanh'"]


def test_each_functional_call_is_a_layer_of_its_own_with_a_unique_name():
    x = torch.randn(4, 3, requires_grad=True)
    with trace_torch() as tr:
        h = x
        for _ in range(3):
            h = torch.tanh(h)
    assert [layer.name for layer in tr.layers] == ["tanh", "tanh#2", "tanh#3"]
    assert torch.equal(tr.layers[1].preact, tr.layers[0].act)


# -- hooks on modules -------------------------------------------------------------------------------------

def sequential(dtype=torch.float32):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 5), torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(5, 5), torch.nn.ELU(alpha=0.5), torch.nn.Linear(5, 4), torch.nn.GELU(),
        torch.nn.Linear(4, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1),
    ).to(dtype)


def manual_run(model, X):
    """Forward through the Sequential module by module, retain_grad on everything: the independent answer."""
    values = [X]
    for module in model:
        values.append(module(values[-1]))
        values[-1].retain_grad()
    values[-1].pow(2).sum().backward()
    return values


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_hooks_on_a_sequential_record_every_activation_module(dtype):
    model = sequential(dtype)
    X = torch.randn(9, 4, generator=torch.Generator().manual_seed(1)).to(dtype)
    with trace_torch(model) as tr:
        model(X).pow(2).sum().backward()
    assert [(layer.name, layer.activation) for layer in tr.layers] == [
        ("1", "tanh"), ("3", "leaky_relu"), ("5", "elu"), ("7", "gelu"), ("9", "sigmoid"), ("11", "relu")]
    assert [layer.params for layer in tr.layers][:4] == ["", "negative_slope=0.2", "alpha=0.5", "approximate='none'"]
    values = manual_run(copy.deepcopy(model), X)
    for layer, index in zip(tr.layers, [1, 3, 5, 7, 9, 11]):
        assert torch.equal(layer.preact, values[index].detach()) and torch.equal(layer.act, values[index + 1].detach())
        assert torch.equal(layer.grad_out, values[index + 1].grad)
        assert torch.equal(layer.grad_in, values[index].grad)  # each Linear output feeds only its activation
        assert layer.preact.dtype == dtype and layer.preact.device.type == "cpu" and not layer.act.requires_grad


class Custom(torch.nn.Module):
    """A custom forward: a shared activation module used twice, a residual, functional and in-place calls."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = torch.nn.Linear(3, 5), torch.nn.Linear(5, 5), torch.nn.Linear(5, 1)
        self.act = torch.nn.Tanh()
        self.inplace = torch.nn.ReLU(inplace=True)

    def forward(self, x):
        z = self.fc1(x)
        h = self.act(z) + z  # residual: z's gradient is more than what tanh passed back
        h = self.act(self.fc2(h))  # the same module again: a second layer
        h = F.silu(h) * 2
        return self.out(self.inplace(h - 0.5))


def test_hooks_on_a_custom_module_see_shared_modules_functional_calls_and_in_place_ones():
    torch.manual_seed(0)
    model = Custom().double()
    X = torch.randn(7, 3, dtype=torch.float64)
    with trace_torch(model) as tr:
        model(X).sum().backward()
    assert [(layer.name, layer.activation) for layer in tr.layers] == [
        ("act", "tanh"), ("act#2", "tanh"), ("silu", "silu"), ("inplace", "relu")]
    first, second, silu, relu = tr.layers
    assert torch.equal(second.preact, model.fc2(first.act + first.preact).detach())
    # what tanh passed back, not the total gradient of z (the residual adds grad_out to it)
    assert torch.allclose(first.grad_in, (1 - first.act ** 2) * first.grad_out, rtol=1e-15, atol=0)
    assert torch.equal(relu.preact, (silu.act * 2 - 0.5))  # recorded before the in-place write
    assert torch.equal(relu.grad_in, relu.grad_out * (relu.preact > 0))
    assert silu.where.startswith("test_torch_trace.py:")


def test_tracing_changes_no_value_and_no_gradient_bit_for_bit():
    torch.manual_seed(0)
    models = [sequential(torch.float64), Custom().double()]
    X = [torch.randn(9, 4, dtype=torch.float64), torch.randn(7, 3, dtype=torch.float64)]
    for model, x in zip(models, X):
        twin = copy.deepcopy(model)
        twin_out = twin(x)
        twin_out.pow(2).sum().backward()
        for tracer in (lambda: trace_torch(model), lambda: trace_torch()):
            model.zero_grad()
            with tracer():
                out = model(x)
                out.pow(2).sum().backward()
            assert torch.equal(out, twin_out)
            for (name, p), q in zip(model.named_parameters(), twin.parameters()):
                assert torch.equal(p.grad, q.grad), name


def test_more_forwards_add_samples_to_the_same_layers():
    model = sequential()
    X = torch.randn(10, 4)
    with trace_torch(model) as tr:
        model(X[:6]).sum().backward()
        model(X[6:]).sum().backward()
    with trace_torch(model) as whole:
        model(X).sum().backward()
    assert len(tr.layers) == len(whole.layers) and tr.layers[0].n_samples == 10
    for part, full in zip(tr.layers, whole.layers):
        assert torch.allclose(part.preact, full.preact, atol=1e-6) and torch.allclose(part.act, full.act, atol=1e-6)


def test_gradients_arrive_after_the_block_and_a_later_backward_replaces_them():
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    with trace_torch() as tr:
        h = torch.tanh(x * 3)
    layer = tr.layers[0]
    with pytest.raises(RuntimeError, match="no grad_out .* run loss.backward"):
        layer.grad_out
    assert layer.summary()["grad_in_mean"] is None
    h.sum().backward(retain_graph=True)
    assert torch.equal(layer.grad_out, torch.ones(5, 4, dtype=torch.float64))
    (2 * h).sum().backward()
    assert torch.equal(layer.grad_out, torch.full((5, 4), 2.0, dtype=torch.float64))


def test_on_exit_even_on_error_every_hook_is_removed_and_nothing_more_is_recorded():
    model = sequential()
    with pytest.raises(ZeroDivisionError):
        with trace_torch(model) as tr:
            model(torch.randn(3, 4))
            1 / 0
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    model(torch.randn(3, 4))
    torch.tanh(torch.randn(3))
    assert [layer.n_samples for layer in tr.layers] == [3] * 6


def test_a_forward_that_raises_inside_an_activation_leaves_no_hook_on_the_input():
    x = torch.randn(3, 4, requires_grad=True)
    with trace_torch() as tr:
        with pytest.raises(RuntimeError):
            x.relu_()  # in place on a leaf that requires grad: torch refuses
    assert tr.layers == [] and not x._backward_hooks


def test_recorded_tensors_are_copies():
    x = torch.randn(3, 4, requires_grad=True)
    with trace_torch() as tr:
        h = torch.tanh(x)
    kept = tr.layers[0].act.clone()
    with torch.no_grad():
        h.add_(1.0)
    assert torch.equal(tr.layers[0].act, kept)


def test_bad_uses_raise_naming_the_problem():
    with pytest.raises(TypeError, match="torch.nn.Module or no model, got 'abc'"):
        trace_torch("abc")
    tr = trace_torch()
    with tr:
        pass
    with pytest.raises(RuntimeError, match="already used"):
        with tr:
            pass
    with trace_torch() as tr:
        torch.tanh(torch.randn(2, 3))
    with pytest.raises(ValueError, match="threshold must be a number in"):
        tr.layers[0].saturated(1.5)


def test_print_is_our_trace_table():
    our, theirs = twin_traces("tanh")
    assert str(theirs).splitlines()[0] == str(our).splitlines()[0]
    assert isinstance(theirs.layers[0], TorchLayerTrace) and repr(theirs).startswith("TorchTrace(")
    assert str(theirs).splitlines()[1].split()[1:4] == ["tanh", "5", "4"]
    assert Trace.summary is type(theirs).summary


# -- the same traces as our engine's ----------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_same_mlp_in_our_engine_and_in_torch_gives_identical_traces(activation):
    ours, theirs = twin_traces(activation)
    hidden = ours.layers[:-1]  # our last layer is linear; torch's Sequential has no module for it
    assert [layer.activation for layer in theirs.layers] == [layer.activation for layer in hidden]
    for mine, other in zip(hidden, theirs.layers):
        for attribute in ("preact", "act", "grad_out", "grad_in"):
            expected = np.array(getattr(mine, attribute))
            assert np.allclose(getattr(other, attribute).numpy(), expected, rtol=1e-12, atol=1e-12), attribute
        assert other.saturated(0.9).tolist() == mine.saturated(0.9)
        assert other.dead(0.9) == mine.dead(0.9)
        assert np.allclose(other.saturation(0.9).numpy(), mine.saturation(0.9))
        for key, value in mine.summary(0.9).items():
            if key == "name":  # ours "layers.0", torch's the Sequential's index "1"
                continue
            assert other.summary(0.9)[key] == (pytest.approx(value, rel=1e-9, abs=1e-12)
                                               if isinstance(value, float) else value)


def test_the_cross_check_can_fail():
    ours, theirs = twin_traces("tanh")
    theirs_other, = [twin_traces("tanh", seed=4)[1]]
    assert not np.allclose(theirs_other.layers[0].act.numpy(), np.array(ours.layers[0].act), atol=1e-12)


# -- the saturation rules are the engine's ----------------------------------------------------------------

GRID = [x / 8 for x in range(-80, 81)] + [-4.6, -4.605, -4.61, -3.1, -0.75, 0.0, 1e-300, -1e-300, 2.6466524123622457]


@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("threshold", [0.9, 0.99, 0.999])
def test_saturation_rules_equal_the_engines_is_saturated(activation, threshold):
    module = TORCH_ACTIVATIONS[activation]()
    preact = torch.tensor([GRID], dtype=torch.float64)
    with trace_torch(torch.nn.Sequential(module)) as tr:
        act = module(preact)
    flags = tr.layers[0].saturated(threshold)[0].tolist()
    expected = [is_saturated(activation, p, a, threshold) for p, a in zip(GRID, act[0].tolist())]
    differing = [p for p, got, want in zip(GRID, flags, expected) if got != want]
    assert not differing, f"{activation} at {threshold}: torch and the engine disagree at preact {differing}"


def test_tanhs_rule_at_its_edge_is_strict():
    act = torch.tensor([[0.99, 0.9900000000000001, -0.99, -0.9900000000000001]], dtype=torch.float64)
    with trace_torch() as tr:
        torch.tanh(torch.atanh(act))
    recorded = tr.layers[0].act[0].tolist()
    assert tr.layers[0].saturated(0.99)[0].tolist() == [abs(a) > 0.99 for a in recorded]


def test_other_constants_classify_by_torchs_own_local_derivative():
    x = torch.tensor([[-8.0, -5.0, -2.0, -0.76, -0.75, 0.0, 0.5, 3.0]], dtype=torch.float64)
    with trace_torch() as tr:
        F.leaky_relu(x, 0.001)
        F.elu(x, alpha=0.5)
        F.gelu(x)  # exact: Phi(x) + x phi(x)
        F.gelu(x, approximate="tanh")
    leaky, elu, exact, approx = tr.layers
    xs = x[0].tolist()
    assert leaky.saturated(0.99)[0].tolist() == [v <= 0 for v in xs]  # slope 0.001 < 0.01
    assert elu.saturated(0.99)[0].tolist() == [v <= 0 and 0.5 * math.exp(v) + 0.99 < 1 for v in xs]

    def exact_slope(v):
        return 0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
    assert exact.saturated(0.99)[0].tolist() == [abs(exact_slope(v)) + 0.99 < 1 for v in xs]
    assert approx.saturated(0.99)[0].tolist() == [is_saturated("gelu", v, 0.0, 0.99) for v in xs]


def test_tanh_and_sigmoid_compare_in_the_tensors_dtype_as_pytorch_does():
    act = torch.tensor([[0.99, 0.995, -0.99, 0.5]], dtype=torch.float32)  # float32(0.99) = 0.9900000095...
    with trace_torch() as tr:
        torch.tanh(torch.atanh(act.double()).float())
        torch.sigmoid(torch.logit(torch.tensor([[0.99, 0.009, 0.5]], dtype=torch.float32)))
    tanh, sigmoid = tr.layers
    assert torch.equal(tanh.saturated(0.99), tanh.act.abs() > 0.99)  # the seed's own comparison
    assert torch.equal(sigmoid.saturated(0.99), (sigmoid.act > 0.99) | (sigmoid.act < 0.01))


def test_jupyter_shows_the_same_table_and_saturation_map_as_for_our_traces():
    matplotlib_image = pytest.importorskip("matplotlib.image")
    _, theirs = twin_traces("tanh", init=3.0)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>",
                                                                              theirs._repr_html_(), re.S)]
    assert cells[1:] == [line.split() for line in str(theirs).splitlines()[1:]]
    layer = theirs.layers[0]
    png = re.search(r'src="data:image/png;base64,([^"]+)"', layer._repr_html_()).group(1)
    pixels = matplotlib_image.imread(io.BytesIO(base64.b64decode(png)), format="png")
    assert (pixels[2:, :, 0] == layer.saturated().numpy()).all()  # below the dead-marker and gap rows
