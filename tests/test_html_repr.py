"""The engine's objects in Jupyter: Value, Trace and LayerTrace as HTML (micrograd_it/_html_repr.py).

The tables are checked against the text the objects print (str(trace), the Value's
numbers); the saturation map's PNG is decoded by matplotlib's reader (an independent
decoder) and compared with LayerTrace.saturated(); hostile labels stay text.
"""

import io
import re

import pytest

from micrograd_it import Value
from micrograd_it._html_repr import saturation_png, table
from micrograd_it.losses import mse
from micrograd_it.nn import MLP


def traced(activation="tanh", init=3.0, samples=9):
    net = MLP(3, [7, 5, 1], activation=activation, init=init, seed=0)
    with net.trace() as tr:
        preds = [net([0.3 * i, -0.2 * i, 0.1]) for i in range(samples)]
    mse(preds, [0.5] * samples).backward()
    return net, tr


def cell_texts(html):
    """Rows of cell texts (th and td) of the first HTML table, in order, entities decoded."""
    import html as html_module

    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [[html_module.unescape(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_trace_html_holds_the_same_cells_as_its_text_table():
    _, tr = traced()
    text_rows = [line.split() for line in str(tr).splitlines()[1:]]
    html_rows = cell_texts(tr._repr_html_())
    assert html_rows[1:] == text_rows
    assert html_rows[0] == ["layer", "act", "samples", "neurons", "act mean", "act std", "sat %", "dead",
                            "grad_in mean", "grad_in std"]


def test_layer_html_has_its_summary_row_and_a_saturation_map_of_the_right_size():
    _, tr = traced()
    layer = tr.layers[0]
    html = layer._repr_html_()
    assert cell_texts(html)[1] == str(tr).splitlines()[1].split()
    assert f'width="{layer.n_neurons * 16}"' in html  # 7 neurons: 16 CSS pixels each (at most)
    assert "data:image/png;base64," in html


def test_saturation_png_decodes_to_the_mask_with_dead_columns_marked():
    matplotlib_image = pytest.importorskip("matplotlib.image")
    flags = [[True, False, True], [True, True, False], [True, False, False]]
    pixels = matplotlib_image.imread(io.BytesIO(saturation_png(flags, dead=[0])), format="png")
    assert pixels.shape == (5, 3, 3)  # a marker row and a gap row above 3 samples, 3 neurons, RGB
    assert (pixels[2:] == [[[1.0] * 3 if flag else [0.0] * 3 for flag in row] for row in flags]).all()
    assert [tuple(round(c * 255) for c in pixels[0, j]) for j in range(3)] == [
        (0xD5, 0x5E, 0x00), (0xE6, 0xE6, 0xE6), (0xE6, 0xE6, 0xE6)]


def test_a_dead_relu_layer_lists_its_dead_neurons():
    _, tr = traced(activation="relu", init=3.0)
    for layer in tr.layers[:-1]:
        assert f"{len(layer.dead())} dead" in layer._repr_html_()


def test_an_empty_layer_trace_says_so():
    net = MLP(2, [3, 1], seed=0)
    with net.trace() as tr:
        pass
    assert "no samples recorded yet" in tr.layers[0]._repr_html_()
    assert "<table" in tr._repr_html_()


def test_value_html_shows_label_data_grad_and_op():
    x = Value(2.0, label="x")
    y = x ** 3
    y.label = "y"
    y.backward()
    assert cell_texts(y._repr_html_()) == [["label", "data", "grad", "op"], ["y", "8", "1", "** 3"]]
    assert cell_texts(x._repr_html_())[1] == ["x", "2", "12", "leaf"]
    assert cell_texts(Value(-0.5)._repr_html_())[1] == ["-", "-0.5", "0", "leaf"]


def test_hostile_labels_stay_text():
    hostile = '<script>alert("x")</script>&amp;'
    html = Value(1.0, label=hostile)._repr_html_()
    assert "<script>" not in html
    assert cell_texts(html)[1][0] == hostile
    assert "<b>" not in table(["<b>"], [["<b>"]])
