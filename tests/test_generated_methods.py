"""The compiled engine's op methods, generated from the catalogue into engine.py: in sync, and the ones that run."""

import micrograd_it
from micrograd_it import Value, _generate_methods
from micrograd_it.catalogue import CATALOGUE


def test_the_generated_regions_of_engine_py_are_what_the_catalogue_gives():
    # If this fails: python -m micrograd_it._generate_methods (then reinstall to compile it)
    assert _generate_methods.stale() == []


def test_a_region_edited_by_hand_is_found_stale(tmp_path):
    with open(_generate_methods.ENGINE, encoding="utf-8") as source:
        text = source.read()
    edited = tmp_path / "engine.py"
    assert "data = x * y  # the rule's expression (ops.mul)" in text
    edited.write_text(text.replace("data = x * y  #", "data = y * x  #"), encoding="utf-8")
    assert _generate_methods.stale(edited) == [_generate_methods.METHODS]
    _generate_methods.rewrite(edited)
    assert _generate_methods.stale(edited) == [] and edited.read_text(encoding="utf-8") == text


def test_every_op_without_a_constant_is_generated_and_the_others_are_not():
    generated = {op.name for op in _generate_methods.generated_ops()}
    assert generated == {name for name, op in CATALOGUE.items() if op.param is None}
    assert {"+", "-", "*", "tanh", "exp", "log", "relu"} <= generated and "**" not in generated


def test_the_compiled_value_runs_the_generated_methods_and_the_source_the_made_ones():
    for op in _generate_methods.generated_ops():
        for name in (op.method, op.reflected):
            if not name:
                continue
            # a method written in the class body is named "Value.<name>"; the ones made at import are not
            from_class_body = getattr(Value, name).__qualname__ == f"Value.{name}"
            assert from_class_body == micrograd_it.COMPILED, name


def test_the_inlined_expressions_are_the_rules_own():
    # + - * write their rule's expression into the method: it must be the whole rule.
    for name, expected in (("+", "x + y"), ("-", "x - y"), ("*", "x * y")):
        op = CATALOGUE[name]
        assert _generate_methods._inline_expression(op) == expected
        assert op.rule(3.0, 0.25) == eval(expected, {"x": 3.0, "y": 0.25})
    assert _generate_methods._inline_expression(CATALOGUE["/"]) is None  # several statements: called, not inlined
