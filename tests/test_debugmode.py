"""DebugMode: broken rewrites, undeclared in-place writes and views, invalid outputs are caught and named."""

import sys

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import function
from theanolab.compile import get_mode
from theanolab.compile.debugmode import (
    BadDestroyMap,
    BadOptimization,
    BadViewMap,
    DebugMode,
    DebugModeError,
    InvalidValueError,
    value_difference,
)
from theanolab.graph.basic import Apply
from theanolab.graph.op import Op
from theanolab.graph.rewriting import SequenceRewriter, WalkingRewriter, node_rewriter, optdb, register
from theanolab.tensor import math as tm
from theanolab.tensor.type import TensorType

from helpers import random_array


def _line_before():
    """The line number of the caller's previous line (where a test built its expression)."""
    return sys._getframe(1).f_lineno - 1


# --------------------------------------------------------------------------- deliberately broken rewrites


@node_rewriter([tm.exp.op])
def broken_exp(fgraph, node):
    """exp(x) -> exp(x) + 1 (wrong on purpose)"""
    return [tm.exp(node.inputs[0]) + 1]


@node_rewriter([tm.add.op])
def commute_add(fgraph, node):
    """a + b -> b + a (correct; rebuilds the node a broken rule made)"""
    if len(node.inputs) == 2:
        return [node.inputs[1] + node.inputs[0]]
    return None


@node_rewriter([tm.log1p.op])
def broken_log1p(fgraph, node):
    """log1p(x) -> log(x) (wrong on purpose: forgets the 1)"""
    return [tm.log(node.inputs[0])]


