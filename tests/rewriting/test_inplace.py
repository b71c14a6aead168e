"""In-place elementwise rewrites and the destroy handler that guards them.

What matters: the rewrite fires on temporaries (the graph gets ops with a
``destroy_map``), never on what the caller owns (arguments, shared values,
constants, outputs), the values do not change, and the caller's arrays are
untouched after every call.
"""

import pickle

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import scalar as ts
from theanolab.compile.mode import Mode, get_mode
from theanolab.graph.destroyhandler import DestroyHandler, aliased_source, ensure_destroy_handler
from theanolab.graph.fgraph import FunctionGraph, InconsistencyError
from theanolab.graph.rewriting import RewriteHistory
from theanolab.scalar import composite as composite_module
from theanolab.scalar.composite import Composite, impl_in_place
from theanolab.tensor.elemwise import Elemwise

FAST_RUN = get_mode("FAST_RUN")
NO_REWRITES = Mode(optimizer=None)




def destroyers(f):
    return [node for node in f.maker.fgraph.apply_nodes if node.op.destroy_map]


def destroyed_variables(f):
    return [node.inputs[i] for node in destroyers(f) for positions in node.op.destroy_map.values()
            for i in positions]


def elemwise_destroyers(f):
    return [node for node in destroyers(f) if isinstance(node.op, Elemwise)]


# ============================================================================ the destroy handler


def handler_on(inputs, outputs):
    fgraph = FunctionGraph(inputs, outputs, clone=False)
    return fgraph, ensure_destroy_handler(fgraph)


def test_refusals_name_the_reason():
    x, y = T.dvectors("x", "y")
    product = T.exp(x)                       # a temporary, read by one node only
    twice = T.tanh(y)                        # read by two nodes
    view = product.dimshuffle("x", 0)        # a view of the temporary
    out = T.log(y)                           # an output of the graph
    consumers = [view * 2, twice + 1, twice * 3, out + 1, x * 2, T.constant(np.ones(3)) * y]
    fgraph, handler = handler_on([x, y], consumers + [out])
    assert handler.refusal(view.owner, 0) is None          # the DimShuffle's input: only it reads it
    assert handler.refusal(consumers[0].owner, 0) is None   # through the view, exp(x) is read once
    assert "also used by" in handler.refusal(consumers[1].owner, 0)
    assert "is an output of the graph" in handler.refusal(consumers[3].owner, 0)
    assert "is an input of the graph" in handler.refusal(consumers[4].owner, 0)
    assert "is a constant" in handler.refusal(consumers[5].owner, 0)
    assert handler is ensure_destroy_handler(fgraph)
    assert aliased_source(view) is product and aliased_source(product) is None


def test_a_view_of_an_input_is_refused():
    x = T.dvector("x")
    row = x.dimshuffle("x", 0)
    doubled = row * 2
    _, handler = handler_on([x], [doubled])
    assert "x is an input of the graph" in handler.refusal(doubled.owner, 0)


def test_a_refused_replacement_is_rolled_back_and_recorded():
    x = T.dvector("x")
    y = T.exp(x) * 2
    fgraph = FunctionGraph([x], [y], clone=False)
    history = RewriteHistory()
    fgraph.attach_feature(history)
    ensure_destroy_handler(fgraph)
    exp_node = y.owner.inputs[0].owner
    unsafe = Elemwise(ts.exp, {0: 0})(x)     # would overwrite the argument x
    with pytest.raises(InconsistencyError, match=r"may not overwrite its input 0 \(x\): x is an input"):
        fgraph.replace_all([(exp_node.outputs[0], unsafe)], reason="hand-made")
    assert exp_node in fgraph.apply_nodes and unsafe.owner not in fgraph.apply_nodes
    assert not any(node.op.destroy_map for node in fgraph.apply_nodes)
    assert history[-1].rewrite == "hand-made" and history[-1].committed is False
    fgraph.check_integrity()


def test_the_handler_refuses_a_second_reader_added_later():
    x = T.dvector("x")
    temporary = T.exp(x)
    safe = Elemwise(ts.add, {0: 0})(temporary, x)   # overwrites the temporary: fine
    other = T.tanh(x)
    fgraph = FunctionGraph([x], [safe, other * 2], clone=False)
    ensure_destroy_handler(fgraph)
    fgraph.validate()
    with pytest.raises(InconsistencyError, match="also used by"):
        fgraph.replace_all([(other, temporary)], reason="brings a second reader")
    assert fgraph.outputs[1].owner.inputs[0] is other


def test_a_reader_that_runs_before_the_destroyer_is_allowed():
    x = T.dvector("x")
    temporary = T.exp(x)
    reader = T.tanh(temporary)                       # reads the temporary, an ancestor of the destroyer
    destroyer = Elemwise(ts.add, {0: 0})(temporary, reader)
    later = T.exp(x) * 0 + T.sqrt(temporary)         # reads it too, but need not run first
    fgraph, handler = handler_on([x], [destroyer])
    assert handler.refusal(destroyer.owner, 0) is None
    fgraph.validate()
    _, handler = handler_on([x], [destroyer, later])
    assert "also used by Elemwise{sqrt" in handler.refusal(destroyer.owner, 0)
    view_reader = temporary.dimshuffle("x", 0)       # a view escapes: its readers could run later
    destroyer = Elemwise(ts.add, {0: 0})(temporary, view_reader.sum())
    _, handler = handler_on([x], [destroyer])
    assert "also used by InplaceDimShuffle" in handler.refusal(destroyer.owner, 0)


