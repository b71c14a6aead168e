"""The scan rewrites (theanolab/scan/rewrites.py): each fires where it should, not elsewhere, and
changes no value (compared with the same graph compiled without the rule)."""

import dataclasses

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from helpers import check_infer_shape
from theanolab.compile.function import FunctionMaker
from theanolab.compile.mode import Mode, get_mode
from theanolab.graph.basic import Constant
from theanolab.scan.info import ScanInfo
from theanolab.scan.op import Scan
from theanolab.scan.rewrites import _rebuild
from theanolab.scan_module import until

# These tests check the loops' CPU graphs (which Scan nodes the rewrites leave, the C loop).
pytestmark = pytest.mark.cpu_only

RNG = np.random.default_rng(11)


def scan_nodes(f):
    return [node for node in f.maker.fgraph.toposort() if isinstance(node.op, Scan)]


def compile_both(inputs, outputs, rule, **kwargs):
    """``(f, reference)``: FAST_RUN, and FAST_RUN without ``rule``."""
    f = theanolab.function(inputs, outputs, on_unused_input="ignore", **kwargs)
    reference = theanolab.function(inputs, outputs, on_unused_input="ignore",
                                   mode=get_mode("FAST_RUN").excluding(rule), **kwargs)
    return f, reference


def assert_same(f, reference, *values):
    results, expected = f(*values), reference(*values)
    for got, want in zip(results if isinstance(results, list) else [results],
                         expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def fired(f, rule):
    return rule in f.maker.rewrite_history.rewrites_used()


def tanh_rnn():
    """A tanh RNN whose body reads ``U.T`` (loop-invariant) and its cost, inputs and values."""
    x, W, U, h0 = T.dtensor3("x"), T.dmatrix("W"), T.dmatrix("U"), T.dmatrix("h0")
    h, _ = theanolab.scan(lambda xt, hp, W, U: T.tanh(T.dot(xt, W) + T.dot(hp, U.T)),
                          sequences=x, outputs_info=h0, non_sequences=[W, U])
    values = [RNG.normal(size=(6, 2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 4)) * 0.5,
              RNG.normal(size=(2, 4))]
    return [x, W, U, h0], h, values


def invariant_nodes(op):
    """Nodes of the body computed from non-sequences only (what hoisting moves out)."""
    non_seqs = set(op.info.split_inner_inputs(op.fgraph.inputs)[3])
    invariant, found = set(non_seqs), []
    for node in op.fgraph.toposort():
        if all(v in invariant or isinstance(v, Constant) for v in node.inputs):
            invariant.update(node.outputs)
            if any(v in non_seqs for v in node.inputs):
                found.append(node)
    return found


# ---------------------------------------------------------------------- loop-invariant code motion


def test_hoisting_moves_the_transpose_out_of_the_forward_and_backward_loops():
    inputs, h, values = tanh_rnn()
    cost = (h ** 2).sum()
    outputs = [cost] + T.grad(cost, inputs[1:3])
    f, reference = compile_both(inputs, outputs, "scan_hoist_invariants")
    assert fired(f, "scan_hoist_invariants")
    loops = scan_nodes(f)
    assert len(loops) == 2 and all(not invariant_nodes(node.op) for node in loops)
    assert any(invariant_nodes(node.op) for node in scan_nodes(reference))
    assert_same(f, reference, *values)


def test_hoisting_does_not_fire_without_invariant_work():
    k, A = T.iscalar("k"), T.dvector("A")
    result, _ = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    f = theanolab.function([A, k], result)
    assert not fired(f, "scan_hoist_invariants")


def test_hoisting_an_output_that_is_invariant_and_a_chain_of_invariant_nodes():
    x, w = T.dvector("x"), T.dvector("w")
    ys, _ = theanolab.map(lambda v, w: (v * T.exp(w * 2).sum(), T.exp(w * 2)), x, non_sequences=w)
    f, reference = compile_both([x, w], ys, "scan_hoist_invariants")
    assert fired(f, "scan_hoist_invariants")
    (node,) = scan_nodes(f)
    assert not invariant_nodes(node.op)
    assert_same(f, reference, RNG.normal(size=5), RNG.normal(size=3))
    assert_same(f, reference, np.zeros(0), RNG.normal(size=3))  # no step: hoisted values are still well defined


# ---------------------------------------------------------------------- unused outputs


def test_unused_per_step_output_and_its_sequence_are_removed():
    x, y, s0 = T.dvector("x"), T.dvector("y"), T.dscalar("s0")

    def step(xt, yt, s):
        return s * 0.5 + xt, yt * 3  # the second output (and so the sequence y) is never read

    (s, ys), _ = theanolab.scan(step, sequences=[x, y], outputs_info=[s0, None])
    f, reference = compile_both([x, y, s0], s[-1], "scan_remove_unused")
    assert fired(f, "scan_remove_unused")
    (node,) = scan_nodes(f)
    assert (node.op.info.n_per_step, node.op.info.n_sequences, node.op.info.n_states) == (0, 1, 1)
    assert_same(f, reference, RNG.normal(size=4), RNG.normal(size=4), 1.5)


def test_a_state_another_state_reads_is_kept():
    a0, b0 = T.dscalar("a0"), T.dscalar("b0")
    (a, b), _ = theanolab.scan(lambda a, b: (a + b, b * 0.5), outputs_info=[a0, b0], n_steps=5)
    f, reference = compile_both([a0, b0], a, "scan_remove_unused")
    assert not fired(f, "scan_remove_unused")
    assert scan_nodes(f)[0].op.info.n_states == 2
    assert_same(f, reference, 1.0, 2.0)
    # b is read by nobody and needs nothing of a: the other way round, a goes
    g, g_reference = compile_both([a0, b0], b, "scan_remove_unused")
    assert fired(g, "scan_remove_unused") and scan_nodes(g)[0].op.info.n_states == 1
    assert_same(g, g_reference, 1.0, 2.0)


def test_unused_removal_keeps_an_until_condition_and_shared_updates():
    counter = theanolab.shared(np.float64(0), name="counter")
    s0 = T.dscalar("s0")

    def step(s):
        return (s * 2, s + 1), {counter: counter + 1}, until(s * 2 > 20)

    (s, extra), updates = theanolab.scan(step, outputs_info=[s0, None], n_steps=50)
    f, reference = compile_both([s0], s, "scan_remove_unused", updates=updates)
    assert fired(f, "scan_remove_unused")
    (node,) = scan_nodes(f)
    assert node.op.info.as_while and node.op.info.n_shared == 1 and node.op.info.n_per_step == 0
    np.testing.assert_allclose(f(1.0), [2, 4, 8, 16, 32])
    assert counter.get_value() == 5
    np.testing.assert_allclose(reference(1.0), [2, 4, 8, 16, 32])


# ---------------------------------------------------------------------- merging identical loops


def test_identical_scans_merge():
    x, w = T.dvector("x"), T.dscalar("w")
    first, _ = theanolab.map(lambda v, w: T.sin(v) * w, x, non_sequences=w)
    second, _ = theanolab.map(lambda v, w: T.sin(v) * w, x, non_sequences=w)
    f, reference = compile_both([x, w], [first, second * 2], "scan_merge")
    assert fired(f, "scan_merge") and len(scan_nodes(f)) == 1 and len(scan_nodes(reference)) == 2
    assert_same(f, reference, RNG.normal(size=5), 0.7)


@pytest.mark.parametrize("second_body", [lambda v, w: T.cos(v) * w, lambda v, w: T.sin(v) + w])
def test_different_scans_do_not_merge(second_body):
    x, w = T.dvector("x"), T.dscalar("w")
    first, _ = theanolab.map(lambda v, w: T.sin(v) * w, x, non_sequences=w)
    second, _ = theanolab.map(second_body, x, non_sequences=w)
    f = theanolab.function([x, w], [first, second])
    assert not fired(f, "scan_merge") and len(scan_nodes(f)) == 2


def test_two_gradient_calls_share_one_backward_loop():
    inputs, h, values = tanh_rnn()
    cost = h[-1].sum()
    outputs = [T.grad(cost, inputs[1]), T.grad(cost, inputs[2])]  # two backward scans, built alike
    f, reference = compile_both(inputs, outputs, "scan_merge")
    assert fired(f, "scan_merge") and len(scan_nodes(f)) == 2 and len(scan_nodes(reference)) == 3
    assert_same(f, reference, *values)


def test_the_body_is_compiled_with_the_outer_modes_rewrites(monkeypatch):
    makers = []
    original = FunctionMaker.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        makers.append(self)

    monkeypatch.setattr(FunctionMaker, "__init__", recording)
    x = T.dvector("x")
    logs, _ = theanolab.map(lambda v: T.log(1 + v), x)
    f = theanolab.function([x], logs)
    np.testing.assert_allclose(f(np.array([1e-20, 1.0])), np.log1p([1e-20, 1.0]))
    assert any(fired_in(maker, "log1p") for maker in makers)


def fired_in(maker, rule):
    return rule in maker.rewrite_history.rewrites_used()


# ---------------------------------------------------------------------- keeping only the last rows


def power():
    k, A = T.iscalar("k"), T.dvector("A")
    result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                                     n_steps=k)
    return k, A, result, updates


