"""What a user writes into a Value (data, grad, label) is checked at the assignment, the same in both builds.

The rules (docs/engine.md): ``data`` as in ``Value()``: a real number, not a bool, finite (a NaN or
infinite data would make every op's result wrong in silence); ``grad`` a real number, not a bool (NaN or
infinite allowed: backward() names a leaf that holds one); ``label`` a str. A real number of another type
(int, numpy float, Fraction) is stored as a float. A refused assignment changes nothing. CI runs this file
on the Python source too (MICROGRAD_IT_PURE=1), and the last test compares the two builds in one run.
"""

import fractions
import json
import math

import pytest

import micrograd_it
from micrograd_it import Value

np = pytest.importorskip("numpy")

REFUSED = [
    ("data", "abc", TypeError, r"Value\.data needs a real number, got 'abc' \(str\)"),
    ("data", None, TypeError, r"got None \(NoneType\)"),
    ("data", True, TypeError, r"got True \(bool\)"),
    ("data", 1 + 2j, TypeError, r"\(complex\)"),
    ("data", Value(1.0), TypeError, r"Value\.data needs a real number, got Value\(data=1"),
    ("data", float("nan"), ValueError, r"Value\.data needs a finite number, got nan \(label 'v'\)"),
    ("data", float("inf"), ValueError, r"finite number, got inf"),
    ("data", np.float64("-inf"), ValueError, r"finite number, got -inf"),
    ("data", 10 ** 400, ValueError, r"an int of 1329 bits"),
    ("grad", "text", TypeError, r"Value\.grad needs a real number, got 'text' \(str\)"),
    ("grad", False, TypeError, r"got False \(bool\)"),
    ("grad", [1.0], TypeError, r"\(list\)"),
    ("label", 3, TypeError, r"Value\.label must be a str, got 3 \(int\)"),
    ("label", None, TypeError, r"got None \(NoneType\)"),
    ("label", b"x", TypeError, r"\(bytes\)"),
]


@pytest.mark.parametrize("name, given, error, message", REFUSED)
def test_a_wrong_assignment_is_refused_at_once_naming_the_value_and_changes_nothing(name, given, error, message):
    v = Value(2.0, label="v")
    v.grad = 0.5
    before = (v.data, v.grad, v.label)
    with pytest.raises(error, match=message):
        setattr(v, name, given)
    assert (v.data, v.grad, v.label) == before


@pytest.mark.parametrize("name, given, stored", [
    ("data", 3, 3.0), ("data", np.float32(0.5), 0.5), ("data", np.int64(-4), -4.0),
    ("data", fractions.Fraction(1, 4), 0.25), ("data", -0.0, -0.0),
    ("grad", 7, 7.0), ("grad", np.float64(1e-300), 1e-300), ("grad", float("inf"), math.inf),
    ("label", "w1", "w1"), ("label", "", ""),
])
def test_a_right_assignment_is_stored_as_a_float_or_a_str(name, given, stored):
    v = Value(2.0)
    setattr(v, name, given)
    assert getattr(v, name) == stored and type(getattr(v, name)) is type(stored)


def test_the_text_grad_of_the_issue_fails_at_the_assignment_not_in_backward():
    x = Value(2.0, label="x")
    with pytest.raises(TypeError, match="'text'"):
        x.grad = "text"
    out = x * 3.0
    out.backward()  # x.grad kept its float: backward works
    assert x.grad == 3.0


def test_a_nan_grad_assigned_is_named_by_backward():
    x = Value(2.0, label="x")
    x.grad = float("nan")
    with pytest.raises(micrograd_it.AnomalyError, match="'x'.*had grad nan before"):
        (x * 3.0).backward()


def test_an_op_on_assigned_data_uses_the_float():
    x = Value(1.0)
    x.data = np.float32(0.25)  # stored as the float 0.25: no numpy scalar enters the graph
    y = x * 4
    assert y.data == 1.0 and type(y.data) is float


PROBE = """
import json, math, numpy as np
from micrograd_it import Value, COMPILED
cases = [("data", "'abc'"), ("data", "True"), ("data", "float('nan')"), ("data", "10**400"), ("data", "np.float32(2)"),
         ("data", "3"), ("grad", "'text'"), ("grad", "float('inf')"), ("grad", "np.int8(3)"), ("label", "3"),
         ("label", "'ok'")]
seen = []
for name, given in cases:
    v = Value(1.0, label="v")
    try:
        setattr(v, name, eval(given))
        seen.append([name, given, "stored", repr(getattr(v, name)), type(getattr(v, name)).__name__])
    except Exception as error:
        seen.append([name, given, type(error).__name__, str(error)])
print(json.dumps([COMPILED, seen]))
"""


@pytest.mark.skipif(not micrograd_it.COMPILED, reason=f"no compiled engine here: {micrograd_it.COMPILED_REASON}")
def test_the_compiled_build_and_the_source_behave_the_same():
    from tests.test_compiled import _run

    compiled_flag, compiled = json.loads(_run(PROBE, pure=False)[-1])
    pure_flag, pure = json.loads(_run(PROBE, pure=True)[-1])
    assert (compiled_flag, pure_flag) == (True, False)
    assert compiled == pure
