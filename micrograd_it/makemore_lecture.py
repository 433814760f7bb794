"""The makemore lecture "Activations & gradients" as facts: its seed, its schedule, the four inits of its first
half and the losses it published. Standard library only.

The lecture trains the seed's model (C 27 x 10, a context of 3, W1 30 x 200, W2 200 x 27) on names.txt,
split by `data.lecture_split()`, with one generator, ``torch.Generator().manual_seed(2147483647)``, that
draws the parameters (C, W1, b1, W2, b2, each with randn, in that order) and then every batch of 32
(``torch.randint(0, Xtr.shape[0], (32,), generator=g)``); 200,000 SGD steps, learning rate 0.1, then 0.01
from step 100,000. It fixes the init in four stages, each a set of factors on the randn draws.
`micrograd_it.torch_makemore` runs them; the published numbers here are what a reproduction is held to.
"""

import math
from dataclasses import dataclass

__all__ = ["SEED", "STEPS", "BATCH", "LR", "LR_LATE", "EMB_DIM", "BLOCK_SIZE", "HIDDEN", "VOCAB_SIZE", "Stage",
           "STAGES", "stage", "decay_step", "learning_rate", "PUBLISHED_TOLERANCE", "UNIFORM_LOSS",
           "STEP0_DECIMALS"]

SEED = 2147483647  # the lecture's torch.Generator().manual_seed(...)
STEPS = 200_000
BATCH = 32
LR, LR_LATE = 0.1, 0.01  # lr = 0.1 if i < 100000 else 0.01
EMB_DIM, BLOCK_SIZE, HIDDEN, VOCAB_SIZE = 10, 3, 200, 27
PUBLISHED_TOLERANCE = 0.01  # a faithful reproduction lands within this of each published loss (issue 22)
STEP0_DECIMALS = 2  # the step-0 losses are quoted to two decimals (27.88, 3.32)
UNIFORM_LOSS = math.log(VOCAB_SIZE)  # -log(1/27): the loss of a model that gives every character the same chance


@dataclass(frozen=True)
class Stage:
    """One init of the lecture: the factor on each randn draw, and the losses the lecture published for it.

    `published_train`/`published_val` are the lecture notebook's "loss log" (final loss on the full training
    and validation splits); `published_step0` its printed loss at step 0, where the lecture shows one.
    """

    name: str
    W1: float
    b1: float
    W2: float
    b2: float
    published_train: float
    published_val: float
    published_step0: float | None
    change: str  # what this stage changes, in the lecture's code
    published_decimals: int = 4  # the decimals the lecture printed its train/val losses with (2.07: two)

    def scales(self):
        """Return {"C": 1.0, "W1": ..., "b1": ..., "W2": ..., "b2": ...}: the factor on each parameter's randn draw."""
        return {"C": 1.0, "W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}


_KAIMING = (5 / 3) / math.sqrt(EMB_DIM * BLOCK_SIZE)  # tanh's gain over sqrt(fan_in), fan_in = 30

# The published losses, as the lecture's notebook prints them in its "loss log" cell (softmax fixed: the
# lecture wrote only two decimals); step 0: its printed "0/200000: 27.8817" before any fix, and ~3.32 once
# the output layer starts near zero.
STAGES = (
    Stage("original", 1.0, 1.0, 1.0, 1.0, 2.1245, 2.1682, 27.88, "every parameter N(0, 1)"),
    Stage("softmax fixed", 1.0, 1.0, 0.01, 0.0, 2.07, 2.13, 3.32, "W2 * 0.01, b2 * 0", published_decimals=2),
    Stage("tanh fixed", 0.2, 0.01, 0.01, 0.0, 2.0356, 2.1027, None, "and W1 * 0.2, b1 * 0.01"),
    Stage("kaiming", _KAIMING, 0.01, 0.01, 0.0, 2.0377, 2.1070, None, "W1 * (5/3) / sqrt(30) instead of 0.2"),
)


def stage(name):
    """Return the Stage named `name`; raises ValueError naming the known stages otherwise."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown stage {name!r}; the lecture's stages are {', '.join(s.name for s in STAGES)}")


def decay_step(steps):
    """Return the step from which the learning rate is LR_LATE: the lecture's 100,000 of 200,000, i.e. half of `steps`."""
    return steps // 2


def learning_rate(step, steps):
    """Return the learning rate of `step` (0-based) in a run of `steps`: LR before decay_step(steps), LR_LATE after."""
    return LR if step < decay_step(steps) else LR_LATE
