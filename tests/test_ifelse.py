"""ifelse: Theano's values, types, errors, gradient, shapes and printing, and laziness on every backend.

Laziness is checked without timing: the branches hold a Python op that counts
its runs (or raises), so a run of the branch not taken is seen directly.
Run with the default linker (C) and with ``THEANOLAB_FLAGS=linker=py``.
"""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from helpers import check_infer_shape, random_array
from theanolab.compile.mode import Mode
from theanolab.config import change_flags
from theanolab.gradient import verify_grad
from theanolab.graph.basic import Apply
from theanolab.graph.fgraph import overwrites_an_input
from theanolab.graph.op import Op
from theanolab.ifelse import IfElse, LazyIfElse, ifelse
from theanolab.ifelse.lazy import REASON
from theanolab.tensor.reduce import Sum


class Counted(Op):
    """``x`` unchanged, counting its runs; ``explode=True`` raises instead (a branch that must not run)."""

    __props__ = ("tag", "explode")

    def __init__(self, tag, explode=False):
        self.tag, self.explode, self.runs = tag, explode, 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        if self.explode:
            raise RuntimeError(f"branch {self.tag} ran")
        self.runs += 1
        output_storage[0][0] = inputs[0].copy()

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def grad(self, inputs, output_grads):
        return output_grads


def _lazy_nodes(f):
    return [node for node in f.maker.fgraph.toposort() if isinstance(node.op, LazyIfElse)]


# ---------------------------------------------------------------------- values against NumPy

c = T.iscalar("c")

#: (name, dtype, shape): the branches' type and the values' shape
VALUE_CASES = [
    ("float64 vectors", "float64", (4,)),
    ("float32 matrices", "float32", (2, 3)),
    ("int32 vectors", "int32", (3,)),
    ("empty float64", "float64", (0, 2)),
    ("scalars", "float64", ()),
]


@pytest.mark.parametrize("name, dtype, shape", VALUE_CASES, ids=[case[0] for case in VALUE_CASES])
@pytest.mark.parametrize("cond", [1, 0, -3])
def test_values_are_those_of_the_chosen_branch(name, dtype, shape, cond):
    x, y = (T.tensor(dtype, (False,) * len(shape), name=n) for n in "xy")
    f = theano.function([c, x, y], ifelse(c, x * 2 + y, abs(y) - x))
    xv, yv = random_array(shape, dtype), random_array(shape, dtype, rng=np.random.default_rng(1))
    got = f(cond, xv, yv)
    want = xv * 2 + yv if cond else abs(yv) - xv
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("cond_type, value, taken", [
    ("float64", np.nan, "then"),  # NaN is not 0: true, as in Theano
    ("float64", 0.0, "else"),
    ("float32", -0.5, "then"),
    ("bool", False, "else"),
    ("uint8", 7, "then"),
])
def test_any_scalar_condition_is_true_unless_zero(cond_type, value, taken):
    cond = T.tensor(cond_type, (), name="cond")
    x = T.dvector("x")
    f = theano.function([cond, x], ifelse(cond, x + 1, x - 1))
    assert f(value, [1.0]).tolist() == ([2.0] if taken == "then" else [0.0])


def test_list_branches_shared_variables_and_constants():
    x, y = T.dvectors("x", "y")
    s = theano.shared(np.arange(3.0), name="s")
    first, second, third = ifelse(c, [s * 2, x.sum(), T.constant(1.0)], [s + x, y.max(), T.constant(2.0)])
    f = theano.function([c, x, y], [first, second, third])
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([5.0, -1.0])
    for cond, want in [(1, ([0.0, 2.0, 4.0], 6.0, 1.0)), (0, ([1.0, 3.0, 5.0], 5.0, 2.0))]:
        got = f(cond, xv, yv)
        for value, expected in zip(got, want):
            np.testing.assert_array_equal(value, expected)
    plain = theano.function([c], ifelse(c, s, s * 0))  # a shared value: the output is a copy of it
    out = plain(1)
    out[0] = 99.0
    assert s.get_value()[0] == 0.0