def test_a_shared_weight_read_by_the_forward_pass_is_updated_in_place():
    def training_step(mode):
        x = T.dmatrix("x")
        w = theanolab.shared(np.linspace(-1, 1, 5), name="w")
        cost = T.nnet.sigmoid(T.dot(x, w)).sum()
        return theanolab.function([x], cost, updates=[(w, w - 0.1 * T.grad(cost, w))], mode=mode), w

    (f, w), (reference, w_reference) = training_step(FAST_RUN), training_step(NO_REWRITES)
    assert [str(node.op) for node in destroyers(f) if "Gemv" in str(node.op)] == ["Gemv{inplace}"]
    data = np.arange(15.0).reshape(3, 5) / 15
    for _ in range(3):
        np.testing.assert_allclose(f(data), reference(data))
        np.testing.assert_allclose(w.get_value(), w_reference.get_value())


def test_one_handler_per_graph_and_copies_get_their_own():
    x = T.dvector("x")
    fgraph, handler = handler_on([x], [T.exp(x) * 2])
    with pytest.raises(ValueError, match="already has a DestroyHandler"):
        fgraph.attach_feature(DestroyHandler())
    copy = fgraph.clone()
    copied = ensure_destroy_handler(copy)
    assert copied is not handler and copied.fgraph is copy


# ============================================================================ the in-place rewrite


def test_inplace_fires_on_a_temporary_and_not_on_the_arguments(blocked):
    a, b = T.dmatrices("a", "b")
    expression = T.exp(T.dot(a, b)) * a + 1
    f = theanolab.function([a, b], expression, mode=FAST_RUN)
    [node] = elemwise_destroyers(f)
    assert "elemwise_inplace" in f.maker.rewrite_history.rewrites_used()
    [(_, position)] = node.op.inplace_pattern
    assert "Dot" in str(node.inputs[position].owner.op)  # the product is overwritten, not a
    assert all(var.owner is not None for var in destroyed_variables(f))   # temporaries only
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((9, 9)), rng.standard_normal((9, 9))]
    copies = [v.copy() for v in values]
    expected = theanolab.function([a, b], expression, mode=NO_REWRITES)(*values)
    for _ in range(3):  # repeated calls: the VM must not hand back or reuse overwritten memory
        np.testing.assert_allclose(f(*values), expected)
    for value, copy in zip(values, copies):
        np.testing.assert_array_equal(value, copy)


def test_arguments_constants_and_shared_values_are_never_overwritten():
    x = T.dvector("x")
    weights = theanolab.shared(np.linspace(-1, 1, 5), name="w")
    step = theanolab.shared(np.float64(0.5), name="step")
    cost = T.exp(x * weights) + T.constant(np.ones(5)) * 2
    f = theanolab.function([x], cost, updates=[(weights, weights - step * x), (step, step * 0.9)],
                           mode=FAST_RUN)
    assert all(var.owner is not None for var in destroyed_variables(f))
    argument = np.arange(5.0)
    weights_before, argument_before = weights.get_value(), argument.copy()
    f(argument)
    np.testing.assert_array_equal(argument, argument_before)
    np.testing.assert_allclose(weights.get_value(), weights_before - 0.5 * argument)
    np.testing.assert_allclose(step.get_value(), 0.45)


def test_outputs_and_values_read_twice_are_not_overwritten():
    a, b = T.dmatrices("a", "b")
    product = T.dot(a, b)
    f = theanolab.function([a, b], [product, T.exp(product) + 1, T.tanh(T.dot(b, a)) * 2], mode=FAST_RUN)
    destroyed = destroyed_variables(f)
    assert product not in destroyed and all(v not in f.maker.fgraph.outputs for v in destroyed)
    values = [np.eye(3) * 2, np.arange(9.0).reshape(3, 3) / 9]
    got = f(*values)
    np.testing.assert_allclose(got[0], values[0] @ values[1])
    np.testing.assert_allclose(got[1], np.exp(values[0] @ values[1]) + 1)
    np.testing.assert_allclose(got[2], np.tanh(values[1] @ values[0]) * 2)


def test_returned_arrays_belong_to_the_caller():
    a, b = T.dmatrices("a", "b")
    f = theanolab.function([a, b], T.exp(T.dot(a, b)) - 1, mode=FAST_RUN)
    first = f(np.eye(2), np.ones((2, 2)))
    kept = first.copy()
    f(np.eye(2) * 3, np.ones((2, 2)))
    np.testing.assert_array_equal(first, kept)


