"""Instructions per GPT training step under callgrind, on one engine: run it with STEPS steps and with 0, and subtract.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/gpt.2 python benchmarks/callgrind_gpt.py ENGINE 2
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/gpt.0 python benchmarks/callgrind_gpt.py ENGINE 0
    (total of the first - total of the second) / 2 = instructions per step

ENGINE: "micrograd_it" or "reference (microgpt style)" (gpt.py's names); MICROGRAD_IT_PURE=1 measures
the source. Both runs build the same model, run one warm-up step and a `gc.collect()`, so the difference
is the steps alone (steps 1, 2, ... on the names gpt.py's timing uses). Instruction counts do not depend
on the load of the machine; they leave out what memory and caches cost, which wall time includes.
"""

import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gpt  # noqa: E402  (benchmarks/ on the path first)

ENGINE = sys.argv[1]
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
step, docs, _ = gpt.setup(ENGINE)
step(docs[0])  # warm-up
gc.collect()
for number in range(STEPS):
    step(docs[1 + number], number)
