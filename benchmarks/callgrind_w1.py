"""Instructions per W1 step under callgrind: run this with STEPS steps and with 0, and subtract.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/w1.4 python benchmarks/callgrind_w1.py 4
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/tmp/w1.0 python benchmarks/callgrind_w1.py 0
    (total of the first - total of the second) / 4 = instructions per step

Both runs import the same modules, build the same net and run one warm-up step and a
`gc.collect()` (so that the collector runs at the same points), so the difference is the
steps alone: forward, zero_grad, backward and the SGD update of W1 (batch 64), as
docs/performance.md describes. Instruction counts are deterministic: they do not depend
on the load of the machine, unlike wall time. MICROGRAD_IT_PURE=1 measures the source.
"""

import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import w1  # noqa: E402  (benchmarks/ on the path first)

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
step, _ = w1.micrograd_it(64)
step()  # warm-up
gc.collect()
for _ in range(STEPS):
    step()
