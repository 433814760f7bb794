"""Figures (matplotlib, object-oriented) of what flows through a network, and of how training goes.

    from viz.plots import activation_hist, saturation_map
    with net.trace() as tr:
        ...forward, loss, loss.backward()...
    ax = activation_hist(tr.layers[0])          # 50-bin histogram, mean/std/saturated % in the title
    ax.figure.savefig("h.png")                  # written atomically (viz figures keep links and modes)

Conventions, the same for every function:
- One-panel figures take ``ax=None`` and return the Axes they drew on (``ax.figure`` is its Figure);
  the multi-panel `activation_gallery` and `activation_stats` take ``fig=None`` and return the Figure.
  With no ax/fig given, a new `matplotlib.figure.Figure` is made -- no pyplot, so nothing global
  changes, no window opens, and ``plt.show()`` is never called. rcParams are never touched.
- Layer data can be a trace layer (``tr.layers[i]``: ours, or `micrograd_it.torch_trace`'s) or any
  array-like: nested lists, numpy arrays, or a PyTorch tensor (so the same figures serve a PyTorch
  makemore notebook).
- Bad input (text, ragged rows, 3-D, empty, nan) raises TypeError/ValueError saying what was wrong.

The figures live in small modules: plots_gallery, plots_hist, plots_saturation,
plots_training, plots_boundary, plots_stats (training watched step by step, from a
`micrograd_it.recorder.StatsRecorder`), plots_gpt (the GPT lesson's run); this one gathers them.
"""

from .plots_boundary import decision_boundary
from .plots_gallery import activation_gallery
from .plots_gpt import gpt_training
from .plots_hist import activation_hist, grad_hist, preact_hist
from .plots_saturation import saturation_map, saturation_mask
from .plots_stats import activation_stats, hist_over_steps, stats_over_steps
from .plots_training import grad_data_ratio, loss_curve, update_ratio_history

__all__ = [
    "activation_gallery",
    "activation_hist",
    "preact_hist",
    "saturation_map",
    "saturation_mask",
    "grad_hist",
    "grad_data_ratio",
    "update_ratio_history",
    "loss_curve",
    "decision_boundary",
    "stats_over_steps",
    "activation_stats",
    "hist_over_steps",
    "gpt_training",
]
