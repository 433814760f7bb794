"""Neuron, Layer, MLP, Embedding: forward against hand recomputation, gradients against finite differences,
seeding, names, save/load, and training on two moons."""

import json
import math
import os
import random
import re
import statistics

import pytest

from micrograd_it import Value, gradcheck
from micrograd_it.data import make_moons
from micrograd_it.losses import hinge, softmax_cross_entropy
from micrograd_it.nn import ACTIVATIONS, GAINS, MLP, Embedding, Layer, Module, Neuron
from micrograd_it.optim import SGD
from tests.interrupts import interrupted_at_line

# Each activation written again from its textbook formula, independently of the engine.
HAND = {
    "tanh": math.tanh,
    "relu": lambda x: max(0.0, x),
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "elu": lambda x: x if x > 0 else math.exp(x) - 1.0,
    "gelu": lambda x: 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    "softplus": lambda x: math.log(1.0 + math.exp(x)),
    "linear": lambda x: x,
}
INITS = ["uniform", "scaled", 0.7]


def hand_forward(net, x):
    """Evaluate an MLP with plain floats from its weights."""
    values = list(x)
    for layer in net.layers:
        values = [
            HAND[layer.activation](n.b.data + sum(w.data * v for w, v in zip(n.w, values))) for n in layer.neurons
        ]
    return values


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_matches_hand_recomputation(activation):
    net = MLP(3, [4, 2], activation=activation, init="scaled", seed=1, bias_init=0.1)
    x = [0.5, -1.5, 2.0]
    out = net(x)
    assert [o.data for o in out] == pytest.approx(hand_forward(net, x), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_parameter_gradient_matches_finite_differences(activation, init):
    net = MLP(2, [3, 2], activation=activation, init=init, seed=3, bias_init=0.05)
    X = [[0.3, -0.8], [-1.1, 0.6]]

    def loss(*params):
        total = Value(0.0)
        for x in X:
            for out in net(x):
                total = total + out * out
        return total

    assert gradcheck(loss, net.parameters())


def test_same_seed_same_network_bit_for_bit():
    first = MLP(2, [5, 5, 1], init="scaled", seed=42)
    second = MLP(2, [5, 5, 1], init="scaled", seed=42)
    third = MLP(2, [5, 5, 1], init="scaled", seed=43)
    data = [p.data for p in first.parameters()]
    assert data == [p.data for p in second.parameters()]
    assert data != [p.data for p in third.parameters()]


def test_random_seed_makes_an_unseeded_network_reproducible():
    # micrograd's demo: random.seed(1337), then MLP(...) gives the same network on every run
    random.seed(1337)
    first = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    random.seed(1337)
    assert first == [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    # the draws are the random module's own: the same as random.Random(1337), i.e. as seed=1337
    assert first == [p.data for p in MLP(2, [16, 16, 1], seed=1337).parameters()]
    random.seed(1337)
    assert [v.data for row in Embedding(5, 3).C for v in row] == [v.data for row in Embedding(5, 3, seed=1337).C for v in row]
    random.seed(1337)
    assert [n.w[0].data for n in Layer(3, 4).neurons] == [n.w[0].data for n in Layer(3, 4, seed=1337).neurons]


def test_an_explicit_seed_ignores_and_leaves_the_random_module_alone():
    random.seed(1)
    state = random.getstate()
    first = [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    assert random.getstate() == state  # seed= draws from its own generator
    random.seed(2)
    assert first == [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    assert first == [p.data for p in MLP(2, [4, 1], rng=random.Random(7)).parameters()]
    with pytest.raises(TypeError, match="rng must be a random.Random"):
        MLP(2, [4, 1], rng=7)


def test_named_parameters_are_stable_dotted_names():
    net = MLP(2, [3, 1])
    names = [name for name, _ in net.named_parameters()]
    expected = []
    for layer_index, (nin, nout) in enumerate([(2, 3), (3, 1)]):
        for n in range(nout):
            expected += [f"layers.{layer_index}.neurons.{n}.w.{i}" for i in range(nin)]
            expected.append(f"layers.{layer_index}.neurons.{n}.b")
    assert names == expected
    assert [v for _, v in net.named_parameters()] == net.parameters()
    assert len(set(map(id, net.parameters()))) == len(names)


def test_layers_and_default_activations():
    net = MLP(2, [4, 3, 1], activation="relu")
    assert [layer.activation for layer in net.layers] == ["relu", "relu", "linear"]
    assert [(layer.nin, layer.nout) for layer in net.layers] == [(2, 4), (4, 3), (3, 1)]
    assert isinstance(net([1.0, 2.0]), Value)
    assert len(MLP(2, [3, 2])([1.0, 2.0])) == 2
    assert MLP(2, [3, 1], last_activation="sigmoid").layers[-1].activation == "sigmoid"


def test_scaled_init_has_std_gain_over_sqrt_fan_in():
    # 100 x 100 weights from N(0, 1) * gain / sqrt(100): the sample std is within a few % of it
    for activation in ("tanh", "relu", "sigmoid"):
        layer = Layer(100, 100, activation=activation, init="scaled", seed=0)
        weights = [w.data for n in layer.neurons for w in n.w]
        expected = GAINS[activation] / math.sqrt(100)
        assert statistics.pstdev(weights) == pytest.approx(expected, rel=0.05)
    numeric = [w.data for n in Layer(100, 100, init=0.3, seed=0).neurons for w in n.w]
    assert statistics.pstdev(numeric) == pytest.approx(0.3, rel=0.05)


def test_uniform_init_is_micrograds_u_minus_one_one_and_bias_init():
    layer = Layer(50, 40, init="uniform", seed=0, bias_init=0.25)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert all(-1.0 <= w <= 1.0 for w in weights)
    assert statistics.pstdev(weights) == pytest.approx(1 / math.sqrt(3), rel=0.05)  # std of U(-1, 1)
    assert all(n.b.data == 0.25 for n in layer.neurons)


def test_zero_grad_clears_every_parameter():
    net = MLP(2, [3, 1], seed=0)
    net([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())


@pytest.mark.parametrize(
    "make, error, culprit",
    [
        (lambda: MLP(2, [3, 1], activation="swish"), ValueError, "swish"),
        (lambda: MLP(2, [3, 1], init="xavier"), ValueError, "xavier"),
        (lambda: MLP(2, [3, 1], init=-1.0), ValueError, "-1.0"),
        (lambda: MLP(2, []), ValueError, "[]"),
        (lambda: MLP(2, [3, 0]), ValueError, "0"),
        (lambda: MLP(0, [3]), ValueError, "0"),
        (lambda: Neuron(2, bias_init="x"), TypeError, "'x'"),
        (lambda: MLP(2, [3], rng=7), TypeError, "7"),
        (lambda: MLP(2, [3])([1.0, 2.0, 3.0]), ValueError, "expects 2 inputs, got 3"),
        (lambda: MLP(2, [3])(5.0), TypeError, "5.0"),
        (lambda: Neuron(2)([1.0]), ValueError, "expects 2 inputs, got 1"),
        (lambda: Neuron(2).preactivation([1.0, 2.0, 3.0]), ValueError, "expects 2 inputs, got 3"),
        (lambda: Embedding(3, 2)([3]), IndexError, "3"),
        (lambda: Embedding(3, 2)(["a"]), IndexError, "'a'"),
    ],
)
def test_bad_arguments_raise_naming_the_culprit(make, error, culprit):
    with pytest.raises(error, match=None) as info:
        make()
    assert culprit in str(info.value)


def test_save_then_load_gives_the_same_predictions(tmp_path):
    X = [[0.1, 0.2], [-1.0, 0.5], [2.0, -0.3]]
    net = MLP(2, [4, 4, 1], init="scaled", seed=1)
    path = net.save(tmp_path / "net.json")
    other = MLP(2, [4, 4, 1], init="scaled", seed=2)
    assert [other(x).data for x in X] != [net(x).data for x in X]
    assert other.load(path) is other
    assert [other(x).data for x in X] == [net(x).data for x in X]  # JSON floats round-trip exactly
    assert os.listdir(tmp_path) == ["net.json"]  # the atomic write left no temporary file


def _write(path, document):
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    "corrupt, culprit",
    [
        (lambda doc: doc["parameters"].pop("layers.1.neurons.0.b"), "missing"),
        (lambda doc: doc["parameters"].update({"layers.0.neurons.9.b": 1.0}), "unexpected"),
        (lambda doc: doc["parameters"].update({"layers.0.neurons.0.b": "big"}), "layers.0.neurons.0.b"),
        (lambda doc: doc["parameters"].update({"layers.0.neurons.0.b": True}), "layers.0.neurons.0.b"),
        (lambda doc: doc["parameters"].update({"layers.0.neurons.0.b": float("nan")}), "layers.0.neurons.0.b"),
        (lambda doc: doc["parameters"].update({"layers.0.neurons.0.b": 10**400}), "layers.0.neurons.0.b"),
        (lambda doc: doc.update({"format": "pickle"}), "format"),
    ],
)
def test_load_of_a_mismatched_file_raises_and_leaves_the_model_unchanged(tmp_path, corrupt, culprit):
    source = MLP(2, [3, 1], seed=0)
    document = json.loads(source.save(tmp_path / "a.json") and (tmp_path / "a.json").read_text())
    corrupt(document)
    target = MLP(2, [3, 1], seed=5)
    before = [p.data for p in target.parameters()]
    with pytest.raises(ValueError) as info:
        target.load(_write(tmp_path / "b.json", document))
    assert culprit in str(info.value)
    assert str(tmp_path / "b.json") in str(info.value)  # every refusal names the file
    assert [p.data for p in target.parameters()] == before


def test_load_of_another_architecture_or_non_json_raises_and_leaves_the_model_unchanged(tmp_path):
    path = MLP(2, [4, 1], seed=0).save(tmp_path / "wide.json")
    target = MLP(2, [3, 1], seed=5)
    before = [p.data for p in target.parameters()]
    with pytest.raises(ValueError, match="shapes"):
        target.load(path)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        target.load(tmp_path / "junk.json")
    assert [p.data for p in target.parameters()] == before


class CharModel(Module):
    """The makemore MLP: embed each context character, concatenate, MLP to one logit per character."""

    def __init__(self, vocab, dim, block_size, hidden, seed):
        self.emb = Embedding(vocab, dim, seed=seed)
        self.mlp = MLP(dim * block_size, [hidden, vocab], init="scaled", seed=seed + 1)

    def __call__(self, context):
        return self.mlp(self.emb(context))


def test_embedding_returns_concatenated_rows_and_names_them():
    emb = Embedding(5, 3, seed=0)
    flat = emb([2, 0, 2])
    assert flat == emb.C[2] + emb.C[0] + emb.C[2]  # the very same Value objects
    assert [name for name, _ in emb.named_parameters()][:4] == ["C.0.0", "C.0.1", "C.0.2", "C.1.0"]
    assert Embedding(5, 3, seed=0).C[4][2].data == emb.C[4][2].data


def test_char_model_composes_and_its_gradients_check():
    model = CharModel(vocab=4, dim=2, block_size=2, hidden=3, seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "emb.C.0.0" and names[-1] == "mlp.layers.1.neurons.3.b"
    contexts, targets = [[0, 1], [2, 3]], [3, 0]

    def loss(*params):
        return softmax_cross_entropy([model(c) for c in contexts], targets)

    assert gradcheck(loss, model.parameters())


def test_mlp_reaches_97_percent_on_two_moons():
    # micrograd's demo recipe (hinge loss, decaying lr) on a smaller net to keep the test a few seconds
    X, y = make_moons(n=100, noise=0.1, seed=0, labels=(-1, 1))
    net = MLP(2, [8, 8, 1], init="scaled", seed=0)
    opt = SGD(net, lr=1.0)
    steps = 60
    for step in range(steps):
        loss = hinge([net(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * step / steps
        opt.step()
    accuracy = sum((net(x).data > 0) == (label > 0) for x, label in zip(X, y)) / len(y)
    assert accuracy >= 0.97


TORCH_ACTIVATIONS = {
    "tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "elu": "elu", "linear": None,
    "leaky_relu": "leaky_relu", "gelu": "gelu", "softplus": "softplus",
}


@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_mlp_loss_and_gradients_match_pytorch(activation):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    net = MLP(3, [4, 3, 2], activation=activation, init="scaled", seed=11, bias_init=0.1)
    X = [[0.2, -0.5, 1.0], [1.3, 0.4, -0.8], [-0.6, 0.9, 0.1]]
    targets = [1, 0, 1]
    loss = softmax_cross_entropy([net(x) for x in X], targets)
    loss.backward()

    weights = [torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True)
               for layer in net.layers]
    biases = [torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
              for layer in net.layers]
    h = torch.tensor(X, dtype=torch.float64)
    for layer, weight, bias in zip(net.layers, weights, biases):
        h = h @ weight.T + bias
        name = TORCH_ACTIVATIONS[layer.activation]
        if name == "gelu":
            h = functional.gelu(h, approximate="tanh")
        elif name == "leaky_relu":
            h = functional.leaky_relu(h, 0.01)
        elif name is not None:
            h = getattr(functional, name)(h)
    torch_loss = functional.cross_entropy(h, torch.tensor(targets))
    torch_loss.backward()
    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12)
    for layer, weight, bias in zip(net.layers, weights, biases):
        ours_w = [[w.grad for w in n.w] for n in layer.neurons]
        ours_b = [n.b.grad for n in layer.neurons]
        for row, torch_row in zip(ours_w, weight.grad.tolist()):
            assert row == pytest.approx(torch_row, rel=1e-9, abs=1e-12)
        assert ours_b == pytest.approx(bias.grad.tolist(), rel=1e-9, abs=1e-12)


def test_a_tied_parameter_is_listed_once_under_its_first_name():
    class Tied(Module):
        def __init__(self):
            self.first = Neuron(2, seed=0)
            self.second = Neuron(2, seed=1)
            self.second.b = self.first.b

    names = [name for name, _ in Tied().named_parameters()]
    assert names == ["first.w.0", "first.w.1", "first.b", "second.w.0", "second.w.1"]


# -- load: hostile files ---------------------------------------------------------------

def _saved_document(tmp_path):
    return json.loads(MLP(2, [3, 1], seed=0).save(tmp_path / "a.json") and (tmp_path / "a.json").read_text())


def _refused(path, *, match):
    """Load `path` into a fresh model: ValueError naming the file and `match`; the model unchanged."""
    target = MLP(2, [3, 1], seed=5)
    before = [p.data for p in target.parameters()]
    with pytest.raises(ValueError) as info:
        target.load(path)
    message = str(info.value)
    assert str(path) in message, message
    assert re.search(match, message), message
    assert len(message) < 600, "the message echoes the file"
    assert [p.data for p in target.parameters()] == before
    return message


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a": ', "}")])
def test_load_of_json_nested_100000_deep_is_a_value_error(tmp_path, opening, closing):
    path = tmp_path / "deep.json"
    path.write_text(opening * 100_000 + "1" + closing * 100_000)
    _refused(path, match="nested too deeply")


def test_load_refuses_a_parameter_named_twice(tmp_path):
    text = json.dumps(_saved_document(tmp_path))
    name = "layers.0.neurons.0.b"
    text = text.replace(f'"{name}": 0.0', f'"{name}": 0.0, "{name}": 7.0')
    assert text.count(name) == 2
    path = tmp_path / "twice.json"
    path.write_text(text)
    _refused(path, match=f"'{name}' twice.*ambiguous")
    path.write_text('{"format": "x", "format": "micrograd_it.parameters", "parameters": {}}')
    _refused(path, match="'format' twice")


def test_load_refuses_a_file_over_64_mb_before_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)  # sparse: no disk used
    reads = []
    real_open = open

    def watched_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        real_read = handle.read
        handle.read = lambda *a: reads.append(a) or real_read(*a)
        return handle

    import micrograd_it._params_json as params_json
    monkeypatch.setattr(params_json, "open", watched_open, raising=False)
    _refused(path, match="67,108,865 bytes")
    assert reads == []


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_load_of_an_endless_special_file_stops_at_the_limit():
    _refused("/dev/zero", match="more than")


@pytest.mark.parametrize("encoding, match", [("latin-1", "not UTF-8"), ("utf-16", "not UTF-8")])
def test_load_of_a_file_in_another_encoding_names_the_file(tmp_path, encoding, match):
    path = tmp_path / f"{encoding}.json"
    document = _saved_document(tmp_path)
    document["model"] = "réseau"
    path.write_bytes(json.dumps(document, ensure_ascii=False).encode(encoding))
    _refused(path, match=match)


def test_load_accepts_a_utf8_file_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_saved_document(tmp_path)).encode())
    assert MLP(2, [3, 1], seed=5).load(path).parameters()[0].data == MLP(2, [3, 1], seed=0).parameters()[0].data


@pytest.mark.parametrize("digits", [5000, 4000])
def test_load_of_a_very_long_integer_names_the_file_and_is_short(tmp_path, digits):
    document = _saved_document(tmp_path)
    text = json.dumps(document).replace('"layers.1.neurons.0.b": 0.0', '"layers.1.neurons.0.b": ' + "9" * digits)
    path = tmp_path / "digits.json"
    path.write_text(text)
    _refused(path, match="cannot be read|finite number")


def test_load_of_a_huge_unexpected_name_is_shortened(tmp_path):
    document = _saved_document(tmp_path)
    document["parameters"]["x" * 100_000] = 1.0
    path = tmp_path / "name.json"
    path.write_text(json.dumps(document))
    _refused(path, match="unexpected")


def test_load_of_a_missing_file_or_a_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nope.json"))):
        MLP(2, [3, 1]).load(tmp_path / "nope.json")
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        MLP(2, [3, 1]).load(tmp_path)


def test_an_interrupt_at_any_line_of_load_leaves_the_model_old_or_wholly_new(tmp_path):
    import micrograd_it._params_json as params_json

    path = MLP(2, [3, 1], seed=0).save(tmp_path / "a.json")
    new = [p.data for p in MLP(2, [3, 1], seed=0).parameters()]

    def load_interrupted_at(target, at_line):
        return interrupted_at_line(lambda: target.load(path), params_json, at_line)

    lines = load_interrupted_at(MLP(2, [3, 1], seed=5), 0)
    assert lines > 20
    for k in range(1, lines + 1):
        target = MLP(2, [3, 1], seed=5)
        old = [p.data for p in target.parameters()]
        load_interrupted_at(target, k)
        assert [p.data for p in target.parameters()] in (old, new), f"half loaded (line {k})"
