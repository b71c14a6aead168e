"""The rewrite history: every step recorded, and every intermediate graph rebuilt and run.

Acceptance 2 of issue 3: the tutorial's logistic-regression training function
replays from the user's graph to the graph that runs, step by step, and each
intermediate graph computes the same values.  The toy rules at the top give
the exact-record tests full control over what fires; the logistic-regression
tests use the real FAST_RUN rewrites, whatever the rule modules register.
"""

import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.config import change_flags
from theanolab.graph.basic import clone_replace
from theanolab.graph.fgraph import FunctionGraph, InconsistencyError
from theanolab.graph.rewriting import (
    EquilibriumRewriter,
    RewriteHistory,
    SequenceRewriter,
    graph_rewriter,
    node_rewriter,
)
from theanolab.printing import debugprint, pp
from theanolab.tensor import math as tm

# The records of CPU compilations (step counts, op names); its module fixtures compile on the CPU too.
pytestmark = pytest.mark.cpu_only

HERE = Path(__file__).resolve()
PACKAGE = Path(theanolab.__file__).resolve().parent


@node_rewriter([tm.neg.op])
def double_negation(fgraph, node):
    """neg(neg(x)) -> x"""
    inner = node.inputs[0].owner
    if inner is not None and inner.op == tm.neg.op:
        return [inner.inputs[0]]
    return None


@node_rewriter([tm.exp.op])
def exp_to_tanh(fgraph, node):
    """exp(x) -> tanh(x) (wrong on purpose: a validator refuses it)"""
    return [tm.tanh(node.inputs[0])]


@node_rewriter([tm.sub.op])
def sub_to_add_neg(fgraph, node):
    """x - y -> x + neg(y)"""
    x, y = node.inputs
    return [x + tm.neg(y)]


def definition_line(name):
    """The line of ``def name`` in this file (a decorator line just above is accepted too)."""
    lines = HERE.read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines) if line.startswith(f"def {name}("))


def source_path(source):
    """A rule's recorded source file as a path (recorded relative to the theanolab package)."""
    return (PACKAGE / source[0]).resolve()


def toy_mode(*rewriters):
    return theanolab.Mode(linker="py", optimizer=SequenceRewriter(rewriters, name="toy"))


def op_names(fgraph):
    return sorted(str(node.op) for node in fgraph.apply_nodes)


def text(fgraph):
    return debugprint(fgraph, file="str")


def evaluate(fgraph, values):
    """Run ``fgraph``'s outputs, updates included, as plain outputs with no rewrite.

    Its inputs (shared variables included) become explicit inputs fed ``values``
    (copied: a graph with in-place nodes may overwrite what it is given).
    """
    fresh = [var.type(name=var.name) for var in fgraph.inputs]
    outputs = clone_replace(list(fgraph.outputs), dict(zip(fgraph.inputs, fresh)), strict=False)
    f = theanolab.function(fresh, outputs, mode=theanolab.Mode(optimizer=None), on_unused_input="ignore")
    return f(*[np.array(v, copy=True) for v in values])


def assert_same_values(got, expected, where):
    assert len(got) == len(expected), where
    for index, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(np.asarray(g, dtype="float64"), np.asarray(e, dtype="float64"),
                                   rtol=1e-7, atol=1e-12, err_msg=f"{where}, output {index}")


# --------------------------------------------------------------------------- the record of each step


