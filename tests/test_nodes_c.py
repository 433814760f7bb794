"""The compiled engine's C nodes (micrograd_it/_nodes.c): the ops + - *, freeing, backward's walks, the slabs.

Each C path is compared with what it stands in for, in the same process: the C slot of
``a * b`` with the compiled method ``Value.__mul__(a, b)`` (the generated method, which the
operator no longer reaches), the C walks with engine.py's `_count_consumers` and
`_chain_rule` (compiled by mypyc from the source), field by field and bit for bit.
tests/test_compiled.py compares the whole compiled engine with the Python source in
another process (tests/engine_fingerprint.py: every op, a W1 run and GPT lesson steps).
"""

import gc
import math
import random
import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_it
from micrograd_it import Value, no_grad
from micrograd_it import _compiled, engine

from .test_compiled import _run, needs_compiled

pytestmark = needs_compiled


def _helper():
    from micrograd_it import _nodes

    return _nodes


def _bits(number):
    return struct.pack("<d", number)


def _fields(node):
    """Everything a node holds, floats as their bits (0.0 and -0.0 differ)."""
    return (_bits(node.data), _bits(node.grad), node.label, node.op, node._op, node.op_params,
            tuple(_bits(local) for local in node.local_grads), len(node.children), node.is_leaf)


def test_the_fast_path_is_on_in_the_compiled_build():
    assert _compiled.fast_path() == (True, "")
    assert engine._fast is _helper()


# -- the ops: the C slot against the compiled method -------------------------------------

OPS = [("+", "__add__", "__radd__"), ("-", "__sub__", "__rsub__"), ("*", "__mul__", "__rmul__")]
APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
# Floats where a C translation could slip: mypyc's marker for an undefined float (-113.0),
# signed zeros, subnormals, the largest floats, and values whose product or sum overflows.
SPECIAL = [-113.0, 113.0, 0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1e308,
           1.7976931348623157e308, 1.0, -1.0, 0.1, 3.0]
floats = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=False, allow_infinity=False))


def _same_node(fast, compiled):
    assert type(fast) is type(compiled) is Value
    assert _fields(fast) == _fields(compiled)
    for mine, theirs in zip(fast.children, compiled.children):
        assert mine is theirs or (mine.is_leaf and theirs.is_leaf and _fields(mine) == _fields(theirs))


def _outcome(make):
    try:
        return make(), None
    except (ArithmeticError, ValueError, TypeError) as error:
        return None, (type(error), str(error))


@settings(max_examples=300, deadline=None)
@given(x=floats, y=floats, op=st.sampled_from(OPS), kind=st.sampled_from(["value", "float right", "float left"]))
def test_the_c_ops_make_the_node_the_compiled_method_makes(x, y, op, kind):
    name, method, reflected = op
    a, b = Value(x), Value(y)
    if kind == "value":
        fast = _outcome(lambda: APPLY[name](a, b))
        compiled = _outcome(lambda: getattr(Value, method)(a, b))
    elif kind == "float right":
        fast = _outcome(lambda: APPLY[name](a, y))
        compiled = _outcome(lambda: getattr(Value, method)(a, y))
    else:
        fast = _outcome(lambda: APPLY[name](x, b))
        compiled = _outcome(lambda: getattr(Value, reflected)(b, x))
    assert fast[1] == compiled[1]  # the same error (overflow), or none
    if fast[0] is None:
        return
    _same_node(fast[0], compiled[0])
    if kind == "value":
        assert fast[0].children == (a, b)
    grads = []
    for out in (fast[0], compiled[0]):  # backward through each: the same grads, bit for bit
        a.grad = b.grad = 0.0
        out.backward(0.75)
        grads.append([_bits(child.grad) for child in out.children])
    assert grads[0] == grads[1]


def test_a_gradient_of_minus_113_is_a_gradient():
    # -113.0 is the number mypyc's compiled code reads as "attribute undefined" unless a bit
    # says otherwise: the C walks and ops must set that bit wherever they write it.
    a, b = Value(2.0), Value(-56.5)
    out = a * -113.0 + b * 2.0
    out.backward()
    assert (a.grad, b.grad, out.children[0].local_grads) == (-113.0, 2.0, (-113.0, 2.0))
    assert (-113.0 * a).children[0].data == -113.0 and (a + b * 2.0).data == -111.0