@pytest.mark.parametrize("then_branch, else_branch, kind", [
    ("x", "y", "variable"),
    (["x"], ["y"], list),
    (("x", "y"), ("y", "x"), tuple),
    (["x"], "y", list),       # Theano: the form of the then branch decides
    ("x", ["y"], "variable"),
])
def test_the_result_has_the_form_of_the_then_branch(then_branch, else_branch, kind):
    x, y = T.dvectors("x", "y")
    pick = {"x": x, "y": y}

    def build(spec):
        return type(spec)(pick[s] for s in spec) if isinstance(spec, (list, tuple)) else pick[spec]

    result = ifelse(c, build(then_branch), build(else_branch))
    if kind == "variable":
        assert isinstance(result, T.TensorVariable)
    else:
        assert type(result) is kind and all(isinstance(r.owner.op, IfElse) for r in result)


def test_nested_ifelse_and_both_linkers_agree():
    d = T.iscalar("d")
    x, y = T.dvectors("x", "y")
    z = ifelse(c, ifelse(d, x.sum(), y.sum()), ifelse(d, (x * y).sum(), (x - y).max()))
    xv, yv = np.array([1.0, 2.0]), np.array([5.0, 3.0])
    for linker in ("py", "c|py"):
        f = theano.function([c, d, x, y], z, mode=Mode(linker=linker))
        assert [float(f(i, j, xv, yv)) for i in (1, 0) for j in (1, 0)] == [3.0, 8.0, 11.0, -1.0]


def test_ifelse_inside_a_scan_body():
    x = T.dvector("x")
    steps, _ = theano.scan(lambda xi, acc: ifelse(T.gt(xi, 0), acc + xi, acc * 2), sequences=x,
                           outputs_info=T.constant(1.0, dtype="float64"))
    f = theano.function([x], steps)
    np.testing.assert_array_equal(f([1.0, -1.0, 2.0, -3.0]), [2.0, 4.0, 6.0, 12.0])


def test_an_in_place_node_stays_outside_when_what_it_overwrites_is_read_outside():
    x, y = T.dvectors("x", "y")
    v = x * 2
    total = v.sum()
    f = theano.function([x, y], ifelse(T.gt(total, 0), v + total, (y * 3).sum() * y))
    # v + total may overwrite v (the sum read it before); inside the branch it would overwrite an input
    [lazy] = _lazy_nodes(f)
    assert not any(overwrites_an_input(n, set(graph.inputs)) for graph in lazy.op.branches for n in graph.apply_nodes)
    xv, yv = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    np.testing.assert_allclose(f(xv, yv), xv * 2 + 6.0)
    np.testing.assert_allclose(f(-xv, yv), 0.0 * yv)


# ---------------------------------------------------------------------- laziness


def _branches(explode_else=False):
    x, y = T.dvectors("x", "y")
    then_op, else_op = Counted("then"), Counted("else", explode=explode_else)
    return x, y, then_op, else_op, then_op(x).sum() * 2, (else_op(y) ** 2).sum()


MODES = [None, "FAST_COMPILE", Mode(optimizer=None), Mode(linker="py"), Mode(linker="cvm"), "NanGuardMode"]


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_only_the_taken_branch_runs_in_every_mode(mode):
    x, y, then_op, else_op, then_value, else_value = _branches()
    f = theano.function([c, x, y], ifelse(c, then_value, else_value), mode=mode)
    xv, yv = np.array([1.0, 2.0]), np.array([3.0])
    assert float(f(1, xv, yv)) == 6.0 and (then_op.runs, else_op.runs) == (1, 0)
    assert float(f(0, xv, yv)) == 9.0 and (then_op.runs, else_op.runs) == (1, 1)
    assert float(f(0, xv, yv)) == 9.0 and (then_op.runs, else_op.runs) == (1, 2)


def test_a_branch_that_would_fail_is_never_run_and_switch_runs_both():
    x, y, _, _, then_value, else_value = _branches(explode_else=True)
    f = theano.function([c, x, y], ifelse(c, then_value, else_value))
    assert float(f(1, [1.0], [1.0])) == 2.0
    with pytest.raises(RuntimeError, match="branch else ran"):
        f(0, [1.0], [1.0])
    eager = theano.function([c, x, y], T.switch(c, then_value, else_value))
    with pytest.raises(RuntimeError, match="branch else ran"):
        eager(1, [1.0], [1.0])


