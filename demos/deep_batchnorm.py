"""The lecture's deep tanh net at gains 0.5, 1, 5/3, 3 and with BatchNorm: where does the gradient die?

Run: python demos/deep_batchnorm.py [--out DIR] [--steps N] [--hidden H] [--batch B]
     (or: micrograd-it demo deep_batchnorm)

The makemore lecture's second half, on names.txt (`lecture_split()`): an embedding table C
(27 x 10, context 3), 5 x (Linear -> [BatchNorm1d] -> Tanh), Linear -> [BatchNorm1d] to the logits,
trained with SGD (lr 0.1). On our engine at a small size (default 8 wide, batch 16, 300 steps: about
a minute); with PyTorch installed, also at the lecture's size (100 wide, batch 32, the same steps).
Prints the lecture's lines per tanh layer at init and after training, and how the two engines
agree; writes each configuration's four diagnostics and the agreement figures into DIR.
"""

import argparse
import os
import time

from micrograd_it.data import lecture_split
from micrograd_it.deep_sweep import CONFIGS, agreement, run_config
from viz.plots_deep import deep_agreement, deep_diagnostics
from viz.save import save_figure


def _torch_runs(Xtr, Ytr, steps):
    """The five configurations in PyTorch at the lecture's size, or None without PyTorch."""
    try:
        import torch

        from micrograd_it.torch_deep import run_torch_config
        from micrograd_it.torch_makemore import one_thread
    except ImportError:
        return None
    with one_thread():  # these small matrices run faster on one thread than on two
        X, Y = torch.tensor(Xtr), torch.tensor(Ytr)
        return [run_torch_config(config, X, Y, steps=steps) for config in CONFIGS]


def _print_run(engine, run):
    print(f"\n{engine}, {run['title']}: loss {run['losses'][0]:.3f} -> {run['losses'][-1]:.3f}")
    for when, label in (("init", "at init"), ("final", f"after {len(run['losses'])} steps")):
        print(f"  {label}:")
        for record in run[when]["activations"]:
            print("   ", record["line"])


def main(out_dir, steps=300, hidden=8, batch=16, seed=0):
    """Run the sweep, print what it shows, write the figures into `out_dir`; return {"engine", "torch",
    "agreement", "figures", "seconds"} (torch and agreement None without PyTorch)."""
    started = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    _, _, (Xtr, Ytr), _, _ = lecture_split()
    print(f"{len(Xtr)} training contexts of names.txt; engine: 5 tanh layers of {hidden}, batch {batch}, "
          f"{steps} steps per configuration")
    engine_runs = [run_config(config, Xtr, Ytr, hidden=hidden, batch=batch, steps=steps, seed=seed)
                   for config in CONFIGS]
    torch_runs = _torch_runs(Xtr, Ytr, steps)
    figures = {}
    for engine, runs in (("engine", engine_runs), ("torch", torch_runs)):
        for run in runs or []:
            _print_run("our engine" if engine == "engine" else "PyTorch (lecture size)", run)
            size = run["size"]
            title = f"{engine}, {run['title']}: 5 tanh layers of {size['hidden']}, batch {size['batch']}"
            figures[f"{engine}_{run['key']}"] = save_figure(deep_diagnostics(run, title),
                                                            os.path.join(out_dir, f"{engine}_{run['key']}.png"), dpi=70)
    agreed = None
    if torch_runs is None:
        print("\nPyTorch is not installed: the lecture-size half is left out (pip install 'micrograd_it[torch]')")
    else:
        agreed = agreement(engine_runs, torch_runs)
        print(f"\nsame trend of the gradient std with depth on both engines: {agreed['trend_agree']} of "
              f"{agreed['rows_n']} (configuration, moment) pairs")
        for when in ("init", "final"):
            same = agreed["orders"][when]["saturated_mean"]["same"]
            print(f"  {when}: configurations ordered by mean saturation {'the same' if same else 'differently'}"
                  f" (engine {agreed['orders'][when]['saturated_mean']['engine']})")
            figures[f"agreement_{when}"] = save_figure(deep_agreement(agreed, when),
                                                       os.path.join(out_dir, f"agreement_{when}.png"))
    for path in figures.values():
        print("wrote", path)
    seconds = time.perf_counter() - started
    print(f"took {seconds:.1f} s")
    return {"engine": engine_runs, "torch": torch_runs, "agreement": agreed, "figures": figures, "seconds": seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="micrograd-it-out/deep_batchnorm", help="output folder")
    parser.add_argument("--steps", type=int, default=300, help="training steps per configuration")
    parser.add_argument("--hidden", type=int, default=8, help="width of the engine's tanh layers")
    parser.add_argument("--batch", type=int, default=16, help="the engine's batch size")
    arguments = parser.parse_args()
    main(arguments.out, steps=arguments.steps, hidden=arguments.hidden, batch=arguments.batch)
