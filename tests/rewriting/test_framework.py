"""The rewriting framework on toy rules: node rewriters, patterns, drivers, registry, merge.

Every test builds its own small FunctionGraph (``clone=False``, so the test
keeps hold of the variables) and its own rules, so nothing here depends on
which tensor rules the rule modules register.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import scalar as ts
from theanolab.config import change_flags
from theanolab.graph.basic import Apply
from theanolab.graph.fgraph import FunctionGraph
from theanolab.graph.op import Op
from theanolab.graph.rewriting import (
    Bind,
    EquilibriumRewriter,
    GraphRewriter,
    MergeRewriter,
    NodeRewriter,
    PatternRewriter,
    PhaseDB,
    Query,
    RewriteError,
    RewriteGroup,
    SequenceRewriter,
    WalkingRewriter,
    apply_node_rewriter,
    graph_rewriter,
    node_rewriter,
    optdb,
    register,
)
from theanolab.graph.rewriting.catalog import BEGIN, END, catalog, markdown_table, replace_between_markers
from theanolab.graph.rewriting.catalog import main as catalog_main
from theanolab.tensor import math as tm
from theanolab.tensor.elemwise import DimShuffle, Elemwise
from theanolab.tensor.rewriting.utils import scalar_constant_value

PACKAGE = Path(theanolab.__file__).resolve().parent


def graph(inputs, outputs):
    """A FunctionGraph over the test's own variables (not cloned)."""
    return FunctionGraph(inputs, outputs, clone=False)


def ops(fgraph):
    """The sorted names of the ops in ``fgraph``."""
    return sorted(str(node.op) for node in fgraph.apply_nodes)


def negations(x, count):
    for _ in range(count):
        x = tm.neg(x)
    return x


@node_rewriter([tm.neg.op])
def double_negation(fgraph, node):
    """neg(neg(x)) -> x"""
    inner = node.inputs[0].owner
    if inner is not None and inner.op == tm.neg.op:
        return [inner.inputs[0]]
    return None


@node_rewriter([tm.exp.op])
def exp_to_log(fgraph, node):
    """exp(x) -> log(x) (nonsense on purpose: it fights log_to_exp)"""
    return [tm.log(node.inputs[0])]


@node_rewriter([tm.log.op])
def log_to_exp(fgraph, node):
    """log(x) -> exp(x)"""
    return [tm.exp(node.inputs[0])]


@node_rewriter([tm.tanh.op])
def tanh_to_log_exp(fgraph, node):
    """tanh(x) -> log(exp(x)): builds a node that another rule then removes"""
    return [tm.log(tm.exp(node.inputs[0]))]


@node_rewriter([tm.log.op])
def log_of_exp(fgraph, node):
    """log(exp(x)) -> x"""
    inner = node.inputs[0].owner
    if inner is not None and inner.op == tm.exp.op:
        return [inner.inputs[0]]
    return None


# --------------------------------------------------------------------------- node rewriters


@pytest.mark.parametrize("tracks, offered", [
    ([tm.neg.op], {"neg"}),                                           # an Op instance (==)
    ([Elemwise(ts.neg)], {"neg"}),                                    # an equal instance
    ([Elemwise], {"neg", "exp"}),                                     # an Op class
    ([DimShuffle], set()),
    ([lambda op: isinstance(op, Elemwise) and str(op.scalar_op) == "exp"], {"exp"}),  # a predicate
    (None, {"neg", "exp"}),                                           # every node
])
def test_node_rewriter_tracks(tracks, offered):
    seen = []

    @node_rewriter(tracks)
    def spy(fgraph, node):
        seen.append(str(node.op.scalar_op))

    x = T.dvector("x")
    fgraph = graph([x], [tm.neg(tm.exp(x))])
    WalkingRewriter([spy]).apply(fgraph)
    assert set(seen) == offered


def test_node_rewriter_keeps_name_doc_and_source():
    assert isinstance(double_negation, NodeRewriter)
    assert double_negation.name == "double_negation" and str(double_negation) == "double_negation"
    assert double_negation.__doc__ == "neg(neg(x)) -> x"
    path, line = double_negation.source
    assert path.endswith("test_framework.py") and line > 0
    named = node_rewriter([tm.neg.op], name="other_name")(double_negation._transform)
    assert named.name == "other_name"


