"""Level-batched replay with numpy: the tape of `micrograd_it.tape`, one numpy call per group of nodes.

A node's *level* is the length of the longest path from a leaf to it, so all
nodes of a level depend only on lower levels and can be computed together.
`NumpyTape` numbers the nodes level by level and, within a level, op by op,
so that each (level, op) group is one contiguous slice of the value array:
a group's forward is a gather of its inputs, one vectorised rule, and a slice
assignment. Backward walks the levels downwards; each level's chain-rule step
``child.grad += local * out.grad`` is one multiply and one ``np.bincount``
(which adds up the contributions of a child used several times).

Each group runs its op's vectorised form from the catalogue
(`micrograd_it.ops`, written beside the scalar rule; tests/test_tape.py
checks that the two agree). Use it through
``record(root, inputs, backend="numpy")``. Results equal the
object engine's to rounding (numpy's tanh/exp and the order of additions may
differ in the last bit); tests/test_tape.py checks 1e-12 relative.
"""

import numpy as np

from .catalogue import CATALOGUE
from .engine import AnomalyError
from .tape import _number, check_inputs, check_replayable, topological_order

__all__ = ["NumpyTape", "TAPE"]


def _levels(nodes):
    """Return each node's level (0 for leaves, else 1 + the highest level among its children)."""
    level = {}
    for node in nodes:
        level[node] = 1 + max(level[child] for child in node.children) if not node.is_leaf else 0
    return level


class NumpyTape:
    """A recorded graph replayed level by level with numpy; same interface as `micrograd_it.tape.Tape`."""

    def __init__(self, root, inputs=()):
        order = topological_order(root)
        check_replayable(order)
        level = _levels(order)
        key = {node: (level[node], node.op, node.op_params) for node in order}
        # Leaves first, then op nodes grouped by (level, op, params); sorted() is stable.
        self.nodes = sorted(order, key=lambda node: (level[node], node.op, str(node.op_params)))
        self.inputs = check_inputs(inputs)
        index = {node: i for i, node in enumerate(self.nodes)}
        self._root = index[root]
        self._input_positions = np.array([index.get(value, -1) for value in self.inputs], dtype=np.intp)
        self._data = np.array([node.data for node in self.nodes], dtype=float)
        self._leaves = sum(1 for node in self.nodes if node.is_leaf)  # they come first
        self._groups, self._levels = self._plan(index, key)
        self._local = np.zeros(sum(len(group[2]) + len(group[3]) for group in self._groups))
        self._grad = None
        self._ready = False  # backward needs the local derivatives of a forward()
        self._constants_written = False

    def _plan(self, index, key):
        """Return the forward groups (op, start, x, y, params, local_start) and backward levels."""
        groups, levels = [], []
        start, edge = 0, 0
        while start < len(self.nodes) and self.nodes[start].is_leaf:
            start += 1
        while start < len(self.nodes):
            end = start
            while end < len(self.nodes) and key[self.nodes[end]] == key[self.nodes[start]]:
                end += 1
            members = self.nodes[start:end]
            x = np.array([index[node.children[0]] for node in members], dtype=np.intp)
            binary = len(members[0].children) == 2
            y = np.array([index[node.children[1]] for node in members] if binary else [], dtype=np.intp)
            groups.append((CATALOGUE[members[0].op], start, x, y, members[0].op_params, edge))
            edge += len(x) + len(y)
            start = end
        for op, start, x, y, params, local_start in groups:
            outs = np.arange(start, start + len(x), dtype=np.intp)
            level = key[self.nodes[start]][0]
            if not levels or levels[-1][0] != level:
                levels.append([level, [], [], local_start])
            levels[-1][1].extend([outs, outs[: len(y)]])
            levels[-1][2].extend([x, y])
        planned = []
        for level, outs, children, local_start in levels:
            outs, children = np.concatenate(outs), np.concatenate(children)
            targets, slots = np.unique(children, return_inverse=True)
            if len(targets) == len(children):  # every child used once: add directly, no bincount
                targets, slots = children, None
            planned.append((outs, targets, slots, local_start, local_start + len(outs)))
        return groups, planned[::-1]

    def __len__(self):
        return len(self.nodes)

    def forward(self, values=None):
        """Replay the forward pass; return the root's new value (a float).

        `values`: one number per input (a sequence or array; default: the
        inputs' current ``.data``). Raises ValueError for a wrong count or a
        non-finite value, the op's error when a value leaves its domain, and
        OverflowError when a value or local derivative overflows.
        """
        data, local = self._data, self._local
        new = np.array([v.data for v in self.inputs] if values is None else values, dtype=float)
        if new.shape != (len(self.inputs),):
            raise ValueError(f"forward() needs {len(self.inputs)} values (one per input), got shape {new.shape}")
        if not np.isfinite(new).all():
            raise ValueError(f"forward() values must be finite, got {new[~np.isfinite(new)][0]!r}")
        known = self._input_positions >= 0
        data[self._input_positions[known]] = new[known]
        self._ready = False
        with np.errstate(all="ignore"):  # overflow is reported below, naming the op
            for op, start, x, y, params, local_start in self._groups:
                end = start + len(x)
                try:
                    if len(y):
                        out, dx, dy = op.on_arrays(np, data[x], data[y])
                    else:
                        out, dx = op.on_arrays(np, data[x], *params)
                except (ArithmeticError, ValueError) as error:
                    raise type(error)(f"replay of op '{self.nodes[start]._op}': {error}") from None
                data[start:end] = out
                # A derivative that is a plain float (1.0 for "+") never changes: write it once.
                if type(dx) is not float or not self._constants_written:
                    local[local_start:local_start + len(x)] = dx
                if len(y) and (type(dy) is not float or not self._constants_written):
                    local[local_start + len(x):local_start + 2 * len(x)] = dy
        if not (np.isfinite(data).all() and np.isfinite(local).all()):
            self._raise_non_finite()
        self._grad = None
        self._ready = self._constants_written = True
        return float(data[self._root])

    def backward(self, grad=1.0):
        """Replay backward from the root (seeded with `grad`); return a numpy array of d root / d input.

        Raises RuntimeError before the first successful `forward`, ValueError
        for a seed that is not finite, and AnomalyError naming the op when a
        gradient becomes NaN or infinite (a refused backward changes nothing).
        """
        if not self._ready:
            raise RuntimeError("backward() needs a forward() first: it uses the local derivatives forward computes")
        grad = _number(grad, "backward(grad)")
        grads = np.zeros(len(self.nodes))
        grads[self._root] = grad
        local = self._local
        with np.errstate(all="ignore"):  # a non-finite gradient is reported below, naming the op
            for outs, targets, slots, local_start, local_end in self._levels:
                # chain rule: child.grad += local * out.grad, summed over every use of the child
                contributions = local[local_start:local_end] * grads[outs]
                if slots is not None:
                    contributions = np.bincount(slots, weights=contributions, minlength=len(targets))
                grads[targets] += contributions
        # NaN and infinity stick to every gradient they flow into, down to the leaves (the first nodes).
        if not np.isfinite(grads[:self._leaves]).all():
            self._raise_non_finite_gradient(grad)
        self._grad = grads
        known = self._input_positions >= 0
        result = np.zeros(len(self.inputs))
        result[known] = grads[self._input_positions[known]]
        return result

    def write_back(self):
        """Copy the last replay's values (and gradients, after `backward`) into the recorded Values."""
        for node, number in zip(self.nodes, self._data.tolist()):
            node.data = number
        if self._grad is not None:
            for node, g in zip(self.nodes, self._grad.tolist()):
                if node.is_leaf:
                    node.grad += g
                else:
                    node.grad = g

    def _raise_non_finite_gradient(self, grad):
        """Run backward again level by level; raise AnomalyError at the first level that makes a non-finite gradient."""
        grads = np.zeros(len(self.nodes))
        grads[self._root] = grad
        with np.errstate(all="ignore"):
            for outs, targets, slots, local_start, local_end in self._levels:
                local = self._local[local_start:local_end]
                terms = local * grads[outs]
                bad = np.flatnonzero(~np.isfinite(terms))
                summed = terms if slots is None else np.bincount(slots, weights=terms, minlength=len(targets))
                grads[targets] += summed
                if not len(bad):
                    overflowed = np.flatnonzero(~np.isfinite(grads[targets]))
                    if not len(overflowed):
                        continue
                    # finite terms whose sum overflows: name one consumer of that node
                    child = targets[overflowed[0]]
                    bad = np.flatnonzero(targets == child if slots is None else slots == overflowed[0])
                k = bad[0]
                out = outs[k]
                child = targets[k] if slots is None else targets[slots[k]]
                raise AnomalyError(
                    f"replay backward of op '{self.nodes[out]._op}' at node {out} produced gradient "
                    f"{float(grads[child])!r} for its input, node {child} (data={float(self._data[child])!r}); "
                    f"local derivative {float(local[k])!r}, gradient arriving {float(grads[out])!r}")

    def _raise_non_finite(self):
        for op, start, x, y, params, local_start in self._groups:
            end = start + len(x)
            width = end - start
            span = self._local[local_start:local_start + width * (2 if len(y) else 1)]
            if not (np.isfinite(self._data[start:end]).all() and np.isfinite(span).all()):
                raise OverflowError(f"replay of op '{self.nodes[start]._op}' gave a non-finite value"
                                    " or local derivative")


TAPE = NumpyTape  # what record(backend="numpy") builds