@pytest.mark.parametrize("steps", [1, 2, 7])
def test_last_step_of_a_state_keeps_lag_plus_one_rows(steps):
    k, A, result, updates = power()
    f, reference = compile_both([A, k], result[-1], "scan_keep_last_rows", updates=updates)
    assert fired(f, "scan_keep_last_rows")
    (node,) = scan_nodes(f)
    assert node.op.info.kept_rows == (2,)
    assert_same(f, reference, np.arange(4.0), steps)
    step = next(s for s in f.maker.rewrite_history.steps if s.rewrite == "scan_keep_last_rows")
    assert any(isinstance(n.op, Scan) and n.tag.created_by == "scan_keep_last_rows" for n in step.added)


def test_taps_and_deeper_reads_keep_enough_rows():
    x0 = T.dvector("x0")
    fib, _ = theanolab.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=12)
    f, reference = compile_both([x0], [fib[-1], fib[-4]], "scan_keep_last_rows")
    (node,) = scan_nodes(f)
    assert node.op.info.kept_rows == (4,)  # fib[-4] needs 4 rows, more than lag + 1 = 3
    assert_same(f, reference, np.array([0.0, 1.0]))
    g, g_reference = compile_both([x0], fib[-1], "scan_keep_last_rows")
    assert scan_nodes(g)[0].op.info.kept_rows == (3,)
    assert_same(g, g_reference, np.array([0.0, 1.0]))