def test_each_step_records_rule_source_replacements_and_nodes():
    x = T.dvector("x")
    out = tm.neg(tm.neg(T.exp(x)))
    f = theanolab.function([x], out, mode=toy_mode(EquilibriumRewriter([double_negation])))
    history = f.maker.rewrite_history
    assert len(history) == 1
    step = history[0]
    assert step.index == 1 and step.rewrite == "double_negation" and step.committed
    assert step.rule == "neg(neg(x)) -> x"
    assert source_path(step.source) == HERE
    assert step.source[1] in (definition_line("double_negation") - 1, definition_line("double_negation"))
    (old, new), = step.replacements
    assert old.owner.op == tm.neg.op and new.owner.op == tm.exp.op
    assert step.added == []
    assert sorted(str(node.op) for node in step.removed) == ["Elemwise{neg,no_inplace}"] * 2
    assert history.rewrites_used() == {"double_negation": 1}
    assert "step 1: double_negation" in str(history) and "test_history.py" in str(history)
    assert f([0.0, 1.0]).tolist() == pytest.approx(np.exp([0.0, 1.0]).tolist())


def test_added_nodes_know_the_rule_that_created_them_and_what_they_stand_for():
    x, y = T.dvectors("x", "y")
    out = x - y
    f = theanolab.function([x, y], out, mode=toy_mode(EquilibriumRewriter([sub_to_add_neg])))
    history = f.maker.rewrite_history
    step, = history.steps
    assert sorted(str(node.op) for node in step.added) == ["Elemwise{add,no_inplace}", "Elemwise{neg,no_inplace}"]
    assert [str(node.op) for node in step.removed] == ["Elemwise{sub,no_inplace}"]
    final = f.maker.fgraph.outputs[0]
    assert final.owner.tag.created_by == "sub_to_add_neg"
    assert all(node.tag.created_by == "sub_to_add_neg" for node in step.added)
    original = history.origin[final]
    assert original.owner.op == tm.sub.op and pp(original) == pp(out)
    assert history.origin[f.maker.fgraph.inputs[0]] is f.maker.fgraph.inputs[0]  # untouched: itself


def test_real_rule_records_its_source_line():
    x = T.dvector("x")
    f = theanolab.function([x], T.log(1 + x), mode="FAST_RUN")
    history = f.maker.rewrite_history
    step = next(s for s in history if s.rewrite == "log1p")
    path, line = source_path(step.source), step.source[1]
    assert path.name == "stabilize.py"
    definition = path.read_text().splitlines()[line - 1:line + 2]  # the rule, or its decorator and def
    assert any("log1p" in text for text in definition), definition
    assert step.rule and "log1p" in step.rule
    assert any(node.tag.get("created_by") == "log1p" for node in f.maker.fgraph.apply_nodes)


def test_graph_at_checks_its_range_and_a_history_records_one_graph():
    x = T.dvector("x")
    f = theanolab.function([x], tm.neg(tm.neg(x)), mode=toy_mode(EquilibriumRewriter([double_negation])))
    history = f.maker.rewrite_history
    with pytest.raises(IndexError, match="steps 0 to 1"):
        history.graph_at(2)
    with pytest.raises(IndexError):
        history.graph_at(-1)
    with pytest.raises(ValueError, match="one graph"):
        FunctionGraph([x], [tm.exp(x)]).attach_feature(history)


def test_a_cloned_graph_starts_a_history_of_its_own():
    x = T.dvector("x")
    history = RewriteHistory()
    fgraph = FunctionGraph([x], [tm.neg(tm.neg(x))], features=[history])
    EquilibriumRewriter([double_negation]).apply(fgraph)
    copy = fgraph.clone()
    histories = [f for f in copy.features if isinstance(f, RewriteHistory)]
    assert len(histories) == 1 and histories[0] is not history and len(histories[0]) == 0
    assert text(histories[0].graph_at(0)) == text(fgraph)


def test_a_change_outside_replace_all_is_a_step_of_its_own():
    x, y = T.dvectors("x", "y")
    history = RewriteHistory()
    fgraph = FunctionGraph([x, y], [tm.exp(x) + y], features=[history])
    add = fgraph.outputs[0].owner
    fgraph.change_node_input(add, 0, fgraph.inputs[0])  # exp(x) + y -> x + y, by hand
    EquilibriumRewriter([sub_to_add_neg]).apply(fgraph)  # nothing to do
    step, = history.steps
    assert step.rewrite == "change" and step.committed
    assert [str(node.op) for node in step.removed] == ["Elemwise{exp,no_inplace}"]
    assert text(history.graph_at(1)) == text(fgraph)
    assert op_names(history.graph_at(0)) == ["Elemwise{add,no_inplace}", "Elemwise{exp,no_inplace}"]


