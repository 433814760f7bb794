"""Any text in a picture: every label, record field, HTML cell and tooltip is drawn as exactly the text typed.

"Exactly" is the rule of `viz.layout.shown`, restated here on its own: a control character other than the
newline shows as its Python escape (``\\x01``), a lone surrogate or U+FFFE/U+FFFF as ``\\ud800``, and a text
longer than the limit is cut with an ellipsis. Each text goes through a real engine (the system dot, then
graphviz-pure with dot hidden from PATH); the SVG is parsed with xml.etree, an independent XML parser, and
the text Graphviz drew is compared with that rule.

How Graphviz draws text, which the comparison allows for: one ``<text>`` element per line, none for a blank
line, and the second of two spaces written as U+00A0 (SVG would merge them).
"""

import re
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from micrograd_it.engine import Value
from micrograd_it.losses import mse
from micrograd_it.nn import MLP
from tests.viz.test_layout import engine  # noqa: F401  (the fixture: system dot, then graphviz-pure alone)
from viz.graph import draw_graph
from viz.layout import MAX_LABEL, MAX_NAME, dot_text, run_layout, shown
from viz.network import draw_network

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
HOSTILE = ["&#1;", "&amp;", "&nbsp;", "&lt;b&gt;", "<", ">", '"', "]]>", "]", "<b>x</b>", "\\N", "\\G", "a\\",
           "\\", "\\n", "{x|y}", "a\\\"];x->y;//", "}\n{", "\x00\x01\x1f\x7f", "\t tab", "\ud800", "\udfff x",
           "\ufffe\uffff", " lead", "trail ", "a  b", "\n", "", "\U0001F600 \u202e rtl", "$\\undefined$"]
# every character hypothesis knows, plus the classes most likely to break DOT or XML
CHARACTERS = (st.characters(codec=None)
              | st.characters(categories=["Cs", "Cc", "Cf", "Co", "Zs", "Zl", "Zp"])
              | st.sampled_from("&<>\"'\\{}|[];=-#$ \n"))
TEXTS = st.text(CHARACTERS, max_size=40) | st.sampled_from(HOSTILE)
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def expected(typed, limit):
    """The text a picture must show for `typed`: the documented rule, written again independently."""
    out = []
    for char in typed:
        code = ord(char)
        if (code < 0x20 and char != "\n") or code == 0x7F:
            out.append("\\x%02x" % code)
        elif 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append("\\u%04x" % code)
        else:
            out.append(char)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def lines(text):
    """The lines Graphviz draws of `text`: blank ones are not drawn, U+00A0 stands for a space."""
    return [line for line in text.replace("\u00a0", " ").split("\n") if line.strip(" ")]


def node_texts(svg, name):
    """The texts drawn in the node whose DOT name is `name`, from an SVG parsed by xml.etree."""
    for group in ElementTree.fromstring(svg).iter(SVG + "g"):
        if group.get("class") == "node" and group.find(SVG + "title").text == name:
            return [element.text or "" for element in group.iter(SVG + "text")]
    raise AssertionError(f"no node {name!r} in the SVG")


def one_node(label_attr):
    return f"digraph {{ a [{label_attr}] }}"


SYNTAXES = {
    "quoted": lambda typed: one_node(f'label="{dot_text(typed)}"'),
    "record": lambda typed: one_node(f'shape=record label="{dot_text(typed, "record")}"'),
    "html": lambda typed: one_node(f'shape=plain label=<<TABLE><TR><TD>{dot_text(typed, "html")}</TD></TR></TABLE>>'),
}


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
@FEW
@given(typed=TEXTS)
@example(typed="&amp; &nbsp; &#1; \x01 \\N ] ]]>")
def test_every_label_syntax_draws_the_text_typed(engine, syntax, typed):  # noqa: F811
    svg = run_layout(SYNTAXES[syntax](typed), "svg")  # raises LayoutFailed if the engine rejects the DOT
    assert lines("\n".join(node_texts(svg, "a"))) == lines(expected(typed, MAX_LABEL))


@FEW
@given(typed=TEXTS)
def test_an_html_tooltip_holds_the_text_typed(engine, typed):  # noqa: F811
    typed = "tip " + typed  # an empty TITLE would be replaced by Graphviz's own
    cell = f'<TD HREF="#x" TITLE="{dot_text(typed, "html-attribute")}">x</TD>'
    svg = run_layout(one_node(f"shape=plain label=<<TABLE><TR>{cell}</TR></TABLE>>"), "svg")
    titles = [element.get(XLINK_TITLE) for element in ElementTree.fromstring(svg).iter(SVG + "a")]
    assert titles and all(title is not None for title in titles)
    assert lines(titles[0]) == lines(expected(typed, MAX_LABEL))


