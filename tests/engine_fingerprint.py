"""Print, as JSON, every number the engine computes in a fixed battery (run by tests/test_compiled.py).

The battery: each op of the catalogue (each of its test cases) at 40 inputs
drawn with a fixed seed from the op's domains, its value, its inputs' grads
after backward() and the central differences of gradcheck; then a W1
training run (MLP [2, 16, 16, 1] tanh, batch 64, 3 steps of forward,
backward and SGD): its losses and every gradient and weight; the operators
+ - * themselves between Values and floats (the compiled build runs them in C,
micrograd_it/_nodes.c), at ordinary and awkward numbers; and three steps of the
GPT lesson (forward, backward, Adam): its losses and every weight. Floats are
printed with float.hex, so two runs agree only when they agree bit for bit.
The first line of output names the engine that ran (compiled or pure).
"""

import json
import random
import sys

import micrograd_it
from micrograd_it import MLP, SGD, Value, central_difference
from micrograd_it.catalogue import CATALOGUE
from micrograd_it.testing import KINK_MARGIN, POLE_MARGIN


def _draw(rng, domain):
    """A float in the domain, away from its kinks and poles (rejection sampling)."""
    while True:
        x = rng.uniform(domain.low, domain.high)
        if all(abs(x - k) > KINK_MARGIN for k in domain.kinks) and all(abs(x - p) > POLE_MARGIN for p in domain.poles):
            return x


def op_battery(rng, draws=40):
    numbers = {}
    for definition in CATALOGUE.values():
        for case, param in definition.examples.items():
            rows = []
            for _ in range(draws):
                inputs = [Value(_draw(rng, domain)) for domain in definition.domains(param)]

                def apply(*values):
                    method = getattr(values[0], definition.method)
                    return method(*values[1:]) if param is None else method(param)

                out = apply(*inputs)
                out.backward()
                row = [out.data] + [value.grad for value in inputs]
                row += [central_difference(apply, inputs, index) for index in range(len(inputs))]
                rows.append([number.hex() for number in row])
            numbers[case] = rows
    return numbers


def w1_run(rng, steps=3, batch=64):
    net = MLP(2, [16, 16, 1], activation="tanh", seed=7)
    data = [[rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)] for _ in range(batch)]
    targets = [rng.choice([-1.0, 1.0]) for _ in range(batch)]
    optimizer = SGD(net.parameters(), lr=0.05)
    record = []
    for _ in range(steps):
        loss = sum(((net(x) - y) ** 2 for x, y in zip(data, targets)), Value(0.0))
        net.zero_grad()
        loss.backward()
        record.append([loss.data] + [p.grad for p in net.parameters()])
        optimizer.step()
        record.append([p.data for p in net.parameters()])
    return [[number.hex() for number in row] for row in record]


# -113.0: mypyc's marker for an undefined float field; signed zeros; a subnormal; huge numbers
AWKWARD = [-113.0, 0.0, -0.0, 5e-324, 1e300, -1e300, 1.0, 3.0]


def operator_battery(rng, draws=60):
    """`a op b`, `a op y` and `x op b` for + - *: each result's value, local derivatives and grads."""
    rows = []
    for _ in range(draws):
        x = rng.choice(AWKWARD) if rng.random() < 0.3 else rng.uniform(-5.0, 5.0)
        y = rng.choice(AWKWARD) if rng.random() < 0.3 else rng.uniform(-5.0, 5.0)
        for make in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a + y,
                     lambda a, b: x - b, lambda a, b: x * b, lambda a, b: a * 3 - 2):
            a, b = Value(x), Value(y)
            try:
                out = make(a, b)
            except OverflowError as error:
                rows.append(["OverflowError", str(error)])
                continue
            out.backward()
            rows.append([number.hex() for number in (out.data, a.grad, b.grad, *out.local_grads)])
    return rows


def gpt_run(steps=3):
    from micrograd_it.data import SHORT_NAMES
    from micrograd_it.gpt import GPT
    from micrograd_it.gpt_train import encode_names, train

    _, itos, docs = encode_names(SHORT_NAMES[:50])
    model = GPT(len(itos), seed=3)
    losses = [entry["loss"] for entry in train(model, docs, steps=steps, seed=3)]
    return [number.hex() for number in losses + [p.data for p in model.parameters()]]


def main():
    rng = random.Random(15)
    print(json.dumps({"compiled": micrograd_it.COMPILED, "reason": micrograd_it.COMPILED_REASON}))
    print(json.dumps({"ops": op_battery(rng), "w1": w1_run(rng), "operators": operator_battery(rng),
                      "gpt": gpt_run()}))


if __name__ == "__main__":
    sys.exit(main())