# --------------------------------------------------------------------------- printing as it happens


def test_optimizer_verbose_prints_each_step_as_it_happens(capsys):
    @graph_rewriter
    def marker(fgraph):
        print("--- between the phases ---")

    x, y = T.dvectors("x", "y")
    mode = toy_mode(EquilibriumRewriter([double_negation]), marker, EquilibriumRewriter([sub_to_add_neg]))
    with change_flags(optimizer_verbose=True):
        f = theanolab.function([x, y], tm.neg(tm.neg(x)) - y, mode=mode)
    printed = capsys.readouterr().out
    first, second = (step.describe() for step in f.maker.rewrite_history)
    assert printed.index(first) < printed.index("--- between the phases ---") < printed.index(second)
    assert "step 1: double_negation" in first and "step 2: sub_to_add_neg" in second
    with change_flags(optimizer_verbose=False):
        theanolab.function([x, y], tm.neg(tm.neg(x)) - y, mode=mode)
    assert capsys.readouterr().out == "--- between the phases ---\n"


# --------------------------------------------------------------------------- refused steps


class RefuseTanh:
    """A validator refusing any graph with a tanh node in it."""

    def validate(self, fgraph):
        if any(node.op == tm.tanh.op for node in fgraph.apply_nodes):
            raise InconsistencyError("no tanh here")


@graph_rewriter
def attach_refuse_tanh(fgraph):
    fgraph.attach_feature(RefuseTanh())


def test_refused_step_is_recorded_uncommitted_and_replays_to_the_right_graph():
    x = T.dvector("x")
    out = tm.neg(tm.neg(T.exp(x) * 2.0))
    mode = toy_mode(attach_refuse_tanh, EquilibriumRewriter([exp_to_tanh, double_negation]))
    f = theanolab.function([x], out, mode=mode)
    history = f.maker.rewrite_history
    assert op_names(f.maker.fgraph) == ["Elemwise{exp,no_inplace}", "Elemwise{mul,no_inplace}",
                                        "InplaceDimShuffle{x}"]
    refused = [step for step in history if not step.committed]
    committed = [step for step in history if step.committed]
    assert refused and all(step.rewrite == "exp_to_tanh" for step in refused)
    assert [step.rewrite for step in committed] == ["double_negation"]
    assert "refused by validation" in refused[0].describe()
    # the exp node put back by the undo was not created by the refused rule
    exp_node = next(node for node in f.maker.fgraph.apply_nodes if node.op == tm.exp.op)
    assert "created_by" not in exp_node.tag
    assert [str(node.op) for node in refused[0].added] == ["Elemwise{tanh,no_inplace}"]
    values = [np.array([0.0, 0.5, -1.0])]
    expected = f(*values)
    for k in range(len(history) + 1):
        replayed = history.graph_at(k)
        replayed.check_integrity()
        assert "Elemwise{tanh,no_inplace}" not in op_names(replayed)
        assert_same_values(evaluate(replayed, values), [expected], f"graph_at({k})")
    assert text(history.graph_at(len(history))) == text(f.maker.fgraph)


# --------------------------------------------------------------------------- acceptance 2


def logistic_regression(samples, features, weight_scale=1.0, seed=0):
    """The tutorial's logistic regression (seed 001), as written; returns what the tests need."""
    rng = np.random.RandomState(seed)
    data = (rng.randn(samples, features), rng.randint(size=samples, low=0, high=2).astype("float64"))
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theanolab.shared(weight_scale * rng.randn(features), name="w")
    b = theanolab.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    updates = ((w, w - 0.1 * gw), (b, b - 0.1 * gb))
    train = theanolab.function(inputs=[x, y], outputs=[prediction, xent], updates=updates)
    user_graph = [prediction, xent] + [new for _, new in updates]
    return train, data, (w, b), user_graph