def test_per_step_outputs_and_reduce():
    x = T.dmatrix("x")
    (total, squares), _ = theanolab.scan(lambda row, acc: (acc * 0.5 + row, (row ** 2).sum()), sequences=x,
                                         outputs_info=[T.zeros_like(x[0]), None])
    f, reference = compile_both([x], [total[-1], squares[-2]], "scan_keep_last_rows")
    assert scan_nodes(f)[0].op.info.kept_rows == (2, 2)
    assert_same(f, reference, RNG.normal(size=(9, 3)))
    init = T.dvector("init")
    folded, _ = theanolab.reduce(lambda row, acc: acc * 0.5 + row, x, init)  # (a plain sum leaves the loop)
    g, g_reference = compile_both([x, init], folded, "scan_keep_last_rows")
    assert fired(g, "scan_keep_last_rows")
    for length in (0, 1, 5):  # no step: the initial value, as without the rule
        assert_same(g, g_reference, RNG.normal(size=(length, 3)), RNG.normal(size=3))


def test_until_loop_with_kept_rows():
    s0 = T.dscalar("s0")
    s, _ = theanolab.scan(lambda s: (s * 2, until(s * 2 > 50)), outputs_info=s0, n_steps=100)
    f, reference = compile_both([s0], s[-1], "scan_keep_last_rows")
    assert scan_nodes(f)[0].op.info.kept_rows == (2,)
    for start in (1.0, 3.0, 60.0):
        assert_same(f, reference, start)