def test_debugmode_checks_the_lazy_graph_against_the_users_which_runs_both_branches():
    x, y = T.dvectors("x", "y")
    z = ifelse(c, (x * 2).sum(), ifelse(T.gt(y.sum(), 0), y.max(), y.min()))
    f = theano.function([c, x, y], [z] + theano.grad(z, [x, y]), mode="DebugMode")
    for cond, yv, want in [(1, [3.0, 4.0], (6.0, [2.0, 2.0], [0.0, 0.0])),
                           (0, [3.0, -4.0], (-4.0, [0.0, 0.0], [0.0, 1.0]))]:
        for value, expected in zip(f(cond, [1.0, 2.0], yv), want):
            np.testing.assert_array_equal(value, expected)
    x, y, _, _, then_value, else_value = _branches(explode_else=True)
    checked = theano.function([c, x, y], ifelse(c, then_value, else_value), mode="DebugMode")
    with pytest.raises(RuntimeError, match="branch else ran"):  # the user's graph computes both, as in Theano
        checked(1, [1.0], [1.0])


def test_work_shared_with_the_condition_or_both_branches_runs_once_outside():
    x, y = T.dvectors("x", "y")
    shared_op, then_op, else_op = Counted("shared"), Counted("then"), Counted("else")
    common = shared_op(x)
    f = theano.function([x, y], ifelse(T.gt(common.sum(), 0), then_op(common * y).sum(), else_op(common).max()))
    assert float(f([1.0, 2.0], [3.0, 4.0])) == 11.0
    assert (shared_op.runs, then_op.runs, else_op.runs) == (1, 1, 0)
    [lazy] = _lazy_nodes(f)
    assert not any(isinstance(n.op, Counted) and n.op.tag == "shared"
                   for graph in lazy.op.branches for n in graph.apply_nodes)


def test_the_tutorial_graph_moves_each_mean_into_its_branch_and_records_the_step():
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    f = theano.function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.mean(y)), mode=Mode(linker="vm"))
    [lazy] = _lazy_nodes(f)
    assert not any(isinstance(n.op, Sum) for n in f.maker.fgraph.apply_nodes)  # no mean computed outside
    assert [sum(isinstance(n.op, Sum) for n in graph.apply_nodes) for graph in lazy.op.branches] == [1, 1]
    assert REASON in f.maker.rewrite_history.rewrites_used()
    assert float(f(0, 1, np.ones((3, 2)), np.zeros((3, 2)))) == 1.0
    assert float(f(1, 0, np.ones((3, 2)), np.zeros((3, 2)))) == 0.0


def test_branches_with_nothing_to_defer_stay_a_plain_ifelse():
    x, y = T.dvectors("x", "y")
    f = theano.function([c, x, y], [ifelse(c, x, y), ifelse(c, x, y).shape])
    assert not _lazy_nodes(f)
    assert [str(n.op) for n in f.maker.fgraph.toposort() if isinstance(n.op, IfElse)] == ["if{}", "if{shape}"]
    value, shape = f(0, [1.0, 2.0], [3.0])
    assert value.tolist() == [3.0] and shape.tolist() == [1]


def test_a_compiled_lazy_function_pickles_and_copies():
    x, y, then_op, else_op, then_value, else_value = _branches()
    f = theano.function([c, x, y], ifelse(c, then_value, else_value))
    again = pickle.loads(pickle.dumps(f))
    assert float(again(0, [1.0], [2.0])) == 4.0
    assert float(f.copy()(1, [1.0], [2.0])[0]) == 2.0


def test_on_the_c_backend_a_branch_is_one_c_function():
    x, y = T.dvectors("x", "y")
    f = theano.function([c, x, y], ifelse(c, (x * 2).sum(), (y + 1).max()), mode=Mode(linker="c|py"))
    [lazy] = _lazy_nodes(f)
    assert not f.one_c_function and f.node_backends[lazy] == "py"  # the choice itself runs perform
    branches = lazy.op._functions.values()
    from theanolab.backends.c.build import compiler_available
    assert all(branch.one_c_function for branch in branches) == compiler_available()
    assert float(f(1, [1.0, 2.0], [5.0])) == 6.0 and float(f(0, [1.0, 2.0], [5.0])) == 6.0