@pytest.fixture(scope="module")
def tutorial():
    """The seed's sizes (N=400, feats=784) and weights (randn)."""
    return logistic_regression(400, 784)


@pytest.fixture(scope="module")
def small():
    """A smaller problem whose naive graph keeps its digits, for comparing values step by step."""
    return logistic_regression(40, 20, weight_scale=0.3)


def one_step(train, data, shared):
    """The final function's outputs and updated values from the current weights (then restored)."""
    before = [s.get_value() for s in shared]
    outputs = train(*data)
    after = [s.get_value() for s in shared]
    for s, value in zip(shared, before):
        s.set_value(value)
    return before, list(outputs) + after


def test_step_zero_is_the_users_graph(tutorial):
    train, _, _, user_graph = tutorial
    history = train.maker.rewrite_history
    first = history.graph_at(0)
    assert [pp(out) for out in first.outputs] == [pp(out) for out in user_graph]
    assert len(history) > 0, "FAST_RUN changed nothing in the logistic-regression graph"


def test_last_step_is_the_graph_that_runs(tutorial):
    train, _, _, _ = tutorial
    history = train.maker.rewrite_history
    last = history.graph_at(len(history))
    last.check_integrity()
    assert text(last) == text(train.maker.fgraph)
    assert op_names(last) == op_names(train.maker.fgraph)


def test_every_intermediate_graph_computes_the_same_values(small):
    train, data, shared, _ = small
    history = train.maker.rewrite_history
    inputs, expected = one_step(train, data, shared)
    values = list(data) + inputs
    sizes = []
    for k in range(len(history) + 1):
        replayed = history.graph_at(k)
        replayed.check_integrity()
        sizes.append(len(replayed.apply_nodes))
        assert_same_values(evaluate(replayed, values), expected, f"graph_at({k}) after {history[k - 1].rewrite}"
                           if k else "graph_at(0)")
    assert sizes[-1] == len(train.maker.fgraph.apply_nodes)


def test_the_tutorial_sizes_replay_to_the_same_values_at_both_ends(tutorial):
    train, data, shared, _ = tutorial
    history = train.maker.rewrite_history
    inputs, expected = one_step(train, data, shared)
    final = evaluate(history.graph_at(len(history)), list(data) + inputs)
    assert_same_values(final, expected, "the last step")


def test_history_of_a_copied_function(small):
    train, data, shared, user_graph = small
    copy = train.copy()
    history = copy.maker.rewrite_history
    assert history is train.maker.rewrite_history  # the copy runs the same compilation's result
    assert [pp(out) for out in history.graph_at(0).outputs] == [pp(out) for out in user_graph]
    assert text(history.graph_at(len(history))) == text(copy.maker.fgraph)
    inputs, expected = one_step(copy, data, shared)
    assert_same_values(evaluate(history.graph_at(len(history)), list(data) + inputs), expected, "copy")


def test_history_of_an_unpickled_function(small):
    train, data, shared, user_graph = small
    restored = pickle.loads(pickle.dumps(train))
    history = restored.maker.rewrite_history
    assert len(history) == len(train.maker.rewrite_history)
    assert [step.rewrite for step in history] == [step.rewrite for step in train.maker.rewrite_history]
    assert [pp(out) for out in history.graph_at(0).outputs] == [pp(out) for out in user_graph]
    assert text(history.graph_at(len(history))) == text(restored.maker.fgraph)
    restored_shared = restored.maker.shared_inputs
    inputs, expected = one_step(restored, data, restored_shared)
    for k in (0, len(history) // 2, len(history)):
        assert_same_values(evaluate(history.graph_at(k), list(data) + inputs), expected, f"unpickled, step {k}")
    assert re.search(r"step 1: \w+", str(history))