@pytest.mark.parametrize("read", [lambda r: r, lambda r: r[0], lambda r: r[1:][-1] + r[-1], lambda r: r[-3:]])
def test_no_kept_rows_when_other_rows_are_read(read):
    k, A, result, updates = power()
    f = theanolab.function([A, k], read(result), updates=updates)
    assert not fired(f, "scan_keep_last_rows")
    assert scan_nodes(f)[0].op.info.kept_rows is None


def test_a_kept_rows_node_in_debug_mode():
    k, A, result, updates = power()
    f = theanolab.function([A, k], result[-1] * 2, updates=updates, mode="DebugMode")
    assert fired(f, "scan_keep_last_rows")
    np.testing.assert_allclose(f(np.arange(4.0), 5), 2 * np.arange(4.0) ** 5)


def kept_node(kept_rows):
    """The power loop's node, that node rebuilt to keep ``kept_rows``, and their inputs."""
    k, A, result, _ = power()
    node = result.owner.inputs[0].owner
    info = dataclasses.replace(node.op.info, kept_rows=kept_rows)
    return [A, k], node, _rebuild(node, info, node.op.fgraph.inputs, node.op.fgraph.outputs, node.inputs)


@pytest.mark.parametrize("kept, steps", [(2, 0), (2, 1), (2, 6), (3, 2), (3, 7), (10, 4)])
def test_kept_rows_output_is_the_last_rows_of_the_full_buffer(kept, steps):
    inputs, full, short = kept_node((kept,))
    values = [np.arange(1.0, 4.0), steps]
    everything = theanolab.function(inputs, full.outputs[0], mode=Mode(optimizer=None))(*values)
    last = theanolab.function(inputs, short.outputs[0], mode=Mode(optimizer=None))(*values)
    np.testing.assert_array_equal(last, everything[-kept:])
    check_infer_shape(short.outputs[0], inputs, values, mode=Mode(optimizer=None))


def test_a_kept_rows_node_refuses_derivatives_and_bad_layouts():
    inputs, _, node = kept_node((2,))
    with pytest.raises(NotImplementedError, match="keeps only the last rows"):
        T.grad(node.outputs[0].sum(), inputs[0])
    with pytest.raises(ValueError, match="at least 2 rows"):
        ScanInfo(n_sequences=0, state_taps=((-1,),), n_per_step=0, n_shared=0, n_non_sequences=0, kept_rows=(1,))
    with pytest.raises(ValueError, match="one entry per state"):
        ScanInfo(n_sequences=0, state_taps=((-1,),), n_per_step=1, n_shared=0, n_non_sequences=0, kept_rows=(2,))


def test_the_rules_are_in_the_catalog_and_tagged_scan():
    from theanolab.graph.rewriting.catalog import catalog

    rows = {row.name: row for row in catalog() if row.name.startswith("scan_")}
    assert set(rows) == {"scan_hoist_invariants", "scan_remove_unused", "scan_merge", "scan_keep_last_rows",
                         "scan_pushout_seqs", "scan_pushout_elemwise", "scan_pushout_accumulators"}
    assert all("scan" in row.tags and "->" in row.doc and row.why for row in rows.values())
    k, A, result, updates = power()
    f = theanolab.function([A, k], result[-1], updates=updates, mode=get_mode("FAST_RUN").excluding("scan"))
    assert scan_nodes(f)[0].op.info.kept_rows is None
