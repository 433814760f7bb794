"""Names in matplotlib figures are plain text: never mathtext, never dropped, always savable.

Each figure that shows a user's name (a layer, a trace, a parameter group, a run's label) is drawn with
hostile names and saved as PNG and as SVG through viz.save.save_figure. The SVG is written with
``svg.fonttype: none`` (inside an rc_context, restored after) so that each drawn text is a ``<text>``
element: xml.etree parses the file, and the text matplotlib drew must hold the name as
`viz._text.shown` shows it (control characters as ``\\x01``, cut at 80 characters), ``$`` included.
"""

import random
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from micrograd_it.losses import mse  # noqa: E402
from micrograd_it.nn import MLP  # noqa: E402
from micrograd_it.recorder import StatsRecorder  # noqa: E402
from viz._text import MAX_NAME, plain_text, shown  # noqa: E402
from viz.plots import (activation_hist, grad_data_ratio, saturation_map,  # noqa: E402
                       update_ratio_history)
from viz.plots_stats import activation_stats, hist_over_steps, stats_over_steps  # noqa: E402
from viz.save import save_figure  # noqa: E402

NAMES = ["$\\undefined$", "$x^2$ and $y$", "a$b", "\\$", "_starts_with_underscore", "ctrl\x01\x7f",
         "&amp; <b>", "x" * 200]


def drawn_texts(path):
    """Every text matplotlib drew into the SVG at `path`, parsed by xml.etree (raises if not well-formed)."""
    return [element.text or "" for element in ElementTree.parse(path).getroot().iter()
            if element.tag.endswith("}text")]


def save_both(figure, tmp_path):
    """Save `figure` as PNG and as SVG (texts as <text> elements); return the drawn texts."""
    assert save_figure(figure, tmp_path / "f.png") == str(tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        save_figure(figure, tmp_path / "f.svg")
    return drawn_texts(tmp_path / "f.svg")


def traced_net(name, seed=0):
    net = MLP(2, [3, 1], seed=seed)
    with net.trace() as trace:
        loss = mse([net(x) for x in ([0.5, -1.0], [1.0, 0.25], [-0.3, 0.8])], [1.0, -1.0, 0.5])
    loss.backward()
    trace.layers[0].name = name
    return net, trace


def assert_drawn(texts, name):
    wanted = shown(name)
    assert any(wanted in text for text in texts), (wanted, texts)


@pytest.mark.parametrize("name", NAMES)
def test_a_traced_layers_name_is_drawn_as_typed(name, tmp_path):
    _, trace = traced_net(name)
    layer = trace.layers[0]
    for draw in (lambda: activation_hist(layer), lambda: saturation_map(layer),
                 lambda: activation_hist({name: layer.act, "other": layer.act})):
        ax = draw()
        assert_drawn(save_both(ax.figure, tmp_path), name)


@pytest.mark.parametrize("name", NAMES)
def test_a_recorded_layers_name_is_drawn_as_typed_in_the_legend(name, tmp_path):
    recorder = StatsRecorder()
    for step in range(3):
        _, trace = traced_net(name, seed=step)
        recorder.record(trace)
    ax = stats_over_steps(recorder)
    assert_drawn(save_both(ax.figure, tmp_path), name + " (tanh)")
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert len(legend) == len(recorder.layers)  # a name starting with "_" is not dropped from the legend
    assert_drawn(save_both(activation_stats(recorder), tmp_path), name)  # returns the Figure
    assert_drawn(save_both(hist_over_steps(recorder, name).figure, tmp_path), name)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_group_names_are_drawn_as_typed(name, tmp_path):
    rng = random.Random(0)
    history = [{name: rng.uniform(-4, -2), "layers.0.w": rng.uniform(-4, -2)} for _ in range(5)]
    ax = update_ratio_history(history)
    assert_drawn(save_both(ax.figure, tmp_path), name)
    assert len(ax.get_legend().get_texts()) == 3  # both groups and the guide, "_" names included
    params = [(name, np.array([1.0, 2.0, 3.0])), ("other", np.array([1.0, -1.0]))]

    class Param:
        def __init__(self, data):
            self.data, self.grad = data, data * 0.01

    ax = grad_data_ratio([(key, Param(value)) for key, value in params])
    assert_drawn(save_both(ax.figure, tmp_path), name)  # no dots: the name is its own group


def test_the_helper_escapes_dollars_and_cuts_long_names():
    assert plain_text("$\\undefined$") == "\\$\\undefined\\$"
    assert plain_text("\\$") == "\\\\$"  # matplotlib draws "\$": the backslash and the dollar typed
    assert len(shown("x" * 200)) == MAX_NAME and shown("x" * 200).endswith("\u2026")
