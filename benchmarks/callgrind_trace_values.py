"""Instructions per training step of a microgpt-sized forward pass, with trace_values() on or off (callgrind).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/tv.on.2 python benchmarks/callgrind_trace_values.py on 2
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/tv.on.0 python benchmarks/callgrind_trace_values.py on 0
    (total of the first - total of the second) / 2 = instructions per step; the same with "off"

The model is the microgpt-shaped code of the tests (tests/lecture_code.py: embeddings, RMS norm,
one attention head over a growing cache, a ReLU MLP) at 16 wide, 64 hidden, 16 positions.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from micrograd_it import Value, trace_values  # noqa: E402
from tests.lecture_code import gpt_parameters, tiny_gpt_loss  # noqa: E402

MODE = sys.argv[1] if len(sys.argv) > 1 else "on"
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
PARAMS = gpt_parameters(Value, vocab=27, width=16, hidden=64, context=16, dead=())
TOKENS = [0, 5, 13, 13, 1, 0, 9, 19, 1, 2, 5, 12, 12, 1, 0, 3]


def step():
    if MODE == "on":
        with trace_values():
            loss = tiny_gpt_loss(TOKENS, PARAMS, [])
    else:
        loss = tiny_gpt_loss(TOKENS, PARAMS, [])
    loss.backward()


step()  # warm-up: the same in both runs
for _ in range(STEPS):
    step()
