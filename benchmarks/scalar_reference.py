"""A minimal scalar Value in the style microgpt's users know, written here as the reference to beat.

Its surface is the one microgpt-shaped programs use: ``Value(data, children, local_grads)``,
``__slots__`` holding ``data``, ``grad``, ``_children`` and ``_local_grads``; the ops
``+ * ** log exp relu`` store their local derivatives at the forward pass; ``-`` and ``/``
and the reflected forms are built from them (``a / b`` is ``a * b**-1``); ``backward()``
sorts the graph with a recursive depth-first walk. Nothing else: no checks, no modes.

The benchmark runs the GPT lesson's training step on it and on our engine in the same rounds
(benchmarks/gpt.py), and the compatibility tests compare our engine's numbers with it.
"""

import math


class Value:
    """A scalar node: data, grad, the Values it was made from and d(self)/d(child) for each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent):
        return Value(self.data ** exponent, (self,), (exponent * self.data ** (exponent - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        out = math.exp(self.data)
        return Value(out, (self,), (out,))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t**2,))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        order, seen = [], set()

        def visit(node):  # recursive, as in the programs this stands for: deep graphs need a high limit
            if node not in seen:
                seen.add(node)
                for child in node._children:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1
        for node in reversed(order):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad
