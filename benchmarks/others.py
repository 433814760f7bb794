"""Workloads besides W1: the deep chain, the node-build rate and memory, and the seed's layer.

Every function imports only its own engine and returns a dict of numbers
(milliseconds, bytes...) for one sample; a RecursionError is reported by
sample.py, not hidden.
"""

import time
import tracemalloc

from problems import SEED_CONTEXT, micrograd_tanh, seed_problem


def _value_class(engine):
    if engine == "micrograd":
        from micrograd.engine import Value

        return Value, micrograd_tanh(Value)
    from micrograd_it import Value
    return Value, Value.tanh


def chain(engine, nodes):
    """Build a chain of `nodes` op nodes, x -> tanh(x * w + c) repeated, then run backward; time both."""
    Value, tanh = _value_class(engine)
    w, c = Value(0.9), Value(0.1)
    node = x = Value(0.5)
    start = time.perf_counter()
    for _ in range(nodes // 3):
        node = tanh(node * w + c)
    build = time.perf_counter() - start
    start = time.perf_counter()
    node.backward()
    backward = time.perf_counter() - start
    return {"build_ms": build * 1e3, "backward_ms": backward * 1e3, "backward/build": backward / build,
            "grad": x.grad}


def build_rate(engine, products=100_000):
    """Build sum(w_i * x_i) over `products` pairs: op nodes per second (2 nodes per product)."""
    Value, _ = _value_class(engine)
    ws = [Value(0.001 * (i % 100)) for i in range(products)]
    xs = [Value(0.5) for _ in range(products)]
    start = time.perf_counter()
    total = sum((w * x for w, x in zip(ws, xs)), Value(0.0))
    seconds = time.perf_counter() - start
    return {"build_ms": seconds * 1e3, "nodes_per_s": 2 * products / seconds, "root": total.data}


def memory(engine, products=100_000):
    """Bytes per op node (tracemalloc) while the sum of `products` products is alive."""
    Value, _ = _value_class(engine)
    ws = [Value(0.001 * (i % 100)) for i in range(products)]
    xs = [Value(0.5) for _ in range(products)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    total = sum((w * x for w, x in zip(ws, xs)), Value(0.0))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"bytes_per_node": (after - before) / (2 * products), "root": total.data}


# -- the seed's layer: 32 samples x 200 tanh neurons, 30 inputs from an embedding ---------------

def _seed_values(engine):
    """Return (loss_of, parameter lists) built with the engine's Values from the shared numbers."""
    Value, tanh = _value_class(engine)
    C_numbers, W_numbers, B_numbers, contexts = seed_problem()
    C = [[Value(v) for v in row] for row in C_numbers]
    W = [[Value(v) for v in row] for row in W_numbers]
    B = [Value(v) for v in B_numbers]

    def loss_of():
        # Summed per sample, then over samples: the graph stays ~270 nodes deep,
        # which micrograd's recursive backward can handle (one long sum could not).
        per_sample = []
        for context in contexts:
            x = [value for index in context for value in C[index]]
            acts = [tanh(sum((wi * xi for wi, xi in zip(w, x)), b)) for w, b in zip(W, B)]
            per_sample.append(sum(acts, Value(0.0)))
        return sum(per_sample, Value(0.0))
    return loss_of, [v for row in W for v in row] + B + [v for row in C for v in row]


def seed_layer(engine):
    """One forward + backward of the seed's layer (loss = sum of every tanh output, sample by sample)."""
    if engine == "numpy by hand":
        return _seed_numpy()
    if engine.startswith("tape"):
        return _seed_tape("numpy" if "numpy" in engine else "python")
    loss_of, params = _seed_values(engine)
    start = time.perf_counter()
    loss = loss_of()
    loss.backward()
    seconds = time.perf_counter() - start
    return {"ms": seconds * 1e3, "loss": loss.data, "grads": [p.grad for p in params]}


def _seed_tape(backend):
    from micrograd_it.tape import record

    loss_of, params = _seed_values("micrograd_it")
    start = time.perf_counter()
    tape = record(loss_of(), params, backend=backend)
    recorded = time.perf_counter() - start
    start = time.perf_counter()
    loss = tape.forward()
    grads = tape.backward()
    seconds = time.perf_counter() - start
    return {"ms": seconds * 1e3, "record_ms": recorded * 1e3, "loss": loss, "grads": [float(g) for g in grads]}


def _seed_numpy():
    import numpy as np

    C_numbers, W_numbers, B_numbers, contexts = seed_problem()
    C, W, B, index = np.array(C_numbers), np.array(W_numbers), np.array(B_numbers), np.array(contexts)
    start = time.perf_counter()
    x = C[index].reshape(len(contexts), -1)
    act = np.tanh(x @ W.T + B)
    loss = act.sum()
    grad_preact = 1 - act**2
    grad_W, grad_B = grad_preact.T @ x, grad_preact.sum(axis=0)
    grad_C = np.zeros_like(C)
    np.add.at(grad_C, index, (grad_preact @ W).reshape(len(contexts), SEED_CONTEXT, -1))
    seconds = time.perf_counter() - start
    grads = grad_W.ravel().tolist() + grad_B.tolist() + grad_C.ravel().tolist()
    return {"ms": seconds * 1e3, "loss": float(loss), "grads": grads}