def test_on_the_simulated_gpu_the_choice_stays_on_the_cpu_and_values_agree():
    from theanolab.backends.c.build import compiler_available

    if not compiler_available():
        pytest.skip("the simulated GPU needs the C compiler")
    args = (0.0, 1.0, np.ones((3, 2), "float32"), np.zeros((3, 2), "float32"))
    with change_flags(device="cuda", gpu_simulator=True, floatX="float32"):
        a, b = T.scalars("a", "b")
        x, y = T.matrices("x", "y")
        f = theano.function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.mean(y)))
        assert float(f(*args)) == 1.0 and float(f(1.0, 0.0, *args[2:])) == 0.0
        [lazy] = _lazy_nodes(f)
        assert f.node_backends[lazy] == "py"


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("build, error, match", [
    (lambda x, y: ifelse(x, x, y), TypeError, "condition must be a scalar"),
    (lambda x, y: ifelse(c, x, T.fvector()), TypeError, "identical types.*float64.*float32"),
    (lambda x, y: ifelse(c, x, T.dmatrix()), TypeError, "identical types.*vector.*matrix"),
    (lambda x, y: ifelse(c, x, 0.0), TypeError, "identical types.*float32, scalar"),
    (lambda x, y: ifelse(c, T.drow(), T.dmatrix()), TypeError, "identical types.*row.*matrix"),
    (lambda x, y: ifelse(c, [x, y], [y]), ValueError, "then branch has 2 value.*else branch has 1"),
    (lambda x, y: IfElse(2)(c, x, y), ValueError, "4 branch values"),
])
def test_errors_name_what_was_expected(build, error, match):
    x, y = T.dvectors("x", "y")
    with pytest.raises(error, match=match):
        build(x, y)


# ---------------------------------------------------------------------- gradient, R_op, shapes


@pytest.mark.parametrize("cond", [1, 0])
def test_gradient_flows_into_the_chosen_branch_only(cond):
    rng = np.random.default_rng(3)
    xv, yv = rng.uniform(0.5, 2, size=3), rng.uniform(0.5, 2, size=3)
    verify_grad(lambda x, y: ifelse(T.constant(cond, dtype="int8"), (x ** 2).sum() * y, T.exp(y) * x),
                [xv, yv], rng=rng)
    x, y = T.dvectors("x", "y")
    cf = T.dscalar("cf")
    gx, gy, gc = theano.grad(ifelse(cf, (x * 3).sum(), (y ** 2).sum()), [x, y, cf])
    f = theano.function([cf, x, y], [gx, gy, gc])
    got_x, got_y, got_c = f(float(cond), xv, yv)
    np.testing.assert_allclose(got_x, 3.0 if cond else 0.0)
    np.testing.assert_allclose(got_y, 0.0 if cond else 2 * yv)
    assert float(got_c) == 0.0  # the condition gets zeros, as in Theano


def test_rop_is_the_chosen_branchs():
    x, y, v = T.dvectors("x", "y", "v")
    f = theano.function([c, x, y, v], T.Rop(ifelse(c, x * 2, y), x, v), on_unused_input="ignore")
    assert f(1, [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]).tolist() == [10.0, 12.0]
    assert f(0, [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("cond", [1, 0])
def test_infer_shape(cond):
    x, m = T.dvector("x"), T.dmatrix("m")
    outputs = ifelse(c, [x[1:], m], [x * 2, m.T])
    check_infer_shape(outputs, [c, x, m], [cond, np.arange(4.0), np.ones((2, 3))])


# ---------------------------------------------------------------------- names and printing


def test_op_names_equality_and_printing_are_theanos():
    x, y = T.dvectors("x", "y")
    assert (str(IfElse(1)), str(IfElse(2, name="foo"))) == ("if{}", "if{foo}")
    assert IfElse(1, name="a") == IfElse(1, name="b") and IfElse(1) != IfElse(2)
    z = ifelse(c, x, y, name="pick")
    assert z.name is None and str(z.owner.op) == "if{pick}"
    assert theano.pp(ifelse(c, x * 2, y)) == "if{}(c, (x * 2), y)"
    pair = ifelse(c, [x, y], [y, x])
    assert [line.rstrip() for line in theano.printing.debugprint(pair, file="str").splitlines()] == [
        "if{}.0 [id A] ''", " |c [id B]", " |x [id C]", " |y [id D]", " |y [id D]", " |x [id C]",
        "if{}.1 [id A] ''"]


def test_a_compiled_lazy_node_prints_its_branches_as_inner_graphs():
    x, y = T.dvectors("x", "y")
    f = theano.function([c, x, y], ifelse(c, T.exp(x).sum(), y.max()), mode=Mode(linker="py"))
    text = theano.printing.debugprint(f, file="str")
    assert text.startswith("if{lazy} [id A] ''")
    assert "\nInner graphs:\n" in text
    # each branch reads the outer x and y (ids C and D) through an inner input of its own
    assert re.search(r"^ > +\|x \[id \w+\] -> \[id C\]$", text, re.M)
    assert re.search(r"^ > +\|y \[id \w+\] -> \[id D\]$", text, re.M)
