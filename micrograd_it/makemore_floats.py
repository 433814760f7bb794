"""The character MLP's training step on plain floats: the object engine's numbers, bit for bit, ~6x sooner.

    from micrograd_it.makemore_floats import batch_step
    model.zero_grad()
    loss, trace = batch_step(model, X, Y, indices)    # like: with model.trace() as trace:
                                                      #           loss = batch_loss(model, X, Y, indices)
                                                      #       loss.backward()
    # every parameter's .grad is filled in; trace.layers: the hidden and the output layer, as numbers

The study trains its CharMLP for hundreds of steps, and each step builds a
graph of ~120,000 Value nodes only to run backward() on it once. The graph's
wiring changes with the batch (which rows of C, which target, which largest
logit), so a recorded tape (micrograd_it.tape) cannot replay it. This module
computes the same step directly on floats, and -- what makes the numbers
identical rather than close -- in the same order as the engine:

- forward: each node's value with the same operation as its op in the
  catalogue (``x + y``, ``x * y``, and the tanh/exp/log rules themselves),
  in the same association as Neuron, softmax_cross_entropy and batch_loss;
- backward: a float sum depends on the order of its terms, so each
  gradient gets its contributions in the order the engine's backward()
  (Kahn's algorithm on a stack, micrograd_it/engine.py) visits the nodes.
  For batch_loss's graph that order is: the samples last to first; in a
  sample, the output neurons last to first, each down its chain of +
  (weights last to first); a hidden neuron as soon as the first output
  neuron has passed its gradient to it, hidden neurons last to first, each
  down its chain (inputs last to first).

Anything unusual -- a non-finite number anywhere, an op's error, anomaly
mode -- and the step is done again by the object engine, which then gives its
own result or raises its own error. tests/test_makemore_floats.py compares
losses, every gradient and the traces with the object engine's, bit for bit.

Why this twin is still here (issue 23 asked to delete it if the default study
trained on the engine stayed within 8 s): measured 2026-12-06 18:26 UTC with
``python benchmarks/study.py --engine`` (3 runs each, one other job on the
2-core machine), the default study took 13.0 s wall, 15.3 s CPU, 125 MB on
floats and 14.4 s wall, 17.8 s CPU (+16 %), 671 MB (5.4x) on the engine, with
identical outputs. Neither is within 8 s there; the engine costs 16 % more CPU
and 5.4x the memory. docs/performance.md has the runs.
"""

import math

from .engine import is_anomaly_enabled, is_grad_enabled
from .catalogue import CATALOGUE
from .makemore import batch_loss
from .trace import LayerTrace, Trace

__all__ = ["batch_step"]


def batch_step(model, X, Y, indices):
    """Forward and backward of ``batch_loss(model, X, Y, indices)``; return (loss as a float, Trace).

    Adds each parameter's gradient to its ``.grad`` (leaves accumulate, as in
    backward(): zero them first). The Trace is what ``model.trace()`` would
    have recorded, as numbers: its layers' preact, act, grad_out, grad_in,
    saturation and dead read the same, but there are no Values behind them
    (``act_nodes`` hold numbers), so graph pictures need the engine's trace.
    Raises what the object engine raises (ValueError for an empty batch,
    OverflowError...).
    """
    indices = list(indices)
    if not indices or is_anomaly_enabled() or not is_grad_enabled() or len(model.mlp.layers) != 2:
        return _by_engine(model, X, Y, indices)
    try:
        result = _floats(model, X, Y, indices)
    except (ArithmeticError, ValueError, IndexError, TypeError):
        result = None
    if result is None:  # not finite somewhere, or an op's error: the engine decides
        return _by_engine(model, X, Y, indices)
    loss, trace, grads = result
    for value, grad in grads:
        value.grad = grad
    return loss, trace


def _by_engine(model, X, Y, indices):
    with model.trace() as trace:
        loss = batch_loss(model, X, Y, indices)
    loss.backward()
    return loss.data, trace


