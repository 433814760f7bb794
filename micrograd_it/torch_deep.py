"""The lecture's deep character MLP in PyTorch, at the lecture's size, traced with `trace_torch`.

    net = lecture_deep_net(gain=5/3, batchnorm=False)     # C 27 x 10, 5 x (Linear 100 -> Tanh), Linear 27
    run = diagnose_torch(net, Xtr, Ytr, steps=1000)        # the same record as micrograd_it.deep.diagnose

The parameters are drawn as the lecture draws them: one
``torch.Generator().manual_seed(2147483647)``, C = randn(27, 10), then each Linear's
weight randn(fan_in, fan_out) / sqrt(fan_in) in order (stored transposed in the
``nn.Linear``), biases 0, BatchNorm gamma 1 and beta 0; then, as the lecture's cell does,
every Linear but the last module of the stack times the gain, and the last module made
less confident (its weight, or its BatchNorm's gamma, times 0.1). Batches come from the
same generator (``torch.randint(0, n, (32,), generator=g)``), float32 as in the lecture.

BatchNorm is ``torch.nn.BatchNorm1d`` (biased variance in the normalisation; the lecture's
hand-written class divides by n - 1 there: 1.6% apart at batch 32). The tanh layers are
``nn.Tanh`` modules, which ``trace_torch(net)`` hooks: a layer per module, a row per sample.
"""

import math

from .deep_stats import SATURATION, activation_record, gradient_record, weight_record
from .torch_trace import trace_torch

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["LectureDeepNet", "lecture_deep_net", "diagnose_torch", "run_torch_config", "LECTURE_SEED"]

LECTURE_SEED = 2147483647  # the lecture's torch.Generator().manual_seed(...)


class LectureDeepNet(nn.Module):
    """C, then the lecture's ``layers`` list as an nn.Sequential (same indices as its printed lines)."""

    def __init__(self, C, layers):
        super().__init__()
        self.C = nn.Parameter(C)
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        """Return the logits of a batch of contexts X (batch x block_size indices)."""
        return self.layers(self.C[X].view(X.shape[0], -1))

    def weights(self):
        """Return [(name, shape as the lecture prints it (fan_in, fan_out), parameter)]: C, W1, W2, ..."""
        found = [("C", tuple(self.C.shape), self.C)]
        linears = [module for module in self.layers if isinstance(module, nn.Linear)]
        found += [(f"W{i}", (m.in_features, m.out_features), m.weight) for i, m in enumerate(linears, 1)]
        return found


def lecture_deep_net(gain=5 / 3, batchnorm=False, vocab_size=27, block_size=3, emb_dim=10, hidden=100, depth=5,
                     generator=None):
    """Return a LectureDeepNet drawn from `generator` (default: a new one seeded with LECTURE_SEED)."""
    g = generator if generator is not None else torch.Generator().manual_seed(LECTURE_SEED)
    C = torch.randn((vocab_size, emb_dim), generator=g)
    layers, width = [], block_size * emb_dim
    sizes = [hidden] * depth + [vocab_size]
    for index, size in enumerate(sizes):
        linear = nn.Linear(width, size, bias=not batchnorm)
        with torch.no_grad():
            linear.weight.copy_((torch.randn((width, size), generator=g) / math.sqrt(width)).T)
            if linear.bias is not None:
                linear.bias.zero_()
        layers.append(linear)
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        if index < depth:
            layers.append(nn.Tanh())
        width = size
    with torch.no_grad():
        layers[-1].weight.mul_(0.1)  # the last Linear's weight, or the last BatchNorm1d's gamma (its .weight)
        for module in layers[:-1]:
            if isinstance(module, nn.Linear):
                module.weight.mul_(gain)
    return LectureDeepNet(C, layers)


def _snapshot(net, trace, loss):
    """The deep_stats records of a traced forward and backward, as micrograd_it.deep.snapshot makes them."""
    index_of = {name: int(name) for name, _ in net.layers.named_children()}
    activations, gradients = [], []
    for layer in trace.layers:
        index = index_of[layer.name.split(".")[-1]]
        activations.append(activation_record(index, "Tanh", layer.act.reshape(-1).tolist(), SATURATION))
        gradients.append(gradient_record(index, "Tanh", layer.grad_out.reshape(-1).tolist()))
    weights = [weight_record(name, shape, p.detach().reshape(-1).tolist(), p.grad.reshape(-1).tolist())
               for name, shape, p in net.weights()]
    return {"loss": loss, "activations": activations, "gradients": gradients, "weights": weights}


def diagnose_torch(net, X, Y, steps=1000, batch=32, lr=0.1, generator=None, on_step=None):
    """Train `net` `steps` SGD steps on batches of (X, Y) (tensors) drawn from `generator` (default: the
    lecture's seed, a new generator) and return the record of micrograd_it.deep.diagnose: "init",
    "final", "losses", "update_ratio" {weight name: [log10 ratio per step]}."""
    g = generator if generator is not None else torch.Generator().manual_seed(LECTURE_SEED)
    params = list(net.parameters())
    weights = net.weights()
    result = {"init": None, "final": None, "losses": [], "update_ratio": {name: [] for name, _, _ in weights}}
    net.train()
    for step in range(steps):
        ix = torch.randint(0, X.shape[0], (batch,), generator=g)
        for p in params:
            p.grad = None
        traced = step in (0, steps - 1)
        if traced:
            with trace_torch(net) as trace:
                loss = F.cross_entropy(net(X[ix]), Y[ix])
                loss.backward()
            record = _snapshot(net, trace, loss.item())
        else:
            loss = F.cross_entropy(net(X[ix]), Y[ix])
            loss.backward()
        result["losses"].append(loss.item())
        if step == 0:
            result["init"] = record
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        if traced and step == steps - 1:
            result["final"] = record
        with torch.no_grad():
            for name, _, p in weights:
                grad_std, data_std = p.grad.std().item(), p.std().item()
                ratio = math.log10(lr * grad_std / data_std) if grad_std > 0 and data_std > 0 else None
                result["update_ratio"][name].append(ratio)
        if on_step is not None:
            on_step(step)
    return result



def run_torch_config(config, X, Y, steps=1000, batch=32, lr=0.1, on_step=None):
    """Build the lecture's net of `config` (an entry of micrograd_it.deep_sweep.CONFIGS), at the lecture's size,
    and return its `diagnose_torch` record with "key", "title", "gain", "batchnorm" and the sizes added.

    `X`, `Y`: tensors of the training contexts and targets. Each configuration starts from a new
    generator seeded as the lecture's, so every one draws the same numbers before its scaling.
    """
    key, title, gain, batchnorm = config
    net = lecture_deep_net(gain=gain, batchnorm=batchnorm)
    run = diagnose_torch(net, X, Y, steps=steps, batch=batch, lr=lr, on_step=on_step)
    run.update(key=key, title=title, gain=gain, batchnorm=batchnorm,
               size={"hidden": 100, "depth": 5, "emb_dim": 10, "batch": batch, "steps": steps, "lr": lr})
    return run