def test_data_and_grad_read_and_written_as_the_compiled_properties_do():
    prop_data, prop_grad = Value.data, Value.grad  # the compiled properties, called directly below
    v = Value(1.5, label="v")
    for number in (-113.0, 0.25, -0.0, 5e-324, 1e308):
        v.data, v.grad = number, number
        assert (_bits(v.data), _bits(v.grad)) == (_bits(prop_data.__get__(v)), _bits(prop_grad.__get__(v)))
        assert (_bits(v.data), _bits(v.grad)) == (_bits(number), _bits(number))
    v.grad = math.nan  # allowed: backward() names a leaf holding one
    assert math.isnan(prop_grad.__get__(v))
    v.grad, v.data = 3, 7  # ints: the properties' conversion
    assert (type(v.grad), v.grad, type(v.data), v.data) == (float, 3.0, float, 7.0)
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError) as fast:
            v.data = bad
        with pytest.raises(ValueError) as compiled:
            prop_data.__set__(v, bad)
        assert str(fast.value) == str(compiled.value) and "label 'v'" in str(fast.value)
    with pytest.raises(TypeError, match="Value.grad"):
        v.grad = "1"
    for name in ("data", "grad", "label", "_grad", "_x"):  # the compiled setters would crash on a deletion
        with pytest.raises(AttributeError, match=f"cannot delete the attribute '{name}' of a Value"):
            delattr(v, name)
    assert v.data == 7.0 and v.label == "v"
    v.label = "w"  # other attributes: as before
    assert v.label == "w"


def test_a_subclass_s_own_data_property_is_used():
    class Clipped(Value):
        __slots__ = ()

        @property
        def grad(self):
            return max(-1.0, min(1.0, Value.grad.__get__(self)))

        @grad.setter
        def grad(self, number):
            Value.grad.__set__(self, number)

    c = Clipped(2.0)
    c.grad = 5.0
    assert c.grad == 1.0 and Value.grad.__get__(c) == 5.0


def test_a_node_made_without_init_raises_as_the_compiled_engine_does():
    # Value.__new__(Value) (as copy and pickle protocols do) leaves every field undefined until set:
    # the C paths must not read mypyc's marker as a number, nor a missing input as a node.
    bare = Value.__new__(Value)
    for use in (lambda: bare * Value(2.0), lambda: Value(2.0) + bare, lambda: bare - 1.0, lambda: 3.0 * bare,
                lambda: bare.data, lambda: bare.grad, bare.backward):
        with pytest.raises(AttributeError, match="undefined"):
            use()
    fast = _helper()
    for walk in (lambda: fast.count_consumers(bare, []), lambda: fast.chain_rule(bare)):
        with pytest.raises(AttributeError, match="'_x' of 'Value' undefined"):
            walk()
    del bare  # freed without reading its missing fields
    a = Value(2.0)
    (a * 3.0).backward()  # the failed backward() left nothing behind
    assert a.grad == 3.0


def test_what_the_c_ops_do_not_take_goes_to_the_compiled_methods_with_their_errors():
    v = Value(2.0, label="v")
    assert _fields(v * 3) == _fields(Value.__mul__(v, 3))  # an int: the compiled method
    assert _fields(True + 0 + v) == _fields(Value.__radd__(v, 1))  # 1, an int again
    for bad in (True, "2", None, [1.0]):
        with pytest.raises(TypeError):
            v * bad
    with pytest.raises(ValueError, match="finite") as error:
        v + math.inf
    with pytest.raises(ValueError) as compiled:
        Value.__add__(v, math.inf)
    assert str(error.value) == str(compiled.value)
    with pytest.raises(OverflowError, match=r"op '\*' gave inf") as error:
        Value(1e300) * Value(1e300)
    with pytest.raises(OverflowError) as compiled:
        Value.__mul__(Value(1e300), Value(1e300))
    assert str(error.value) == str(compiled.value)


def test_under_no_grad_the_ops_make_leaves_and_other_threads_still_record():
    a, b = Value(2.0), Value(3.0)
    inside = threading.Event()
    release = threading.Event()

    def hold_no_grad():
        with no_grad():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold_no_grad)
    thread.start()
    try:
        assert inside.wait(10)
        recorded = a * b + 1.0  # this thread has no no_grad block open: a graph
        assert recorded.children and recorded.children[0].children == (a, b)
        with no_grad():
            leaf = a * b - 2.0
        assert leaf.is_leaf and leaf.data == 4.0
    finally:
        release.set()
        thread.join()
    with no_grad():
        assert (a + b).is_leaf
    assert not (a + b).is_leaf  # every block closed: the C ops again