def test_node_rewriter_typed_at_a_prompt_has_no_source():
    namespace = {}
    exec(compile("def typed(fgraph, node):\n    return None\n", "<stdin>", "exec"), namespace)  # noqa: S102
    rule = node_rewriter([tm.neg.op])(namespace["typed"])
    assert rule.name == "typed" and rule.source is None


@pytest.mark.parametrize("style", ["list", "dict"])
def test_node_rewriter_returns_list_or_dict(style):
    @node_rewriter([tm.exp.op])
    def exp_to_tanh(fgraph, node):
        new = tm.tanh(node.inputs[0])
        return [new] if style == "list" else {node.outputs[0]: new}

    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x)])
    node = fgraph.outputs[0].owner
    assert apply_node_rewriter(fgraph, exp_to_tanh, node)
    assert ops(fgraph) == ["Elemwise{tanh,no_inplace}"]
    assert not exp_to_tanh.matches(fgraph.outputs[0].owner.op)  # the drivers offer it exp nodes only


def test_graph_rewriter_decorator_and_sequence():
    calls = []

    @graph_rewriter
    def first(fgraph):
        calls.append("first")

    @graph_rewriter(name="renamed")
    def second(fgraph):
        calls.append("second")

    assert isinstance(first, GraphRewriter) and second.name == "renamed"
    x = T.dvector("x")
    SequenceRewriter([first, second]).apply(graph([x], [tm.exp(x)]))
    assert calls == ["first", "second"]
    with pytest.raises(NotImplementedError, match="apply"):
        GraphRewriter().apply(None)


# --------------------------------------------------------------------------- pattern rules


def pattern(name, pat, replacement, **kw):
    return PatternRewriter(name, pat, replacement, constant_value=scalar_constant_value, **kw)


def rewrite_once(rule, output, inputs):
    """The variable replacing ``output`` when ``rule`` is applied to its node, or None."""
    fgraph = graph(inputs, [output])
    return rule.transform(fgraph, output.owner)


LOG1P = pattern("log1p", (tm.log, (tm.add, 1, "x")), (tm.log1p, "x"))
X_MINUS_X = pattern("x_minus_x", (tm.sub, "x", "x"), lambda b: T.zeros_like(b["x"]))


@pytest.mark.parametrize("build, matches", [
    (lambda x: T.log(1 + x), True),
    (lambda x: T.log(x + 1), True),                                  # commutative: swapped inputs
    (lambda x: T.log(np.float32(1) + x), True),                      # a float32 1 broadcast
    (lambda x: T.log(T.cast(T.constant(1, dtype="int64"), "float64") + x), True),  # through a cast
    (lambda x: T.log(np.ones((1, 1)) + x), True),                    # an all-ones array constant
    (lambda x: T.log(T.fill(x, 1.0) + x), True),                     # through fill
    (lambda x: T.log(2 + x), False),                                 # another number
    (lambda x: T.log(np.array([[1.0, 2.0]]) + x), False),            # not one value
    (lambda x: T.log(x + x), False),                                 # not a constant
    (lambda x: T.log(1 - x), False),                                 # another op
    (lambda x: T.exp(1 + x), False),                                 # another root op
])
def test_pattern_numbers_match_constants_through_broadcasting(build, matches):
    x = T.dmatrix("x")
    out = build(x)
    result = rewrite_once(LOG1P, out, [x])
    if not matches:
        assert result is None
        return
    (old, new), = result.items()
    assert old is out and new.owner.op == tm.log1p.op and new.owner.inputs[0] is x


def test_pattern_bound_variables_must_be_identical():
    x, y = T.dvectors("x", "y")
    zero = rewrite_once(X_MINUS_X, x - x, [x])
    assert zero is not None
    assert rewrite_once(X_MINUS_X, x - y, [x, y]) is None
    # equal but distinct subgraphs are not "the same x" (merge makes them one first)
    assert rewrite_once(X_MINUS_X, T.exp(x) - T.exp(x), [x]) is None