def test_single_ops_go_in_place_without_fusion():
    a, b = T.dmatrices("a", "b")
    expression = T.tanh(T.exp(T.dot(a, b)))
    f = theanolab.function([a, b], expression, mode=FAST_RUN.excluding("fusion"))
    assert sorted(str(n.op) for n in elemwise_destroyers(f)) == ["Elemwise{exp}[(0, 0)]", "Elemwise{tanh}[(0, 0)]"]
    values = [np.full((2, 3), 0.1), np.full((3, 4), 0.2)]
    np.testing.assert_allclose(f(*values), np.tanh(np.exp(values[0] @ values[1])))


def test_a_temporary_may_not_broadcast_at_run_time_on_an_undeclared_axis():
    """A (1, 1) product against a (3, 3) matrix: the types say both are full matrices, so the
    optimized graph (which trusts the types, as in-place does) refuses it like the reference."""
    a, b, c = T.dmatrices("a", "b", "c")
    values = [np.ones((1, 2)), np.ones((2, 1)), np.arange(9.0).reshape(3, 3)]
    for mode in (FAST_RUN, theanolab.Mode(optimizer=None)):
        f = theanolab.function([a, b, c], T.exp(T.dot(a, b)) + c, mode=mode)
        with pytest.raises(ValueError, match="Input dimension mismatch"):
            f(*values)


def test_debugmode_accepts_the_inplace_graph():
    a, b = T.dmatrices("a", "b")
    f = theanolab.function([a, b], T.exp(T.dot(a, b)) * a, mode="DebugMode")
    assert elemwise_destroyers(f)
    values = [np.full((2, 2), 0.5), np.eye(2)]
    np.testing.assert_allclose(f(*values), np.exp(values[0] @ values[1]) * values[0])


# ============================================================================ writing into the input


@pytest.mark.parametrize("layout", ["contiguous", "strided", "broadcast", "read-only"])
def test_impl_in_place_writes_into_the_destroyed_input(layout, blocked):
    x, y = scalars = [ts.ScalarType("float64")(), ts.ScalarType("float64")()]
    op = Composite(scalars, [ts.add(ts.mul(ts.exp(x), y), x)])
    target = np.linspace(-1, 1, 400).reshape(20, 20)
    other = np.linspace(0, 2, 400).reshape(20, 20)
    target, other = {"contiguous": (target, other), "strided": (target[::2], other[::2]),
                     "broadcast": (target[:1], other), "read-only": (target, other)}[layout]
    if layout == "read-only":
        target.flags.writeable = False
    expected = np.exp(target) * other + target
    result = impl_in_place(op, [target, other], {0: 0})
    np.testing.assert_array_equal(result, expected)
    overwritten = blocked == "blocked" and layout in ("contiguous", "strided")  # small arrays: new memory
    assert (result is target) == overwritten
    np.testing.assert_array_equal(target, expected if overwritten else target)


def test_impl_in_place_when_the_input_is_read_again_later(blocked):
    """The output overwrites x, but x is read again after it would be written: the result waits."""
    x, y = scalars = [ts.ScalarType("float64")(), ts.ScalarType("float64")()]
    op = Composite(scalars, [ts.mul(x, y), ts.add(ts.exp(y), x)])
    a, b = np.linspace(0, 1, 300), np.linspace(1, 2, 300)
    expected = [a * b, np.exp(b) + a]
    first, second = impl_in_place(op, [a, b], {0: 0})
    assert (first is a) == (blocked == "blocked")
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(second, expected[1])


def test_impl_in_place_of_a_single_op_with_the_input_given_twice(blocked):
    a = np.linspace(-2, 2, 300)
    expected = a * a
    result = impl_in_place(ts.mul, [a, a], {0: 0})
    assert (result is a) == (blocked == "blocked")
    np.testing.assert_array_equal(result, expected)


def test_impl_in_place_with_a_shifted_view_of_the_target(blocked):
    """Reading x[:-1] while writing x[1:]: every block must still see the values from before."""
    shifted = np.linspace(0, 1, 301)
    before = shifted.copy()
    result = impl_in_place(ts.add, [shifted[1:], shifted[:-1]], {0: 0})
    np.testing.assert_array_equal(result, before[1:] + before[:-1])


def test_a_compiled_fused_inplace_function_pickles_and_copies():
    a, b = T.dmatrices("a", "b")
    f = theanolab.function([a, b], T.exp(T.dot(a, b) + 1) * a, mode=FAST_RUN)
    assert elemwise_destroyers(f)
    values = [np.full((3, 3), 0.2), np.eye(3)]
    expected = f(*values)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))(*values), expected)
    np.testing.assert_array_equal(f.copy()(*values)[0], expected)


def test_an_elemwise_that_returns_its_input_is_not_a_way_into_the_argument():
    """add(x) of one input computes x itself; overwriting its result must not overwrite x."""
    x = T.dvector("x")
    f = theanolab.function([x], T.exp(T.add(x)), mode=FAST_RUN.excluding("fusion"))
    argument = np.zeros(composite_module.BLOCK + 1)
    np.testing.assert_array_equal(f(argument), np.ones_like(argument))
    np.testing.assert_array_equal(argument, 0)
