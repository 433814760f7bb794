"""Print, as JSON, every number the engine computes in a fixed battery (run by tests/test_compiled.py).

The battery: each op of the catalogue (each of its test cases) at 40 inputs
drawn with a fixed seed from the op's domains, its value, its inputs' grads
after backward() and the central differences of gradcheck; then a W1
training run (MLP [2, 16, 16, 1] tanh, batch 64, 3 steps of forward,
backward and SGD): its losses and every gradient and weight. Floats are
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


def main():
    rng = random.Random(15)
    print(json.dumps({"compiled": micrograd_it.COMPILED, "reason": micrograd_it.COMPILED_REASON}))
    print(json.dumps({"ops": op_battery(rng), "w1": w1_run(rng)}))


if __name__ == "__main__":
    sys.exit(main())