def test_pattern_commutative_swap_only_for_commutative_ops():
    x = T.dvector("x")
    one_minus = pattern("one_minus", (tm.sub, 1, "x"), (tm.neg, "x"))
    assert rewrite_once(one_minus, 1 - x, [x]) is not None
    assert rewrite_once(one_minus, x - 1, [x]) is None


@pytest.mark.parametrize("ndim, matches", [(2, True), (1, False)])
def test_pattern_bind_condition(ndim, matches):
    rule = pattern("exp_of_matrix", (tm.exp, Bind("x", lambda var: var.ndim == 2)), (tm.tanh, "x"))
    x = T.TensorType("float64", (False,) * ndim)("x")
    assert (rewrite_once(rule, T.exp(x), [x]) is not None) == matches


def test_pattern_constraint_sees_the_bindings():
    rule = pattern("only_named_x", (tm.exp, "x"), (tm.tanh, "x"), constraint=lambda b: b["x"].name == "x")
    x, y = T.dvector("x"), T.dvector("y")
    assert rewrite_once(rule, T.exp(x), [x]) is not None
    assert rewrite_once(rule, T.exp(y), [y]) is None


def test_pattern_tracks_its_root_op_and_documents_itself():
    assert LOG1P.matches(tm.log.op) and not LOG1P.matches(tm.exp.op)
    assert LOG1P.__doc__ == "log(add(1, x)) -> log1p(x)"
    assert LOG1P.source[0].endswith("test_framework.py")
    with pytest.raises(TypeError, match="must start with an op"):
        PatternRewriter("bad", "x", "x")


def test_pattern_replacement_values_are_correct():
    x = T.dvector("x")
    fgraph = graph([x], [T.log(1 + x)])
    EquilibriumRewriter([LOG1P]).apply(fgraph)
    assert ops(fgraph) == ["Elemwise{log1p,no_inplace}"]


# --------------------------------------------------------------------------- drivers


def test_equilibrium_reaches_a_fixed_point():
    x = T.dvector("x")
    fgraph = graph([x], [negations(x, 5)])
    EquilibriumRewriter([double_negation]).apply(fgraph)
    assert ops(fgraph) == ["Elemwise{neg,no_inplace}"]
    fgraph = graph([x], [tm.tanh(x)])
    assert EquilibriumRewriter([tanh_to_log_exp, log_of_exp]).apply(fgraph)
    assert fgraph.outputs == [x] and not fgraph.apply_nodes
    assert not EquilibriumRewriter([tanh_to_log_exp, log_of_exp]).apply(fgraph)  # nothing left


def test_equilibrium_names_rules_that_undo_each_other():
    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x)])
    with pytest.raises(RewriteError, match="fixed point") as info:
        EquilibriumRewriter([exp_to_log, log_to_exp], max_passes=7, name="fight").apply(fgraph)
    assert "exp_to_log" in str(info.value) and "log_to_exp" in str(info.value)
    assert "fight" in str(info.value)


def test_equilibrium_runs_graph_rewriters_between_passes():
    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x) + tm.exp(x)])
    EquilibriumRewriter([], [MergeRewriter()]).apply(fgraph)
    assert ops(fgraph) == ["Elemwise{add,no_inplace}", "Elemwise{exp,no_inplace}"]


@pytest.mark.parametrize("order, first_visited", [("in_to_out", "x"), ("out_to_in", "n3")])
def test_walking_order(order, first_visited):
    visited = []

    @node_rewriter([tm.neg.op])
    def spy(fgraph, node):
        visited.append(node.inputs[0].name)

    x = T.dvector("x")
    n1 = tm.neg(x)
    n1.name = "n1"
    n2 = tm.neg(n1)
    n2.name = "n2"
    n3 = tm.neg(n2)
    n3.name = "n3"
    WalkingRewriter([spy], order=order).apply(graph([x], [tm.neg(n3)]))
    expected = ["x", "n1", "n2", "n3"]
    assert visited == (expected if order == "in_to_out" else expected[::-1])
    assert visited[0] == first_visited


