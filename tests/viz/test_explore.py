"""viz.explore without a browser: the replayed order gives backward()'s gradients bit for bit, every local
derivative text agrees with the engine's number, and the page holds its contract and needs no network.
(The page in a real browser: test_explore_browser.py.)"""

import html
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viz
from micrograd_it import Value
from micrograd_it.catalogue import unary, unregister
from micrograd_it.nn import MLP
from micrograd_it.testing import OPS, expressions, op_inputs
from tests.viz.test_graph import lecture_neuron
from viz.explore import Explorer, explore
from viz.explore_steps import (LOCAL_RULES, backward_order, catalogue_text, local_derivatives, local_rule, local_text,
                               replay)

SCRIPT = re.compile(r'<script type="application/json" id="micrograd-graph">(.*?)</script>', re.S)


def engine_grads(root):
    """What the engine gives after zero_grad(); backward(), as {id(Value): grad}."""
    root.zero_grad()
    root.backward()
    return {id(value): value.grad for value in root.nodes()}


def saturated_mlp(samples=2):
    """A 2-3-1 tanh MLP with large weights (init 4.0), so several neurons saturate; returns (loss, net, trace)."""
    net = MLP(2, [3, 1], init=4.0, seed=1)
    inputs = [[0.5, -1.0], [2.0, 1.0], [-1.5, 0.5]][:samples]
    with net.trace() as trace:
        outs = [net(x) for x in inputs]
        loss = sum(((out - 1) ** 2 for out in outs[1:]), (outs[0] - 1) ** 2)
    return loss, net, trace


def page_data(page):
    """The JSON the page embeds, read back from the HTML text (not from the Explorer object)."""
    return json.loads(SCRIPT.search(page.html).group(1))


# -- the order ----------------------------------------------------------------------------------

@settings(max_examples=150)
@given(expressions(n_vars=3, max_leaves=14), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_replaying_the_order_gives_backwards_gradients_bit_for_bit(expr, numbers):
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(numbers)]
    try:
        root = expr.build(inputs)
    except (ValueError, ZeroDivisionError, OverflowError):
        return  # outside an op's domain: nothing to replay
    if not isinstance(root, Value):
        return
    replayed = replay(root, backward_order(root))
    expected = engine_grads(root)
    for value in root.nodes():
        assert replayed.get(id(value), 0.0) == expected[id(value)], value  # exact: same order, same roundings


def test_the_order_is_reverse_topological_and_passes_each_node_once():
    loss, _, _ = saturated_mlp(3)
    order = backward_order(loss)
    position = {id(value): index for index, value in enumerate(order)}
    non_leaves = [value for value in loss.nodes() if not value.is_leaf]
    assert len(order) == len(position) == len(non_leaves)
    for value in order:
        for child in value.children:
            if not child.is_leaf:
                assert position[id(child)] > position[id(value)], "a node passed its gradient before all its consumers"


def test_accumulation_a_plus_a_receives_two_contributions():
    a = Value(3.0, label="a")
    root = a + a
    order = backward_order(root)
    assert order == [root]
    assert replay(root, order)[id(a)] == 2.0 == engine_grads(root)[id(a)]


def test_the_order_does_not_touch_the_graph():
    root, leaves = lecture_neuron()
    root.backward()
    before = [(value.grad, value._pending) for value in root.nodes()]
    replay(root, backward_order(root))
    assert [(value.grad, value._pending) for value in root.nodes()] == before


def test_stepping_values_own_backward_in_this_order_gives_backward():
    if not hasattr(Value, "_backward"):
        pytest.skip("Value._backward (one node's own chain-rule step) is not in this engine yet")
    loss, _, _ = saturated_mlp(3)
    expected = engine_grads(loss)
    loss.zero_grad()
    loss.grad = 1.0
    for value in backward_order(loss):
        value._backward()
    assert all(value.grad == expected[id(value)] for value in loss.nodes())


# -- local derivative texts ---------------------------------------------------------------------

def test_every_op_of_the_strategies_has_a_local_text():
    for name, (arity, apply, _) in OPS.items():
        out = apply(*[Value(0.5)] * arity)
        for index in range(arity):
            text = local_text(out, index)
            assert not text.startswith(f"d {out.op} /"), f"op {name!r} has no local-derivative text: {text!r}"


@pytest.fixture
def softsign():
    """A throwaway op with no hand-written text in viz/explore_steps.py; its catalogue entry says its formula."""
    @unary("softsign", forward="x / (1 + |x|)", local="1 / (1 + |x|)²")
    def definition(x):
        return x / (1.0 + abs(x)), 1.0 / (1.0 + abs(x)) ** 2

    yield definition
    unregister("softsign")


def test_an_op_without_a_hand_written_text_shows_its_catalogue_formula(softsign):
    x = Value(0.5)
    y = (x * 2.0).softsign()
    assert local_text(y, 0) == "1 / (1 + |x|)² at x = 1"
    y.backward()
    shown = [text for detail in page_data(explore(y))["details"] for text in detail["locals"]]
    assert "1 / (1 + |x|)² at x = 1" in shown


def test_the_catalogue_text_of_a_two_input_op_is_the_one_of_that_input():
    a, b = Value(3.0), Value(2.0)
    quotient = a / b
    assert [catalogue_text(quotient, 0), catalogue_text(quotient, 1)] == ["1/y at x = 3, y = 2", "-x/y² at x = 3, y = 2"]
    assert catalogue_text(a.tanh(), 0) == "1 - t² at x = 3"  # the formula, not the docs' remark after it


