"""Workload W1: MLP [2, 16, 16, 1], tanh, batch of samples, loss = sum (pred - y)^2, one SGD step.

One function per engine; each imports only its own engine (the sample runs in
a fresh process) and returns ``(step, grads)``: ``step()`` runs forward,
backward and the SGD update; ``grads()`` returns (loss, gradients in the order
of `problems.flat_parameters`) at the starting weights, for the cross-check.
"""

import math

from problems import LEARNING_RATE, flat_parameters, micrograd_tanh, w1_problem


def micrograd(batch):
    """Karpathy's micrograd 0.1.0: its MLP, with tanh added in micrograd's style as a separate function."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    tanh = micrograd_tanh(Value)

    def neuron(n, x):  # micrograd's Neuron.__call__, with tanh instead of relu
        act = sum((wi * xi for wi, xi in zip(n.w, x)), n.b)
        return tanh(act) if n.nonlin else act

    def forward(net, x):
        for layer in net.layers:
            x = [neuron(n, x) for n in layer.neurons]
        return x[0]

    layers, X, Y = w1_problem(batch)
    net = MLP(2, [16, 16, 1])
    for p, number in zip(net.parameters(), flat_parameters(layers)):
        p.data = number
    params = net.parameters()

    def loss_and_backward():
        loss = sum(((forward(net, x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0))
        net.zero_grad()
        loss.backward()
        return loss
    return _sgd_loop(loss_and_backward, params)


def _sgd_loop(loss_and_backward, params):
    """Return (step, grads) for an object engine: `loss_and_backward()` builds the loss and fills the grads."""
    def step():
        loss_and_backward()
        for p in params:
            p.data -= LEARNING_RATE * p.grad

    def grads():
        return loss_and_backward().data, [p.grad for p in params]
    return step, grads


def _our_net(batch):
    from micrograd_it import Value
    from micrograd_it.nn import MLP

    layers, X, Y = w1_problem(batch)
    net = MLP(2, [16, 16, 1], activation="tanh")
    for p, number in zip(net.parameters(), flat_parameters(layers)):
        p.data = number

    def loss_of():
        return sum(((net(x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0))
    return net, loss_of


def micrograd_it(batch, traced=False):
    """Our object engine with our MLP (``traced=True``: every step inside ``net.trace()``)."""
    net, loss_of = _our_net(batch)
    params = net.parameters()

    def loss_and_backward():
        if traced:
            with net.trace():
                loss = loss_of()
        else:
            loss = loss_of()
        net.zero_grad()
        loss.backward()
        return loss
    return _sgd_loop(loss_and_backward, params)


def micrograd_it_gc_paused(batch):
    """`micrograd_it` with each step inside ``micrograd_it.gc_paused()`` (the cyclic collector off)."""
    from micrograd_it import gc_paused

    step, grads = micrograd_it(batch)

    def paused_step():
        with gc_paused():
            step()
    return paused_step, grads


def micrograd_it_traced(batch):
    """`micrograd_it` with tracing on: the cost of recording every layer's preact/act."""
    return micrograd_it(batch, traced=True)


def _tape(batch, backend):
    from micrograd_it.tape import record

    net, loss_of = _our_net(batch)
    params = net.parameters()
    tape = record(loss_of(), params, backend=backend)
    values = [p.data for p in params]
    if backend == "numpy":
        import numpy as np
        values = np.array(values)

    def step():
        nonlocal values
        tape.forward(values)
        gradients = tape.backward()
        if backend == "numpy":
            values -= LEARNING_RATE * gradients
        else:
            values = [v - LEARNING_RATE * g for v, g in zip(values, gradients)]

    def grads():
        loss = tape.forward([p.data for p in params])
        return loss, [float(g) for g in tape.backward()]
    return step, grads


def tape_python(batch):
    """Compiled replay, standard-library tape (recorded once, outside the timing)."""
    return _tape(batch, "python")


def tape_numpy(batch):
    """Compiled replay, level-batched with numpy."""
    return _tape(batch, "numpy")