@pytest.mark.parametrize("order, survivor", [("in_to_out", 2), ("out_to_in", 0)])
def test_walking_order_decides_which_node_survives(order, survivor):
    x = T.dvector("x")
    chain = [tm.neg(x)]
    for _ in range(2):
        chain.append(tm.neg(chain[-1]))
    fgraph = graph([x], [chain[-1]])
    WalkingRewriter([double_negation], order=order).apply(fgraph)
    # neg(neg(neg(x))) -> neg(x) either way, but in_to_out keeps the outer node, out_to_in the inner
    assert fgraph.outputs[0].owner is chain[survivor].owner
    assert fgraph.outputs[0].owner.inputs == [x]


def test_walking_makes_one_pass_only():
    x = T.dvector("x")
    fgraph = graph([x], [tm.tanh(x)])
    assert WalkingRewriter([tanh_to_log_exp, log_of_exp]).apply(fgraph)
    assert ops(fgraph) == ["Elemwise{exp,no_inplace}", "Elemwise{log,no_inplace}"]  # not revisited
    with pytest.raises(ValueError, match="in_to_out"):
        WalkingRewriter([log_of_exp], order="sideways")


# --------------------------------------------------------------------------- failing rules


@node_rewriter([tm.exp.op])
def broken_rule(fgraph, node):
    """exp(x) -> 1/0"""
    return [1 / 0]


@node_rewriter([tm.exp.op])
def wrong_dtype(fgraph, node):
    """exp(x) -> float32 exp(x): a type change, which a rewrite may never make"""
    return [T.cast(tm.exp(node.inputs[0]), "float32")]


@node_rewriter([tm.exp.op])
def wrong_rank(fgraph, node):
    """exp(x) -> a matrix"""
    return [tm.exp(node.inputs[0]).dimshuffle("x", 0)]


@node_rewriter([tm.exp.op])
def foreign_input(fgraph, node):
    """exp(x) -> exp(v) for a v the graph was not given"""
    return [tm.exp(T.dvector("v"))]


@pytest.mark.parametrize("rule, message", [
    (broken_rule, "ZeroDivisionError"),
    (wrong_dtype, "float32"),
    (wrong_rank, "proposed"),
    (foreign_input, "depends on v"),
])
def test_failing_rule_warns_and_is_skipped(rule, message):
    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x)])
    with change_flags(on_opt_error="warn"), pytest.warns(UserWarning, match=rule.name) as record:
        assert not EquilibriumRewriter([rule, double_negation]).apply(fgraph)
    assert message in str(record[0].message) and "skipped" in str(record[0].message)
    assert ops(fgraph) == ["Elemwise{exp,no_inplace}"]


@pytest.mark.parametrize("rule", [broken_rule, wrong_dtype, wrong_rank, foreign_input])
def test_failing_rule_raises_under_raise(rule):
    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x)])
    with change_flags(on_opt_error="raise"), pytest.raises(RewriteError, match=rule.name):
        EquilibriumRewriter([rule]).apply(fgraph)


def test_failing_rule_is_silent_under_ignore(recwarn):
    x = T.dvector("x")
    fgraph = graph([x], [tm.exp(x)])
    with change_flags(on_opt_error="ignore"):
        assert not EquilibriumRewriter([broken_rule]).apply(fgraph)
    assert not [w for w in recwarn if "broken_rule" in str(w.message)]


def test_a_more_specific_broadcast_pattern_is_accepted():
    @node_rewriter([tm.exp.op])
    def exp_of_row(fgraph, node):
        """exp(x) -> a (1, n) row, which can stand in for a matrix"""
        return [T.exp(node.inputs[0][0]).dimshuffle("x", 0)]

    x = T.dmatrix("x")
    fgraph = graph([x], [tm.exp(x)])
    with change_flags(on_opt_error="raise"):
        assert apply_node_rewriter(fgraph, exp_of_row, fgraph.outputs[0].owner)
    assert fgraph.outputs[0].broadcastable == (True, False)


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize("query, tags, accepted", [
    (Query(include=["fast_run"]), {"fast_run", "log1p"}, True),
    (Query(include=["fast_run"]), {"fast_compile"}, False),                # no include tag
    (Query(include=["fast_run", "fast_compile"]), {"fast_compile"}, True),  # any include tag
    (Query(include=["fast_run"], exclude=["log1p"]), {"fast_run", "log1p"}, False),
    (Query(include=["fast_run"], require=["stable"]), {"fast_run"}, False),
    (Query(include=["fast_run"], require=["stable"]), {"fast_run", "stable"}, True),
    (Query(include=["fast_run"]).excluding("a").requiring("b").including("c"), {"c", "b"}, True),
    (Query(include=["fast_run"]).excluding("a").requiring("b").including("c"), {"c", "a", "b"}, False),
])
def test_query_accepts_excludes_requires(query, tags, accepted):
    assert query.accepts(tags) == accepted
    assert isinstance(query.include, tuple)


