"""Workload GPT: the GPT lesson's full training step (forward over one name, backward, Adam) on each Value.

The same model code (micrograd_it/gpt.py, built with ``value=`` the engine's class) and the same
Adam (micrograd_it/optim.py) run on our engine and on the microgpt-style reference Value
(scalar_reference.py, written here); only the Value class differs. The names come from makemore's
data set in one fixed shuffled order, so every engine trains on the same names in the same steps.

Engines: "reference (microgpt style)", "micrograd_it" (as installed: compiled where it could be)
and "micrograd_it (Python source)" (run.py sets MICROGRAD_IT_PURE=1 for it). The cyclic garbage
collector stays on, as in the programs this stands for.
"""

import random
import sys
import time

REFERENCE = "reference (microgpt style)"
ENGINES = [REFERENCE, "micrograd_it"]  # run.py adds the Python source of micrograd_it
SEED = 0


def _value_class(engine):
    if engine == REFERENCE:
        import scalar_reference

        # its backward sorts the graph recursively; a training step's graph is ~1,000 nodes deep
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
        return scalar_reference.Value
    from micrograd_it import Value

    return Value


def setup(engine):
    """Return (step, names, model): `step(name)` runs one training step on a name (token ids)."""
    from micrograd_it.data import load_names
    from micrograd_it.gpt import GPT
    from micrograd_it.gpt_train import ADAM, encode_names, linear_decay
    from micrograd_it.optim import Adam

    _, itos, docs = encode_names(load_names())
    random.Random(SEED).shuffle(docs)
    model = GPT(len(itos), seed=SEED, value=_value_class(engine))
    settings = dict(ADAM)
    base_lr = settings.pop("lr")
    optimizer = Adam(model, lr=base_lr, **settings)

    def step(name, number=0, steps=1000):
        loss = model.loss(name)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = linear_decay(base_lr, number, steps)
        optimizer.step()
        return loss
    return step, docs, model


def time_steps(engine, steps):
    """Time `steps` training steps after one warm-up step; return the loop's total ms and each step's ms."""
    step, docs, _ = setup(engine)
    step(docs[0])  # warm-up: first-call costs, caches
    times = []
    loop_start = time.perf_counter()
    for number in range(steps):
        start = time.perf_counter()
        step(docs[1 + number], number)
        times.append((time.perf_counter() - start) * 1e3)
    total_ms = (time.perf_counter() - loop_start) * 1e3
    return {"ms_per_step": times, "total_ms": total_ms, "steps": steps,
            "positions": sum(min(len(name) + 1, 16) for name in docs[1:1 + steps])}


def grads(engine):
    """Loss and every gradient of the first name at the starting weights, for the cross-check."""
    _, docs, model = setup(engine)
    loss = model.loss(docs[0])
    loss.backward()
    return {"loss": loss.data, "grads": [p.grad for p in model.parameters()]}