def floats(batch):
    """The pure-Python floor: forward and backward written by hand on floats, no graph."""
    layers, X, Y = w1_problem(batch)
    layers = [[(list(w), b) for w, b in layer] for layer in layers]
    last = len(layers) - 1

    def loss_and_grads():
        grads = [[([0.0] * len(w), [0.0]) for w, b in layer] for layer in layers]
        total = 0.0
        for x, y in zip(X, Y):
            inputs = [x]
            for l, layer in enumerate(layers):
                acts = []
                for w, b in layer:
                    preact = b
                    for wi, xi in zip(w, inputs[-1]):
                        preact += wi * xi
                    acts.append(math.tanh(preact) if l < last else preact)
                inputs.append(acts)
            error = inputs[-1][0] - y
            total += error * error
            grad_out = [2.0 * error]
            for l in range(last, -1, -1):
                acts, below = inputs[l + 1], inputs[l]
                grad_below = [0.0] * len(below)
                for j, (w, b) in enumerate(layers[l]):
                    grad_pre = grad_out[j] * (1 - acts[j] ** 2 if l < last else 1.0)
                    gw, gb = grads[l][j]
                    gb[0] += grad_pre
                    for i, xi in enumerate(below):
                        gw[i] += grad_pre * xi
                        grad_below[i] += grad_pre * w[i]
                grad_out = grad_below
        return total, grads

    def step():
        _, grads = loss_and_grads()
        for layer, layer_grads in zip(layers, grads):
            for j, ((w, b), (gw, gb)) in enumerate(zip(layer, layer_grads)):
                layer[j] = ([wi - LEARNING_RATE * g for wi, g in zip(w, gw)], b - LEARNING_RATE * gb[0])

    def grads():
        total, grads = loss_and_grads()
        return total, [g for layer in grads for gw, gb in layer for g in gw + gb]
    return step, grads


def numpy_batched(batch):
    """The numpy floor: the whole batch as matrices, forward and backward by hand."""
    import numpy as np

    layers, X, Y = w1_problem(batch)
    Ws = [np.array([w for w, b in layer]) for layer in layers]
    Bs = [np.array([b for w, b in layer]) for layer in layers]
    X, Y = np.array(X), np.array(Y)

    def loss_and_grads():
        acts = [X]
        for l, (W, B) in enumerate(zip(Ws, Bs)):
            preact = acts[-1] @ W.T + B
            acts.append(np.tanh(preact) if l < len(Ws) - 1 else preact)
        error = acts[-1][:, 0] - Y
        grad = (2.0 * error)[:, None]
        gWs, gBs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws) - 1, -1, -1):
            if l < len(Ws) - 1:
                grad = grad * (1 - acts[l + 1] ** 2)
            gWs[l], gBs[l] = grad.T @ acts[l], grad.sum(axis=0)
            grad = grad @ Ws[l]
        return float((error**2).sum()), gWs, gBs

    def step():
        _, gWs, gBs = loss_and_grads()
        for W, B, gW, gB in zip(Ws, Bs, gWs, gBs):
            W -= LEARNING_RATE * gW
            B -= LEARNING_RATE * gB

    def grads():
        total, gWs, gBs = loss_and_grads()
        flat = []
        for gW, gB in zip(gWs, gBs):
            for row, b in zip(gW.tolist(), gB.tolist()):
                flat.extend(row + [b])
        return total, flat
    return step, grads


def torch_scalars(batch):
    """PyTorch with every scalar a 0-d float64 tensor (the way a scalar engine uses it)."""
    import torch

    layers, X, Y = w1_problem(batch)
    net = [[([torch.tensor(wi, dtype=torch.float64, requires_grad=True) for wi in w],
             torch.tensor(b, dtype=torch.float64, requires_grad=True)) for w, b in layer] for layer in layers]
    params = [p for layer in net for w, b in layer for p in w + [b]]
    last = len(net) - 1

    def loss_and_backward():
        total = torch.tensor(0.0, dtype=torch.float64)
        for x, y in zip(X, Y):
            for l, layer in enumerate(net):
                x = [(sum((wi * xi for wi, xi in zip(w, x)), b)) for w, b in layer]
                x = [a.tanh() for a in x] if l < last else x
            total = total + (x[0] - y) ** 2
        for p in params:
            p.grad = None
        total.backward()
        return total

    def step():
        loss_and_backward()
        with torch.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad

    def grads():
        return float(loss_and_backward().detach()), [float(p.grad) for p in params]
    return step, grads


ENGINES = {
    "micrograd": micrograd,
    "micrograd_it": micrograd_it,
    "micrograd_it gc paused": micrograd_it_gc_paused,
    "micrograd_it traced": micrograd_it_traced,
    "tape (python)": tape_python,
    "tape (numpy)": tape_numpy,
    "floats by hand": floats,
    "numpy by hand": numpy_batched,
    "torch 0-d": torch_scalars,
}
