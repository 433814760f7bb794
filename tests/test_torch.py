"""Cross-check against PyTorch autograd (float64): the same random expressions, the same gradients."""

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from micrograd_it import Value
from micrograd_it.testing import expressions, reals, well_conditioned

torch = pytest.importorskip("torch")
F = torch.nn.functional

# The engine's ops expressed in PyTorch, with the same constants as micrograd_it.testing.OPS;
# an op named as PyTorch names it (tanh, exp, sin, ...) needs no line here.
TORCH_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "neg": lambda a: -a,
    "**2": lambda a: a**2,
    "**3": lambda a: a**3,
    "**-1": lambda a: a**-1,
    "**0.5": lambda a: a**0.5,
    "rpow": lambda a: 2.0**a,
    "leaky_relu": lambda a: F.leaky_relu(a, 0.1),
    "elu": lambda a: F.elu(a, alpha=1.5),
    "softplus": F.softplus,
    "gelu": lambda a: F.gelu(a, approximate="tanh"),
}


def _torch_op(name):
    return TORCH_OPS.get(name) or getattr(torch, name, None)


def _torch_apply(op, *args):
    args = [arg if isinstance(arg, torch.Tensor) else torch.tensor(arg, dtype=torch.float64) for arg in args]
    return _torch_op(op)(*args)


@given(expr=expressions(n_vars=3, max_leaves=12), xs=st.lists(reals(-3, 3), min_size=3, max_size=3))
def test_random_expressions_match_pytorch(expr, xs):
    note(f"expression: {expr!r} at x = {xs}")
    inputs = [Value(x) for x in xs]
    try:
        out = expr.build(inputs)
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    assume(well_conditioned(out))
    out.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    result = torch.as_tensor(expr.build(tensors, apply=_torch_apply), dtype=torch.float64)
    assert out.data == pytest.approx(result.item(), rel=1e-9, abs=1e-12)
    if result.requires_grad:
        result.backward()
    for value, tensor in zip(inputs, tensors):
        expected = 0.0 if tensor.grad is None else tensor.grad.item()
        assert value.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_pytorch_op_table_covers_every_op():
    from micrograd_it.testing import OPS

    missing = sorted(name for name in OPS if _torch_op(name) is None)
    assert not missing, f"ops with no PyTorch counterpart in TORCH_OPS: {missing}"