def _mode(*rules):
    """DebugMode running only ``rules``, each in one pass."""
    return DebugMode(optimizer=SequenceRewriter([WalkingRewriter([rule]) for rule in rules]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_broken_rewrite_is_named(dtype):
    x = T.vector('x', dtype=dtype)
    y = T.exp(x) * 2
    line = _line_before()
    f = function([x], y, mode=_mode(broken_exp))
    assert "broken_exp" in f.maker.rewrite_history.rewrites_used()
    with pytest.raises(BadOptimization) as info:
        f(random_array((3,), dtype))
    message = str(info.value)
    assert "Rewrite responsible: 'broken_exp' (exp(x) -> exp(x) + 1 (wrong on purpose); step 1" in message
    assert f"line {line}" in message and __file__ in message  # the user's line that built exp(x)
    assert isinstance(info.value, DebugModeError) and isinstance(info.value, ValueError)


def test_a_broken_rewrite_registered_in_the_optimizer_is_named():
    register("stabilize", "debugmode_test_rule")(broken_log1p)
    try:
        x = T.dvector('x')
        f = function([x], T.log1p(x) + 3, mode=DebugMode().including("debugmode_test_rule"))
        with pytest.raises(BadOptimization, match="Rewrite responsible: 'broken_log1p'"):
            f([0.5, 2.0])
        # The same graph without the broken rule runs clean.
        clean = function([x], T.log1p(x) + 3, mode='DebugMode')
        np.testing.assert_allclose(clean([0.5, 2.0]), np.log1p([0.5, 2.0]) + 3)
    finally:
        del optdb["stabilize"].entries["broken_log1p"]


@pytest.mark.cpu_only
def test_the_rule_that_made_the_value_wrong_is_named_even_when_another_rebuilt_the_node():
    x = T.dvector('x')
    f = function([x], T.exp(x), mode=_mode(broken_exp, commute_add))
    assert list(f.maker.rewrite_history.rewrites_used()) == ["broken_exp", "commute_add"]
    with pytest.raises(BadOptimization) as info:
        f([1.0, 2.0])
    message = str(info.value)
    assert "Rewrite responsible: 'broken_exp'" in message
    assert "created by rewrite 'commute_add'" in message


@pytest.mark.cpu_only
@pytest.mark.parametrize("copy", [False, True], ids=["function", "copy"])
def test_a_difference_the_outputs_hide_is_caught_at_its_node(copy):
    x = T.dvector('x')
    f = function([x], T.exp(x) * 0, mode=_mode(broken_exp))
    if copy:
        f = f.copy()
    with pytest.raises(BadOptimization) as info:
        f([1.0])
    message = str(info.value)
    assert "created by rewrite 'broken_exp'" in message
    assert "Rewrite responsible" not in message  # no step changes the outputs: the node's creator is named


# --------------------------------------------------------------------------- correct rewrites pass


GRAPHS = {
    "log1p": lambda x, y: T.log(1 + x),
    "collect": lambda x, y: (x + y) + (x + y),
    "identities": lambda x, y: (x * 1 + 0) - y / y,
    "exp_log": lambda x, y: T.exp(T.log(x)) + T.log(T.exp(y)),
    "reductions": lambda x, y: (x * y).sum() + x.max(),
    "sigmoid": lambda x, y: 1 / (1 + T.exp(-x)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(GRAPHS))
def test_the_standard_rewrites_pass_the_checks(name, dtype):
    x, y = T.vector('x', dtype=dtype), T.vector('y', dtype=dtype)
    out = GRAPHS[name](x, y)
    values = [np.abs(random_array((4,), dtype, np.random.default_rng(seed))) + 0.5 for seed in (1, 2)]
    expected = function([x, y], out, mode='FAST_COMPILE', on_unused_input='ignore')(*values)
    for mode in ('DebugMode', 'DEBUG_MODE'):
        f = function([x, y], out, mode=mode, on_unused_input='ignore')
        np.testing.assert_allclose(f(*values), expected, rtol=1e-5)


def test_integer_and_empty_graphs_pass():
    i = T.lvector('i')
    f = function([i], (i + i) * 3 - i, mode='DebugMode')
    np.testing.assert_array_equal(f([1, 2, 3]), [5, 10, 15])
    np.testing.assert_array_equal(f(np.zeros(0, dtype='int64')), [])


def test_updates_of_shared_variables_are_checked_and_applied():
    x = T.dvector('x')
    s = theanolab.shared(np.zeros(2), name='s')
    f = function([x], s * 2, updates=[(s, s + x)], mode='DebugMode')
    np.testing.assert_array_equal(f([1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    np.testing.assert_array_equal(s.get_value(), [2.0, 4.0])


@node_rewriter([tm.true_div.op])
def div_self_is_one(fgraph, node):
    """a / a -> 1 (what Theano does; it rescues 0/0)"""
    a, b = node.inputs
    return [T.ones_like(a)] if a is b else None


@node_rewriter([tm.sub.op])
def cancel_added_term(fgraph, node):
    """(a + b) - a -> b (exact; the user's form loses b's digits when a is large)"""
    total, a = node.inputs
    if total.owner is not None and total.owner.op == tm.add.op and total.owner.inputs[0] is a:
        return [total.owner.inputs[1]]
    return None


def test_a_rewrite_more_accurate_than_the_users_graph_is_accepted():
    x, y = T.dvectors('x', 'y')
    f = function([x, y], (x + y) - x, mode=_mode(cancel_added_term))
    assert "cancel_added_term" in f.maker.rewrite_history.rewrites_used()
    naive = function([x, y], (x + y) - x, mode='FAST_COMPILE')([1e10], [0.123456789])
    assert not np.isclose(naive, 0.123456789, rtol=1e-8, atol=1e-8)  # only the rounding spread excuses it
    np.testing.assert_array_equal(f([1e10], [0.123456789]), [0.123456789])


def test_where_the_users_graph_gives_nan_any_value_is_accepted():
    x = T.dvector('x')
    f = function([x], x / x, mode=_mode(div_self_is_one))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(f([0.0, 2.0]), [1.0, 1.0])


# --------------------------------------------------------------------------- ops that break their promises


class AddOneInPlace(Op):
    """x + 1 written into x; ``declared`` says whether destroy_map tells."""

    __props__ = ("declared",)

    def __init__(self, declared):
        self.declared = declared
        self.destroy_map = {0: [0]} if declared else {}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        np.add(inputs[0], 1, out=inputs[0])
        outputs[0][0] = inputs[0]


class Identity(Op):
    """Returns its input's memory; ``declared`` says whether view_map tells."""

    __props__ = ("declared",)

    def __init__(self, declared):
        self.declared = declared
        self.view_map = {0: [0]} if declared else {}

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0][::1]


@pytest.mark.parametrize("optimizer", ["fast_run", None])
def test_an_undeclared_write_into_an_input_is_caught(optimizer):
    x = T.dvector('x')
    out = AddOneInPlace(False)(T.exp(x)) * 2
    line = _line_before()
    with pytest.raises(BadDestroyMap) as info:
        function([x], out, mode=DebugMode(optimizer=optimizer))([0.0])
    message = str(info.value)
    assert "AddOneInPlace{declared=False} modified its input 0" in message
    assert "destroy_map {} does not declare it" in message and f"line {line}" in message


def test_a_declared_write_into_an_input_passes():
    x = T.dvector('x')
    f = function([x], AddOneInPlace(True)(T.exp(x)) * 2, mode=DebugMode(optimizer=None))
    np.testing.assert_allclose(f([0.0]), [4.0])


@pytest.mark.parametrize("declared", [False, True])
def test_an_undeclared_view_of_an_input_is_caught(declared):
    x = T.dvector('x')
    f = function([x], Identity(declared)(T.exp(x)) + 1, mode='DebugMode')
    if declared:
        np.testing.assert_allclose(f([0.0]), [2.0])
        return
    with pytest.raises(BadViewMap, match=r"output 0 of Identity\{declared=False\} shares memory with its input 0"):
        f([0.0])


class WrongValue(Op):
    """Claims ``type`` for its output but returns ``make(x)``."""

    __props__ = ("label",)

    def __init__(self, label, type, make):
        self.label, self.type, self.make = label, type, make

    def make_node(self, x):
        return Apply(self, [T.as_tensor_variable(x)], [self.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = self.make(inputs[0])


WRONG_VALUES = [
    ("dtype", TensorType("float64", (False,)), lambda x: x.astype("float32"), "expects dtype float64"),
    ("ndim", TensorType("float64", (False,)), lambda x: x[None], "Wrong number of dimensions"),
    ("broadcastable", TensorType("float64", (True,)), lambda x: x, "broadcastable dimension"),
    ("not_an_array", TensorType("float64", ()), lambda x: float(x.sum()), "expects a numpy.ndarray"),
]


@pytest.mark.parametrize("label, type_, make, why", WRONG_VALUES, ids=[w[0] for w in WRONG_VALUES])
def test_an_output_invalid_for_its_type_is_caught(label, type_, make, why):
    x = T.dvector('x')
    f = function([x], WrongValue(label, type_, make)(x), mode='DebugMode')
    with pytest.raises(InvalidValueError, match=f"output 0 of WrongValue.*{why}") as info:
        f([1.0, 2.0])
    assert isinstance(info.value, TypeError)


# --------------------------------------------------------------------------- comparison and presets


@pytest.mark.parametrize("dtype, reference, value, equal", [
    ("float64", [1.0], [1.0 + 1e-10], True),
    ("float64", [1.0], [1.0 + 1e-6], False),
    ("float32", [1.0], [1.00001], True),
    ("float32", [1.0], [1.001], False),
    ("float16", [1.0], [1.005], True),
    ("float16", [1.0], [1.1], False),
    ("int64", [3], [3], True),
    ("int64", [3], [4], False),
    ("bool", [True], [False], False),
    ("float64", [np.nan, np.inf], [5.0, -800.0], True),  # the user's graph failed there
    ("float64", [1.0], [np.nan], False),
    ("float64", [], [], True),
    ("float64", [1.0, 2.0], [1.0], False),
])
def test_value_difference_uses_a_tolerance_per_dtype(dtype, reference, value, equal):
    difference = value_difference(np.array(reference, dtype=dtype), np.array(value, dtype=dtype))
    assert (difference is None) == equal, difference


@pytest.mark.parametrize("dtype, reference, value, spread, equal", [
    ("float64", [1.0, 5.0], [1.1, 5.0], [0.2, 0.0], True),
    ("float64", [1.0, 5.0], [1.1, 5.1], [0.2, 0.0], False),
    ("int64", [1, 2], [0, 2], [1.0, 0.0], True),
    ("int64", [1, 2], [1, 3], [1.0, 0.0], False),
])
def test_value_difference_accepts_the_references_rounding_spread(dtype, reference, value, spread, equal):
    difference = value_difference(np.array(reference, dtype=dtype), np.array(value, dtype=dtype), np.array(spread))
    assert (difference is None) == equal, difference
    if not equal:
        assert "rounding spread there: 0" in difference


def test_presets_and_exports():
    from theanolab.compile.mode import DebugMode as from_mode

    assert theanolab.DebugMode is theanolab.compile.DebugMode is from_mode is DebugMode
    for name in ("DebugMode", "DEBUG_MODE"):
        mode = get_mode(name)
        assert isinstance(mode, DebugMode) and mode.optimizer == "fast_run"
    assert isinstance(DebugMode().excluding("log1p"), DebugMode)
    assert DebugMode() == DebugMode() != DebugMode(optimizer=None)
    x = T.dscalar('x')
    with theanolab.change_flags(mode='DebugMode'):
        f = function([x], x * 2)
    assert isinstance(f.maker.mode, DebugMode) and float(f(2.0)) == 4.0