HAND_WRITTEN = sorted(name for name in OPS if OPS.case(name)[0].name in LOCAL_RULES)


@settings(max_examples=40)
@given(st.sampled_from(HAND_WRITTEN).flatmap(lambda name: st.tuples(st.just(name), op_inputs(name))))
def test_each_local_rule_recomputes_the_engines_local_derivative(case):
    name, numbers = case
    arity, apply, _ = OPS[name]
    try:
        out = apply(*[Value(x) for x in numbers])
    except (ValueError, ZeroDivisionError, OverflowError):
        return
    for index, local in enumerate(local_derivatives(out)):
        text, recomputed = local_rule(out, index, ("a", "b"))
        assert text
        assert recomputed == pytest.approx(local, rel=1e-9, abs=1e-300), (name, numbers, text)


def test_the_tanh_text_shows_t_with_enough_digits_to_see_how_flat_it_is():
    out = Value(5.3).tanh()
    text = local_rule(out, 0)[0]
    assert text.startswith("1 − t² at t = 0.99995"), text


# -- the page -------------------------------------------------------------------------------------

def test_contract_nodes_and_order_on_the_lecture_neuron():
    root, _ = lecture_neuron()
    page = explore(root)
    data = page_data(page)
    assert data == json.loads(json.dumps(page.data))
    expected = engine_grads(root)
    values = root.nodes()
    assert [set(node) for node in data["nodes"]] == [{"id", "label", "data", "grad", "op"}] * len(values)
    assert [node["grad"] for node in data["nodes"]] == [expected[id(value)] for value in values]
    assert [node["label"] for node in data["nodes"]] == [value.label for value in values]
    assert len(data["order"]) == 1 + sum(not value.is_leaf for value in values)  # the seed, then one step per op
    for control in ("step", "back", "play", "reset"):
        assert f'id="{control}"' in page.html


def test_every_drawn_value_carries_data_node_and_an_empty_data_grad():
    root, _ = lecture_neuron()
    page = explore(root)
    drawn = re.findall(r'<g class="node" data-key="(n\d+)" data-node="(\d+)" data-grad="">', page.html)
    assert sorted(int(node) for _, node in drawn) == list(range(len(root.nodes())))
    assert all(key == f"n{node}" for key, node in drawn)


def test_the_page_is_self_contained():
    root, _ = lecture_neuron()
    text = explore(root).html
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\(", text, re.I)
    assert not re.search(r"https?://(?!www\.w3\.org/)", text)  # only the SVG namespace names


def test_jupyter_shows_the_page_in_an_isolated_iframe():
    root, _ = lecture_neuron()
    page = explore(root)
    shown = page._repr_html_()
    srcdoc = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" [^>]*></iframe>', shown)
    assert srcdoc and html.unescape(srcdoc.group(1)) == page.html


def test_hostile_labels_stay_text():
    x = Value(1.0, label="</script><script>alert(1)</script>")
    page = explore(x * 2)
    assert "<script>alert(1)" not in page.html
    assert x.label in [node["label"] for node in page_data(page)["nodes"]]


def test_explore_leaves_every_grad_as_it_found_it_even_when_interrupted(monkeypatch):
    root, _ = lecture_neuron()
    root.backward()
    root.backward()  # leaves hold two passes: the page shows one, the graph keeps its own
    before = [value.grad for value in root.nodes()]
    explore(root)
    assert [value.grad for value in root.nodes()] == before

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("viz.explore.run_layout", interrupted)
    monkeypatch.setattr("viz.explore_svg.run_layout", interrupted)
    with pytest.raises(KeyboardInterrupt):
        explore(root)
    assert [value.grad for value in root.nodes()] == before


def test_viz_explore_is_callable_and_a_module():
    root, _ = lecture_neuron()
    assert isinstance(viz.explore(root), Explorer)
    assert viz.explore.explore is explore


def test_bad_input_names_the_culprit():
    with pytest.raises(TypeError, match="needs a Value, got 3"):
        explore(3)
    with pytest.raises(ValueError, match="max_nodes"):
        explore(Value(1.0), max_nodes=0)


def test_save_writes_the_page(tmp_path):
    root, _ = lecture_neuron()
    page = explore(root)
    path = page.save(tmp_path / "n.html")
    assert open(path, encoding="utf-8").read() == page.html


def test_a_traced_mlp_is_drawn_by_neuron_and_each_neuron_on_a_sample_opens():
    loss, net, trace = saturated_mlp(2)
    page = explore(loss, names=net, trace=trace)
    data = page_data(page)
    groups = {key: unit for key, unit in data["units"].items() if unit["kind"] == "group"}
    assert len(groups) == 2 * (3 + 1) and all(unit["expandable"] for unit in groups.values())
    # each neuron's interior draws its own Values, tagged like the main drawing
    interior = re.search(r'<template data-interior="g0_1_0">(.*?)</template>', page.html, re.S).group(1)
    preact = trace.layers[0].preact_nodes[0][1]
    index = [id(value) for value in loss.nodes()].index(id(preact))
    assert f'data-node="{index}"' in interior
    # a saturated neuron is flagged as flat in its step
    act = trace.layers[0].act_nodes[0][0]
    act_index = [id(value) for value in loss.nodes()].index(id(act))
    assert abs(act.data) > 0.99 and data["details"][act_index]["flat"]
