"""The makemore-style character MLP trained for 200 steps on names.txt, then asked to invent a few words.

Run: python demos/char_mlp.py [--out DIR]   (or: micrograd-it demo char_mlp)
Writes char_mlp_loss.png into DIR.
"""

import argparse
import math
import os
import random

from micrograd_it import no_grad
from micrograd_it.data import char_vocab, load_names
from micrograd_it.optim import SGD
from viz.save import save_figure
from viz.plots import loss_curve
from micrograd_it.makemore import CharMLP, batch_loss, char_dataset


def sample_word(model, itos, block_size, rng, max_length=20):
    """Draw one word, a character at a time, from the model's softmax; stop at '.' (index 0)."""
    context, word = [0] * block_size, []
    with no_grad():
        for _ in range(max_length):
            logits = [logit.data for logit in model(context)]
            top = max(logits)
            weights = [math.exp(logit - top) for logit in logits]
            index = rng.choices(range(len(weights)), weights=weights)[0]
            if index == 0:
                break
            word.append(itos[index])
            context = context[1:] + [index]
    return "".join(word)


def main(out_dir, steps=200, batch=16, hidden=32, lr=0.5, seed=0, n_words=8, block_size=3, emb_dim=10):
    """Train on the lecture's training split of names.txt, print the loss and sampled words; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    X, Y, vocab_size = char_dataset(block_size=block_size)  # 182,625 contexts
    _, itos = char_vocab(load_names())
    rng = random.Random(seed)
    model = CharMLP(vocab_size, block_size, emb_dim, hidden, "scaled", seed)
    optimizer = SGD(model, lr)
    losses = []
    for step in range(steps):
        loss = batch_loss(model, X, Y, [rng.randrange(len(X)) for _ in range(batch)])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.data:.3f}")
    print(f"uniform guessing would score -ln(1/{vocab_size}) = {math.log(vocab_size):.3f}")
    words = [sample_word(model, itos, block_size, rng) for _ in range(n_words)]
    print("invented words:", ", ".join(word or "(empty)" for word in words))
    path = save_figure(loss_curve(losses).figure, os.path.join(out_dir, "char_mlp_loss.png"))
    print("wrote", path)
    return [path]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "char_mlp"), help="output folder")
    main(parser.parse_args().out)