def test_query_is_immutable_and_chainable():
    base = Query(include=["fast_run"])
    assert base.excluding("x").exclude == ("x",) and base.exclude == ()
    assert hash(base) == hash(Query(include=("fast_run",)))


def test_group_rejects_duplicate_names_and_selects_by_tag():
    group = RewriteGroup("toy")
    group.register(double_negation, "fast_run", "fast_compile")
    group.register(log_of_exp, "fast_run")
    with pytest.raises(ValueError, match="double_negation.*already registered in toy"):
        group.register(double_negation, "fast_run")
    group.register(double_negation, "fast_run", name="double_negation_again")
    assert group.entries["log_of_exp"].tags == {"fast_run", "log_of_exp"}  # its own name is a tag
    fast_compile = group.query(Query(include=["fast_compile"]))
    assert isinstance(fast_compile, EquilibriumRewriter) and fast_compile.rewriters == [double_negation]
    assert group.query(Query(include=["fast_run"], exclude=["log_of_exp"])).rewriters == [
        double_negation, double_negation]


def test_phase_db_orders_phases_and_rejects_duplicates():
    db = PhaseDB()
    late, early = RewriteGroup("late"), RewriteGroup("early")
    db.register_phase("late", late, 2, "fast_run")
    db.register_phase("merge", MergeRewriter(), 0, "fast_run", "fast_compile")
    db.register_phase("early", early, 1, "fast_run")
    with pytest.raises(ValueError, match="phase named 'early' is already registered"):
        db.register_phase("early", RewriteGroup("early"), 3)
    assert [name for name, _ in db.phases(Query(include=["fast_run"]))] == ["merge", "early", "late"]
    assert [name for name, _ in db.phases(Query(include=["fast_compile"]))] == ["merge"]
    assert [name for name, _ in db.phases(Query(include=["fast_run"], exclude=["early"]))] == ["merge", "late"]
    assert db["late"] is late
    assert isinstance(db.query(Query(include=["fast_run"])), SequenceRewriter)


def test_register_into_the_global_phases():
    assert [name for name, _ in optdb.phases(Query(include=["fast_compile"]))] == [
        "merge1", "canonicalize", "merge3"]
    with pytest.raises(TypeError, match="merge1.*single graph rewriter"):
        register("merge1", "fast_run")(double_negation)
    with pytest.raises(KeyError):
        register("no_such_phase", "fast_run")(double_negation)


# --------------------------------------------------------------------------- merge


def test_merge_equal_constants():
    x = T.dvector("x")
    a, b = T.constant(2.0), T.constant(2.0)
    fgraph = graph([x], [x * a, x + b])
    assert MergeRewriter().apply(fgraph)
    constants = {inp for node in fgraph.apply_nodes for inp in node.inputs if inp.owner is None and inp is not x}
    assert len(constants) == 1
    other = T.constant(2.0, dtype="float32")  # another type: not the same constant
    fgraph = graph([x], [x * T.constant(2.0, dtype="float64"), x + other])
    assert not MergeRewriter().apply(fgraph)


def test_merge_equal_nodes():
    x, y = T.dvectors("x", "y")
    left, right = T.exp(x) + y, T.exp(x) + y
    fgraph = graph([x, y], [left * right, T.exp(y)])
    assert MergeRewriter().apply(fgraph)
    assert ops(fgraph) == ["Elemwise{add,no_inplace}", "Elemwise{exp,no_inplace}",
                           "Elemwise{exp,no_inplace}", "Elemwise{mul,no_inplace}"]
    product = fgraph.outputs[0].owner
    assert product.inputs[0] is product.inputs[1]
    assert not MergeRewriter().apply(fgraph)  # nothing left to merge


