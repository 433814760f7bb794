"""`micrograd-it study --torch`: the lesson demos/makemore_torch.py, run into the output folder's torch/ subfolder.

The demo is the one place the PyTorch lesson is written (its model is the seed's code, line for
line); the study runs it, keeps what it printed, and hands its numbers and figures to the report.
PyTorch is imported only when --torch is given.
"""

import contextlib
import importlib
import io
import os

__all__ = ["DEMO_MODULE", "run_torch_section", "torch_rows"]

DEMO_MODULE = "micrograd_it_demos.makemore_torch"


def run_torch_section(out_dir, options):
    """Run the PyTorch lesson with the study's seed and `options.torch_steps`; return its result dict
    (see the demo's main) plus "printed": the lines it printed, without the "wrote" lines.

    Raises ImportError when PyTorch is missing (the command checks that before the study starts).
    """
    demo = importlib.import_module(DEMO_MODULE)
    folder = os.path.join(out_dir, "torch")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # the study prints its own table; the report shows these lines
        result = demo.main(folder, steps=options.torch_steps, seed=options.seed)
    result["printed"] = [line for line in printed.getvalue().splitlines() if not line.startswith("wrote ")]
    return result


def torch_rows(result):
    """One row of formatted numbers per configuration of the PyTorch section (for the report and the table)."""
    rows = []
    for run in result["runs"]:
        start, end = run["init"], run["final"]
        rows.append([run["title"], f"{run['lr']:g}", str(run["steps"]), f"{start['saturated_pct']:.1f}%",
                     f"{end['saturated_pct']:.1f}%", f"{len(end['dead'])} / {end['n_neurons']}",
                     f"{run['dead_all_final']} / {end['n_neurons']}",
                     f"{run['loss_init']:.3f}", f"{run['loss_final']:.3f}"])
    return rows