def _floats(model, X, Y, indices):
    """The step on floats; returns (loss, Trace, [(parameter, new grad)]) or None if not finite."""
    tanh = CATALOGUE["tanh"].rule
    exp = CATALOGUE["exp"].rule
    log = CATALOGUE["log"].rule
    table = model.C.C
    dim = model.C.dim
    hidden_layer, out_layer = model.mlp.layers
    if hidden_layer.activation != "tanh" or out_layer.activation != "linear":
        raise ValueError("batch_step knows the tanh hidden layer and linear outputs of CharMLP only")
    hidden_neurons, out_neurons = hidden_layer.neurons, out_layer.neurons
    W1 = [[w.data for w in neuron.w] for neuron in hidden_neurons]
    B1 = [neuron.b.data for neuron in hidden_neurons]
    W2 = [[w.data for w in neuron.w] for neuron in out_neurons]
    B2 = [neuron.b.data for neuron in out_neurons]
    n_in = len(W1[0])
    C = [[value.data for value in row] for row in table]
    if any(len(X[i]) * dim != n_in for i in indices):
        raise ValueError("a context does not fit the hidden layer")

    # -- forward, sample by sample (the order of independent samples does not change any number)
    samples = []  # per sample: (flat C positions, x, preact, act, local, e_local, lg_local, target, z)
    losses = []
    for i in indices:
        context, target = X[i], Y[i]
        slots = [(row, column) for row in context for column in range(dim)]
        x = [C[row][column] for row, column in slots]
        preact_row, act_row, local_row = [], [], []
        for weights, bias in zip(W1, B1):
            preact = bias
            for w, xi in zip(weights, x):
                preact = preact + w * xi
            act, local = tanh(preact)
            preact_row.append(preact)
            act_row.append(act)
            local_row.append(local)
        z = []
        for weights, bias in zip(W2, B2):
            logit = bias
            for w, h in zip(weights, act_row):
                logit = logit + w * h
            z.append(logit)
        if not (0 <= target < len(z)) or not math.isfinite(sum(preact_row) + sum(z)):
            return None
        m = max(z)  # softmax_cross_entropy's constant
        total = None
        e_local = []
        for logit in z:
            e, local = exp(logit - m)
            e_local.append(local)
            total = e if total is None else total + e
        lg, lg_local = log(total)
        losses.append((lg + m) - z[target])
        samples.append((slots, x, preact_row, act_row, local_row, e_local, lg_local, target, z))
    total_loss = losses[0]
    for sample_loss in losses[1:]:
        total_loss = total_loss + sample_loss
    scale = 1.0 / len(losses)
    loss = total_loss * scale
    if not math.isfinite(loss):
        return None

    # -- backward, in the engine's order (module docstring)
    gW1 = [[w.grad for w in neuron.w] for neuron in hidden_neurons]
    gB1 = [neuron.b.grad for neuron in hidden_neurons]
    gW2 = [[w.grad for w in neuron.w] for neuron in out_neurons]
    gB2 = [neuron.b.grad for neuron in out_neurons]
    gC = [[value.grad for value in row] for row in table]
    grad_sample = 0.0 + 1.0 * (0.0 + scale * 1.0)  # root seeded with 1.0, through * (1/n) and the chain of +
    n_hidden, n_out = len(W1), len(W2)
    hidden_rev, out_rev, input_rev = range(n_hidden - 1, -1, -1), range(n_out - 1, -1, -1), range(n_in - 1, -1, -1)
    grad_out_rows, grad_in_rows, grad_z_rows = [None] * len(samples), [None] * len(samples), [None] * len(samples)
    for s in range(len(samples) - 1, -1, -1):
        slots, x, preact_row, act_row, local_row, e_local, lg_local, target, _ = samples[s]
        g_q = 0.0 + 1.0 * grad_sample  # (log(total) + m) - z[target]
        g_total = 0.0 + lg_local * (0.0 + 1.0 * g_q)
        g_z = [0.0 + 1.0 * (0.0 + local * (0.0 + 1.0 * g_total)) for local in e_local]
        g_z[target] = (0.0 + -1.0 * grad_sample) + 1.0 * (0.0 + e_local[target] * (0.0 + 1.0 * g_total))
        g_act = [0.0] * n_hidden
        for k in out_rev:
            g, weights, gw = g_z[k], W2[k], gW2[k]
            for j in hidden_rev:
                gw[j] += act_row[j] * g
                g_act[j] += weights[j] * g
            gB2[k] += 1.0 * g
        g_pre_row = [0.0 + local * g for local, g in zip(local_row, g_act)]
        for j in hidden_rev:
            g, weights, gw = g_pre_row[j], W1[j], gW1[j]
            gB1[j] += 1.0 * g
            for position in input_rev:
                gw[position] += x[position] * g
                row, column = slots[position]
                gC[row][column] += weights[position] * g
        grad_out_rows[s], grad_in_rows[s], grad_z_rows[s] = g_act, g_pre_row, g_z

    grads = []
    for neurons, gW, gB in ((hidden_neurons, gW1, gB1), (out_neurons, gW2, gB2)):
        for neuron, gw, gb in zip(neurons, gW, gB):
            grads.extend(zip(neuron.w, gw))
            grads.append((neuron.b, gb))
    for row, grow in zip(table, gC):
        grads.extend(zip(row, grow))
    if not math.isfinite(sum(grad for _, grad in grads)):  # backward()'s own test of the leaves
        return None
    # the names model.trace() gives the layers; the output layer is linear: its act is its preact
    logits = [sample[8] for sample in samples]
    trace = Trace.from_layers([
        LayerTrace.from_numbers("mlp.layers.0", "tanh", [sample[2] for sample in samples],
                                [sample[3] for sample in samples], grad_out_rows, grad_in_rows),
        LayerTrace.from_numbers("mlp.layers.1", "linear", logits, logits, grad_z_rows, grad_z_rows)])
    return loss, trace, grads