def test_merge_leaves_nodes_that_destroy_their_inputs():
    x = T.dvector("x")
    exp_inplace = Elemwise(ts.exp, {0: 0})
    fgraph = graph([x], [exp_inplace(x), exp_inplace(x)])
    assert not MergeRewriter().apply(fgraph)
    assert len(fgraph.apply_nodes) == 2


def test_merge_leaves_different_ops_and_inputs():
    x, y = T.dvectors("x", "y")
    fgraph = graph([x, y], [T.exp(x), T.exp(y), T.tanh(x)])
    assert not MergeRewriter().apply(fgraph)


class _NoHash(Op):
    """An op whose instances cannot be hashed: merge must skip it, not crash."""

    __hash__ = None

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]


def test_merge_skips_unhashable_ops():
    x = T.dvector("x")
    op = _NoHash()
    fgraph = graph([x], [op(x), op(x)])
    assert not MergeRewriter().apply(fgraph)


# --------------------------------------------------------------------------- catalog


def test_catalog_lists_every_registered_rule_with_its_source():
    import theanolab.tensor.rewriting  # noqa: F401  (registers the rules)

    rows = catalog()
    registered = {(name, rule_name) for name, entry in optdb.entries.items()
                  if isinstance(entry.rewriter, RewriteGroup) for rule_name in entry.rewriter.entries}
    assert registered <= {(row.phase, row.name) for row in rows}
    assert [row.phase for row in rows][0] == "merge1" and rows[-1].phase == "merge3"
    assert [row.position for row in rows] == sorted(row.position for row in rows)
    for row in rows:
        assert row.kind in ("pattern", "node", "graph") and row.source, row
        path = PACKAGE / row.source[0]
        assert path.is_file() and 0 < row.source[1] <= len(path.read_text().splitlines()), row
        assert row.where.startswith("theanolab/") and "fast_run" not in row.tags and row.name not in row.tags


def test_catalog_markdown_table_and_markers(tmp_path):
    db = PhaseDB()
    group = RewriteGroup("toy")
    group.register(LOG1P, "fast_run", "stable")
    group.register(double_negation, "fast_run")
    db.register_phase("toy", group, 1, "fast_run")
    db.register_phase("merge", MergeRewriter(), 0, "fast_run")
    rows = catalog(db)
    assert [(row.phase, row.name, row.kind, row.tags) for row in rows] == [
        ("merge", "merge", "graph", ()), ("toy", "log1p", "pattern", ("stable",)),
        ("toy", "double_negation", "node", ())]
    table = markdown_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert table[3].startswith("| toy (1) | `log1p` | pattern | stable | log(add(1, x)) -> log1p(x) |")
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{BEGIN}\nold\n{END}\noutro\n")
    assert catalog_main(["--write", str(page)]) == 0
    text = page.read_text()
    assert text.startswith(f"intro\n{BEGIN}\n| phase |") and text.endswith(f"{END}\noutro\n")
    with pytest.raises(ValueError, match="markers"):
        replace_between_markers("no markers", "table")


def test_docs_list_the_registered_rules():
    """docs/rewrites.md's table is generated: regenerate it when rules change (command in the message)."""
    import theanolab.tensor.rewriting  # noqa: F401

    page = (PACKAGE.parent / "docs" / "rewrites.md").read_text()
    documented = set(re.findall(r"^\| (\w+) \([\d.]+\) \| `(\w+)`", page.split(BEGIN)[1], flags=re.M))
    registered = {(row.phase, row.name) for row in catalog()}
    assert documented == registered, (
        "docs/rewrites.md is out of date: run python -m theanolab.graph.rewriting.catalog --write docs/rewrites.md")


def test_drivers_know_where_they_were_built():
    walk = WalkingRewriter([double_negation], order="out_to_in")
    assert walk.name == "double_negation" and walk.source == double_negation.source
    assert walk.__doc__ == "neg(neg(x)) -> x"
    for driver in (WalkingRewriter([double_negation, log_of_exp]), EquilibriumRewriter([double_negation])):
        path, line = driver.source
        assert path.endswith("test_framework.py") and "Rewriter([double_negation" in \
            (PACKAGE / path).read_text().splitlines()[line - 1]
