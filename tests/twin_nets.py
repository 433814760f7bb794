"""The same small MLP twice: in micrograd_it.nn and in PyTorch (float64, the same weights), traced on the same data.

Used by the torch tracing, recorder and viz tests to compare our traces with torch's number by number.
"""

import torch

from micrograd_it.losses import mse
from micrograd_it.nn import MLP
from micrograd_it.torch_trace import trace_torch

X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-0.7, 0.9, 0.1], [0.0, 2.0, -1.5], [3.0, -2.5, 0.75]]
Y = [[1.0, -1.0], [-1.0, 0.5], [0.5, 0.0], [0.0, 0.25], [-0.5, 1.0]]

# Our activation -> the torch module computing the same function (the engine's constants).
TORCH_ACTIVATIONS = {
    "tanh": lambda: torch.nn.Tanh(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "relu": lambda: torch.nn.ReLU(),
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "elu": lambda: torch.nn.ELU(alpha=1.0),
    "gelu": lambda: torch.nn.GELU(approximate="tanh"),
}


def our_mlp(activation, widths=(4, 3, 2), init=2.0, seed=3):
    return MLP(3, list(widths), activation=activation, init=init, seed=seed)


def torch_twin(net):
    """nn.Sequential(Linear, activation, ..., Linear) in float64 holding `net`'s weights."""
    modules = []
    for index, layer in enumerate(net.layers):
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([neuron.b.data for neuron in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if index < len(net.layers) - 1:
            modules.append(TORCH_ACTIVATIONS[layer.activation]())
    return torch.nn.Sequential(*modules)


def our_trace(net):
    """Trace `net` on X (one call per sample), loss = mse of every output, backward; return the Trace."""
    net.zero_grad()
    with net.trace() as tr:
        outs = [net(x) for x in X]
        loss = mse([o for out in outs for o in out], [y for row in Y for y in row])
    loss.backward()
    return tr


def torch_trace(model):
    """The same forward, loss and backward in torch; return the TorchTrace."""
    model.zero_grad()
    with trace_torch(model) as tr:
        out = model(torch.tensor(X, dtype=torch.float64))
        loss = ((out - torch.tensor(Y, dtype=torch.float64)) ** 2).mean()
        loss.backward()
    return tr


def twin_traces(activation, **kwargs):
    """(our Trace, the TorchTrace) of the same MLP on the same data."""
    net = our_mlp(activation, **kwargs)
    return our_trace(net), torch_trace(torch_twin(net))