def test_a_subclass_keeps_its_own_ops_and_mixes_with_values():
    class Logged(Value):
        __slots__ = ()
        calls = 0

        def __add__(self, other):
            Logged.calls += 1
            return Value.__add__(self, other)

    s, v = Logged(1.5), Value(2.0)
    out = s + v
    assert Logged.calls == 1 and out.data == 3.5
    assert _fields(s * v) == _fields(Value.__mul__(s, v))
    assert _fields(v - s) == _fields(Value.__sub__(v, s))
    assert (s * 2.0).children[0] is s


# -- backward's walks: C against the compiled source's --------------------------------------

def _random_graph(rng, size):
    """A root over `size` nodes of + - * (and some tanh), on shared inputs: nodes used many times."""
    leaves = [Value(rng.uniform(-2.0, 2.0), label=f"x{i}") for i in range(8)]
    nodes = list(leaves)
    for _ in range(size):
        a, b = rng.choice(nodes), rng.choice(nodes + [None])
        kind = rng.random()
        if b is None or kind < 0.1:
            node = (a * 0.5).tanh() if b is None else a * rng.uniform(-1.0, 1.0)
        elif kind < 0.5:
            node = a * b
        elif kind < 0.8:
            node = a + b
        else:
            node = a - b
        nodes.append(node)
    return nodes[-1] + sum(nodes[-40:], Value(0.0)), leaves


@pytest.mark.parametrize("seed", range(6))
def test_the_c_walks_give_the_grads_of_the_compiled_source_s_bit_for_bit(seed):
    fast = _helper()
    root, leaves = _random_graph(random.Random(seed), 400)
    nodes = root.nodes()
    results = []
    for count, chain in ((engine._count_consumers, engine._chain_rule), (fast.count_consumers, fast.chain_rule)):
        for node in nodes:
            node._grad = 123.0  # every non-leaf grad must be reset by the walk
        for leaf in leaves:
            leaf._grad = 0.0
        found = []
        before = count(root, found)
        if count is fast.count_consumers:  # it also reads the leaves' grads, as backward() keeps them
            assert [_bits(g) for g in before] == [_bits(leaf.grad) for leaf in found]
        counts = [node._pending for node in nodes]
        root._grad = 1.0
        chain(root)
        assert all(node._pending == 0 for node in nodes)  # every count back at 0
        results.append((found, counts, [_bits(node.grad) for node in nodes]))
    assert results[0][0] == results[1][0]  # the same leaves, in the same order
    assert results[0][1:] == results[1][1:]


@pytest.mark.parametrize("seed", range(4))
def test_the_c_depth_walk_counts_what_trace_values_python_walk_counts(seed):
    from micrograd_it.trace_values import trace_values

    root, _ = _random_graph(random.Random(seed), 300)
    root = root.tanh() * 2.0  # at least one activation on the way down
    nodes = root.nodes()
    activations = [node for node in nodes if node.op == "tanh"]
    memos = []
    for walk in ("python", "c"):
        tracer = trace_values()
        memo = tracer._depth = {}  # what entering the block sets up
        for node in activations[::3]:  # as _add leaves them: some activations' counts already known
            memo[node] = len(memo) % 5 + 1
        if walk == "python":
            depth = tracer._depth_below(root)
        else:
            depth = _helper().activation_depth(root, memo)
        memos.append((depth, {id(node): count for node, count in memo.items()}))
    assert memos[0] == memos[1] and memos[0][0] >= 1


def test_the_c_walks_refuse_what_is_not_a_value():
    fast = _helper()
    with pytest.raises(TypeError, match="Value"):
        fast.chain_rule(3.0)
    with pytest.raises(TypeError):
        fast.count_consumers(Value(1.0), ())
    with pytest.raises(TypeError, match="grads_sum"):
        fast.grads_sum([Value(1.0), 2.0])
    with pytest.raises(TypeError):
        fast.activation_depth(Value(1.0), [])
    with pytest.raises(TypeError, match="Value"):
        fast.activation_depth("root", {})
    assert fast.grads_sum([]) == 0.0


# -- memory --------------------------------------------------------------------------------

def test_a_graph_freed_whole_gives_its_slabs_back_and_the_next_graph_uses_them():
    fast = _helper()
    gc.collect()
    before = fast.memory()
    for _ in range(20):
        x = Value(0.5)
        total = Value(0.0)
        for i in range(20_000):
            total = total + x * float(i % 7)
        total.backward()
        del total, x
    after = fast.memory()
    assert after["nodes"] == before["nodes"]  # every node of the 20 graphs freed
    # the 20 graphs (60,000 nodes each) were made in the same slabs, used again: ~120 slabs, not 20 x 120
    assert after["slabs"] - before["slabs"] <= 60_000 // 512 + 4


