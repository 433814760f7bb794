"""The makemore lecture's MLP in PyTorch, trained exactly as the lecture trains it (needs PyTorch).

    from micrograd_it.torch_makemore import lecture_tensors, train_stage
    run = train_stage("kaiming", lecture_tensors())   # 200,000 steps: about two minutes on one core

One generator, ``torch.Generator().manual_seed(2147483647)``, draws C, W1, b1, W2, b2 with randn in that
order, each times its stage's factor (micrograd_it.makemore_lecture.STAGES), then every batch of 32; the
step is the lecture's line for line (``p.data += -lr * p.grad``). Steps 0 and the last are kept: their
pre-activations, h and gradients are the lecture's figures at init and after training. The final losses are computed
under ``torch.no_grad()`` on the full training and validation splits, as the lecture's ``split_loss`` does.
"""

import contextlib
import time

import torch
import torch.nn.functional as F

from .data import lecture_split
from .makemore_lecture import BATCH, BLOCK_SIZE, EMB_DIM, HIDDEN, SEED, STEPS, VOCAB_SIZE, decay_step, learning_rate, stage

__all__ = ["lecture_tensors", "init_params", "forward", "train_stage", "one_thread", "saturation_numbers",
           "THRESHOLD"]

THRESHOLD = 0.99  # the seed's h.abs() > 0.99


def lecture_tensors():
    """Return {"Xtr", "Ytr", "Xdev", "Ydev", "Xte", "Yte"}: names.txt split as the lecture does, as int64 tensors."""
    _, _, train, dev, test = lecture_split()
    tensors = {}
    for suffix, (X, Y) in (("tr", train), ("dev", dev), ("te", test)):
        tensors["X" + suffix], tensors["Y" + suffix] = torch.tensor(X), torch.tensor(Y)
    return tensors


def init_params(stage_name, generator):
    """Return [C, W1, b1, W2, b2] of the stage `stage_name`, drawn from `generator` in the lecture's order.

    Each is ``torch.randn(shape, generator=generator) * factor``, then requires grad. Raises ValueError for
    an unknown stage.
    """
    scales = stage(stage_name).scales()
    shapes = {"C": (VOCAB_SIZE, EMB_DIM), "W1": (EMB_DIM * BLOCK_SIZE, HIDDEN), "b1": (HIDDEN,),
              "W2": (HIDDEN, VOCAB_SIZE), "b2": (VOCAB_SIZE,)}
    params = [torch.randn(shape, generator=generator) * scales[name] for name, shape in shapes.items()]
    return [p.requires_grad_() for p in params]


def forward(params, X):
    """Return (hpreact, h, logits) of the contexts `X` (n x 3 indices): the lecture's forward pass."""
    C, W1, b1, W2, b2 = params
    emb = C[X]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1 + b1
    h = torch.tanh(hpreact)
    return hpreact, h, h @ W2 + b2


def saturation_numbers(h, threshold=THRESHOLD):
    """Return {"saturated_pct", "dead", "n_samples", "n_neurons"} of h (samples x neurons).

    saturated_pct: % of entries with |h| > threshold (compared in h's dtype, as the seed's ``h.abs() > 0.99``);
    dead: the neurons (columns) saturated on every sample, as a list of indices.
    """
    saturated = h.abs() > threshold
    return {"saturated_pct": 100.0 * saturated.sum().item() / saturated.numel(),  # exact: counts, not float means
            "dead": torch.nonzero(saturated.all(dim=0)).flatten().tolist(),
            "n_samples": h.shape[0], "n_neurons": h.shape[1]}


@torch.no_grad()
def _split_numbers(params, X, Y, saturation=True):
    """The loss on a whole split (the lecture's split_loss) and, unless `saturation` is False, the saturation
    of h over all its contexts (else None)."""
    hpreact, h, logits = forward(params, X)
    del hpreact  # 146 MB on the training split, not needed past tanh
    loss = F.cross_entropy(logits, Y).item()
    del logits
    if not saturation:
        return loss, None
    numbers = saturation_numbers(h)
    return loss, {"saturated_pct": numbers["saturated_pct"], "dead": numbers["dead"], "n_samples": numbers["n_samples"]}


def _snapshot(hpreact, h, loss, step):
    """What a kept step keeps: copies of its pre-activations, h (32 x 200) and their gradients (d loss/d h
    arriving at tanh, d loss/d hpreact passed back), its loss, and its saturation."""
    return {"step": step, "loss": loss, "hpreact": hpreact.detach().clone(), "h": h.detach().clone(),
            "grad_h": h.grad.clone(), "grad_hpreact": hpreact.grad.clone(), **saturation_numbers(h.detach())}


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread, then restore the count: the lecture's matrices (32 x 30 @ 30 x 200) are too small
    to gain from two, and one leaves the other core to the machine's other work."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_stage(stage_name, tensors, steps=STEPS, seed=SEED, on_step=None):
    """Train the lecture's model from stage `stage_name`'s init for `steps` SGD steps; return a dict of its numbers.

    `tensors` is lecture_tensors(). `on_step(step, loss)` is called after every step (a progress bar).
    The dict holds "name", "steps", "losses" (every step's batch loss), "loss_step0", "init" and "trained"
    (the first and last steps: "hpreact", "h", "grad_h", "grad_hpreact", "loss", "saturated_pct", "dead"), "train_loss",
    "val_loss", "init_train"/"trained_train" (saturation over every training context), "seconds" (the
    training loop's wall time) and "decay_step". Raises ValueError for an unknown stage or steps < 1.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r} ({type(steps).__name__})")
    Xtr, Ytr = tensors["Xtr"], tensors["Ytr"]
    g = torch.Generator().manual_seed(seed)
    params = init_params(stage_name, g)
    _, init_train = _split_numbers(params, Xtr, Ytr)
    run = {"name": stage_name, "steps": steps, "seed": seed, "losses": [], "init_train": init_train}
    started = time.perf_counter()
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (BATCH,), generator=g)
        hpreact, h, logits = forward(params, Xtr[ix])
        loss = F.cross_entropy(logits, Ytr[ix])
        kept = i == 0 or i == steps - 1  # the lecture's h at init, and after its loop (the last batch's)
        if kept:  # keep the gradients reaching h and passed back by tanh (no number changes)
            hpreact.retain_grad()
            h.retain_grad()
        for p in params:
            p.grad = None
        loss.backward()
        lr = learning_rate(i, steps)
        for p in params:
            p.data += -lr * p.grad
        run["losses"].append(loss.item())
        if kept:
            run["trained" if i == steps - 1 else "init"] = _snapshot(hpreact, h, run["losses"][-1], i)
        if i == 0 and steps == 1:
            run["init"] = run["trained"]
        if on_step is not None:
            on_step(i, run["losses"][-1])
    run["seconds"] = time.perf_counter() - started
    run["loss_step0"] = run["losses"][0]
    run["train_loss"], run["trained_train"] = _split_numbers(params, Xtr, Ytr)
    run["val_loss"], _ = _split_numbers(params, tensors["Xdev"], tensors["Ydev"], saturation=False)
    run["decay_step"] = decay_step(steps)
    return run