def test_the_rule_itself_on_examples_worked_by_hand():
    assert shown("a\x01b\x7f") == "a\\x01b\\x7f"
    assert shown("\t\n") == "\\x09\n"  # the newline stays a line break
    assert shown("\ud800") == "\\ud800"
    assert shown("&amp; &nbsp; &#1; <b>") == "&amp; &nbsp; &#1; <b>"  # markup is text, kept as typed
    assert shown("x" * 100) == "x" * (MAX_NAME - 1) + "\u2026" and len(shown("x" * 100)) == MAX_NAME
    assert dot_text("&amp;") == "&amp;amp;" and dot_text("a\\N") == "a\\\\N"  # escaped once each
    with pytest.raises(ValueError, match="syntax"):
        dot_text("x", "xml")


def hostile_graph(label, param_name):
    """tanh(x * w) with x labelled `label` (data 0.5), w named `param_name` (data 3), the root labelled `label`."""
    weight = Value(3.0, label="w")
    out = (Value(0.5, label=label) * weight).tanh()
    out.label = label
    out.backward()
    return out, draw_graph(out, names={param_name: weight}, legend=False)


def record_key(dot, field):
    """The DOT name of the record that has the field `field` (e.g. "data 3"), read from the DOT text."""
    match = re.search(r"^(n\d+) \[[^\n]*" + re.escape(dot_text(field, "record")) + " [|]", dot.source, re.M)
    assert match, field
    return match.group(1)


@FEW
@given(label=TEXTS, param_name=TEXTS)
@example(label="&amp; &nbsp;", param_name="&#1; \x01\ud800")
@example(label="a\\Nb ]", param_name="<b>]]>")
def test_draw_graph_shows_labels_and_parameter_names_as_typed(engine, label, param_name):  # noqa: F811
    out, dot = hostile_graph(label, param_name)
    svg = run_layout(dot.source, "svg")
    assert len(re.findall(rb'<g id="node\d+" class="node"', svg)) == 6  # 4 Values, 2 ops: no label added a node
    for name, field in ((label or "const", "data 0.5"), (param_name, "data 3")):
        drawn = lines("\n".join(node_texts(svg, record_key(dot, field))))
        assert drawn[:-1] == lines(expected(name, MAX_NAME)) + [field]  # then "grad ..."
    title = [element.text or "" for element in ElementTree.fromstring(svg).find(SVG + "g").findall(SVG + "text")]
    first = f"{expected(label, MAX_NAME) or 'output'} = {out.data:.4g}: a graph of 4 Values"
    assert lines("\n".join(title))[:len(lines(first))] == lines(first)


def hostile_network(name):
    net = MLP(2, [3, 1], seed=0)
    with net.trace() as trace:
        loss = mse([net(x) for x in ([0.5, -1.0], [1.0, 0.25])], [1.0, -1.0])
    loss.backward()
    trace.layers[0].name = name
    return net, trace


def starts_with(drawn_lines, text):
    return "\n".join(drawn_lines).startswith("\n".join(lines(text)))


@pytest.mark.parametrize("cells", [False, True])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=TEXTS)
@example(name="&amp; \x01 \\N ]")
def test_draw_network_shows_layer_names_as_typed(engine, cells, name):  # noqa: F811
    net, trace = hostile_network(name)
    svg = run_layout(draw_network(net, trace, cells=cells).source, "svg")
    assert starts_with(lines("\n".join(node_texts(svg, "layer0"))), expected(name, MAX_NAME) + ": tanh")
    cell = next(group for group in ElementTree.fromstring(svg).iter(SVG + "g") if group.get("id") == "a_l0_0")
    tooltip = cell.find(SVG + "a").get(XLINK_TITLE)
    assert starts_with(lines(tooltip), expected(name, MAX_NAME) + " neuron 0 (tanh): saturated on ")


def test_a_100_kB_label_is_shortened_not_refused_by_dot(engine):  # noqa: F811
    long = "label " * 20_000  # 120,000 characters: the system dot refuses quoted strings over 16 kB
    cut = expected(long, MAX_NAME)
    assert cut.endswith("\u2026") and len(cut) == MAX_NAME
    _, dot = hostile_graph(long, long)
    svg = run_layout(dot.source, "svg")
    assert lines("\n".join(node_texts(svg, record_key(dot, "data 0.5"))))[0] == cut
    net, trace = hostile_network(long)
    for cells in (False, True):
        svg = run_layout(draw_network(net, trace, cells=cells).source, "svg")
        assert starts_with(lines("\n".join(node_texts(svg, "layer0"))), cut + ": tanh")