def test_the_memory_of_a_large_graph_goes_back_beyond_the_empty_slabs_kept():
    fast = _helper()
    gc.collect()
    before = fast.memory()
    big = [Value(float(i)) for i in range(400_000)]
    assert fast.memory()["slabs"] >= 400_000 // 512  # ~780 slabs hold them
    del big
    after = fast.memory()
    assert after["nodes"] == before["nodes"]
    assert after["empty_slabs"] <= after["empty_slabs_kept"]
    assert after["slabs"] <= before["slabs"] - before["empty_slabs"] + after["empty_slabs_kept"] + 1


def test_blocks_freed_among_live_nodes_are_used_again_so_memory_follows_the_live_nodes():
    fast = _helper()
    gc.collect()
    start = fast.memory()
    kept = []
    for round_ in range(40):
        made = [Value(float(i)) for i in range(10_000)]
        kept += made[round_ % 97::97]  # a few scattered survivors in every slab
        del made
    live = fast.memory()["nodes"] - start["nodes"]
    assert live == len(kept)
    # without using the blocks freed between survivors, 40 rounds would hold 40 x 20 slabs
    assert fast.memory()["slabs"] - start["slabs"] <= (10_000 + len(kept)) // 512 + 4
    assert [v.data for v in kept[:3]] == [0.0, 97.0, 194.0]


def test_a_million_node_chain_of_c_ops_is_freed_without_recursion():
    lines = _run("import micrograd_it as m\n"
                 "x = m.Value(0.5)\n"
                 "for i in range(1_000_000): x = x * 1.0 + 0.0\n"
                 "x.backward(); del x\n"
                 "y = [m.Value(float(i)) - 1.0 for i in range(50_000)]\n"
                 "print(sum(v.data for v in y))", pure=False)
    assert lines == [repr(float(sum(i - 1.0 for i in range(50_000))))]


def test_freeing_a_node_releases_a_count_too_large_to_be_stored_inline():
    import sys

    big = 2**70  # mypyc keeps such an int as a tagged pointer to it, which freeing must release
    node = Value(1.0) * 2.0
    node._pending = big
    before = sys.getrefcount(big)
    del node
    assert sys.getrefcount(big) == before - 1


def test_tracked_nodes_of_the_c_ops_are_seen_and_freed_by_the_collector():
    x, w = Value(0.5), Value(-1.0)
    with _compiled.nodes_tracked():
        inside = x * w + 2.0
        holder = {"node": inside}
        holder["self"] = holder  # a cycle through a dict: only the collector frees it
    assert gc.is_tracked(inside) and not gc.is_tracked(x * w)
    fast = _helper()
    gc.collect()
    count = fast.memory()["nodes"]
    del inside, holder
    gc.collect()
    assert fast.memory()["nodes"] == count - 3  # inside, its leaf 2.0 and x * w


# -- what the C code assumes ---------------------------------------------------------------

def test_the_catalogue_declares_what_the_c_ops_compute():
    from micrograd_it._generate_methods import _inline_expression
    from micrograd_it.catalogue import CATALOGUE, PRODUCT

    expressions = {"+": "x + y", "-": "x - y", "*": "x * y"}  # as written in micrograd_it/_nodes.c's FAST_OP lines
    for name, local in _compiled._C_OPS.items():
        assert _inline_expression(CATALOGUE[name]) == expressions[name]
        assert CATALOGUE[name].declared == (PRODUCT if local == "product" else local)
    with open(micrograd_it.__path__[0] + "/_nodes.c", encoding="utf-8") as source:
        text = source.read()
    assert "FAST_OP(fast_add, compiled_add, add_op, x + y, 1.0, 1.0)" in text
    assert "FAST_OP(fast_sub, compiled_sub, sub_op, x - y, 1.0, -1.0)" in text
    assert "FAST_OP(fast_mul, compiled_mul, mul_op, x * y, y, x)" in text


def test_the_layout_check_says_no_to_a_probe_that_does_not_match():
    fast = _helper()
    a, b = Value(1.25), Value(-113.0)
    probe = Value.__mul__(a, b)
    probe.grad = -113.0
    assert fast.layout_ok(probe, a, b, engine._OP_mul, engine.LEAF)
    assert not fast.layout_ok(probe, b, a, engine._OP_mul, engine.LEAF)  # the inputs swapped
    assert not fast.layout_ok(Value.__add__(a, b), a, b, engine._OP_mul, engine.LEAF)
    with pytest.raises(RuntimeError, match="once"):
        fast.enable(probe, engine.LEAF, engine._OP_add, engine._OP_sub, engine._OP_mul)
    with pytest.raises(RuntimeError, match="once"):
        fast.install(Value, 16)


# -- Adam's step and zero_grad on the Values' own fields -----------------------------------

def _adam_state(opt):
    return ([_bits(p.data) for p in opt._params], [_bits(m) for m in opt.m], [_bits(v) for v in opt.v], opt.steps)


@pytest.mark.parametrize("seed", range(5))
def test_adam_on_the_values_fields_gives_the_list_paths_numbers_bit_for_bit(seed, monkeypatch):
    from micrograd_it import optim

    rng = random.Random(seed)
    data = [rng.choice(SPECIAL[:4] + [rng.gauss(0, 1) * 10 ** rng.uniform(-5, 3)]) for _ in range(40)]
    runs = []
    for kernel in (optim._adam_nodes, None):
        monkeypatch.setattr(optim, "_adam_nodes", kernel)
        params = [Value(x) for x in data]
        params += params[:3]  # a parameter listed twice: both places read before either is written
        opt = optim.Adam(params, lr=0.05, betas=(0.8, 0.95), eps=1e-8)
        grads = random.Random(seed + 100)
        states = []
        for step in range(6):
            for p in params:
                p.grad = grads.choice([0.0, -0.0, grads.gauss(0, 1) * 10 ** grads.uniform(-6, 2)])
            opt.lr = 0.05 * (1 - step / 6)
            opt.step()
            states.append(_adam_state(opt))
        runs.append(states)
    assert runs[0] == runs[1]


def test_adam_nodes_writes_nothing_when_it_cannot_or_must_not(monkeypatch):
    from micrograd_it import optim

    nodes = _helper()

    class Sub(Value):
        pass

    class MyAdam(optim.Adam):
        pass

    args = (1, 0.9, 0.999, 0.1, 0.001, 0.01, 0.1, 0.001, 1e-8)
    params = [Value(1.0), Value(2.0)]
    for p in params:
        p.grad = 0.5
    opt = optim.Adam(params, lr=0.01)
    before = _adam_state(opt)
    assert nodes.adam_nodes(opt, params + [Sub(3.0)], opt.m + [0.0], opt.v + [0.0], *args) is None
    assert nodes.adam_nodes(opt, params, [0, 0.0], opt.v, *args) is None  # an int among the moments
    assert nodes.adam_nodes(opt, params, opt.m[:1], opt.v, *args) is None  # lengths differ
    assert nodes.adam_nodes(opt, tuple(params), opt.m, opt.v, *args) is None
    undefined = _helper().new_instance(Value)
    assert nodes.adam_nodes(opt, [undefined], [0.0], [0.0], *args) is None
    params[1].grad = 1e308  # v = g * g overflows
    assert nodes.adam_nodes(opt, params, opt.m, opt.v, *args) is False
    assert _adam_state(opt) == before
    params[1].grad = 0.5
    # a subclass of Adam may have its own attributes: the list path runs, with the same numbers
    mine, theirs = MyAdam([Value(1.0)], lr=0.01), optim.Adam([Value(1.0)], lr=0.01)
    for opt_ in (mine, theirs):
        opt_._params[0].grad = 0.25
        opt_.step()
    assert _adam_state(mine) == _adam_state(theirs)
    monkeypatch.setattr(optim, "_adam_nodes", lambda *args: pytest.fail("not for a subclass of Adam"))
    mine.step()


def test_a_data_of_minus_113_written_by_adam_nodes_reads_as_a_number():
    # beta 0.5 and corrections 0.5, eps 0: at g = 1 the update is lr exactly, -100 - 13 = -113.0
    opt = type("Opt", (), {})()
    param = Value(-100.0)
    param.grad = 1.0
    assert _helper().adam_nodes(opt, [param], [0.0], [0.0], 1, 0.5, 0.5, 0.5, 0.5, 13.0, 0.5, 0.5, 0.0) is True
    assert param.data == -113.0 and (opt.m, opt.v, opt.steps) == ([0.5], [0.5], 1)


def test_zero_grad_sets_every_grad_in_one_call_or_leaves_them_all_to_setattr():
    from micrograd_it import optim

    class Sub(Value):
        pass

    params = [Value(1.0), Value(2.0), Sub(3.0)]
    for p in params:
        p.grad = 7.0
    assert _helper().zero_grads(params) is None and [p.grad for p in params] == [7.0] * 3
    assert _helper().zero_grads(params[:2]) is True and [p.grad for p in params] == [0.0, 0.0, 7.0]
    for opt in (optim.SGD(params, lr=0.1), optim.Adam(params)):
        for p in params:
            p.grad = -1.5
        opt.zero_grad()
        assert [_bits(p.grad) for p in params] == [_bits(0.0)] * 3
