"""Shape inference: ``x.shape[i]`` replaced by what each Op's infer_shape knows.

Each case compiles a shape expression with the rewrites and without, checks
the graph that computes it (the big computation is gone: only the inputs'
``Shape_i`` or constants remain) and the values, on several input shapes
including empty ones.
"""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import Mode
from theanolab.config import change_flags
from theanolab.graph.basic import Constant
from theanolab.graph.fgraph import FunctionGraph
from theanolab.tensor.rewriting.shape import ShapeFeature, same_shape, shape_feature, shape_of
from theanolab.tensor.shape import MakeVector, Shape_i

REWRITE = Mode(optimizer="fast_run").excluding("fusion", "inplace")
NONE = Mode(optimizer=None)

x, y = T.dmatrices("x", "y")
r = T.drow("r")
n = T.lscalar("n")
SHAPES = [(3, 4), (0, 4), (1, 1)]


def compile_both(inputs, output):
    with change_flags(on_opt_error="raise"):
        rewritten = theanolab.function(inputs, output, mode=REWRITE, on_unused_input="ignore")
    return rewritten, theanolab.function(inputs, output, mode=NONE, on_unused_input="ignore")


def shape_reads(f):
    """``[(i, input name)]`` of the Shape_i nodes left in the compiled graph."""
    return sorted((n.op.i, n.inputs[0].name) for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Shape_i))


def non_shape_ops(f):
    return sorted({type(n.op).__name__ for n in f.maker.fgraph.apply_nodes} - {"Shape_i", "MakeVector"})


# (output builder, inputs, expected Shape_i reads or a constant value, value builder from a shape)
CASES = [
    ("elemwise", lambda: (x + y).shape[0], [x, y], [(0, "x")]),
    ("whole shape", lambda: (x * y).shape, [x, y], [(0, "x"), (1, "x")]),
    ("transpose", lambda: x.T.shape[0], [x], [(1, "x")]),
    ("negative index", lambda: x.shape[-1], [x], [(1, "x")]),
    ("dot", lambda: T.dot(x, y.T).shape, [x, y], [(0, "x"), (0, "y")]),
    ("sum", lambda: T.exp(x).sum(axis=0).shape[0], [x], [(1, "x")]),
    ("join", lambda: T.concatenate([x, T.exp(x)]).shape[1], [x], [(1, "x")]),
    ("broadcastable", lambda: r.shape[0], [r], 1),
    ("constant input", lambda: T.zeros((3, n)).shape[0], [n], 3),
    ("alloc", lambda: T.zeros((3, n)).shape[1], [n], []),
]


def _values(inputs, shape):
    rng = np.random.default_rng(0)
    values = []
    for var in inputs:
        if var.ndim == 0:
            values.append(shape[0])
        elif var.broadcastable == (True, False):
            values.append(rng.normal(size=(1, shape[1])))
        else:
            values.append(rng.normal(size=shape))
    return values


@pytest.mark.parametrize("name, build, inputs, expected", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("shape", SHAPES)
def test_shapes_come_from_infer_shape(name, build, inputs, expected, shape):
    rewritten, plain = compile_both(inputs, build())
    if isinstance(expected, int):
        out = rewritten.maker.fgraph.outputs[0]
        assert isinstance(out, Constant) and int(out.data) == expected
    else:
        assert shape_reads(rewritten) == expected
        assert non_shape_ops(rewritten) == []
    values = _values(inputs, shape)
    got, want = rewritten(*values), plain(*values)
    assert np.asarray(got).dtype == np.asarray(want).dtype == "int64"
    np.testing.assert_array_equal(got, want)


def test_the_elemwise_is_not_computed_to_know_its_shape():
    """The slides' point: (x + y).shape[0] needs no addition, only Shape_i{0}(x)."""
    f, _ = compile_both([x, y], (x + y).shape[0])
    assert [str(node.op) for node in f.maker.fgraph.toposort()] == ["Shape_i{0}"]
    assert f.maker.fgraph.toposort()[0].inputs[0] is f.maker.fgraph.inputs[0]
    assert {"shape_of_known", "index_of_shape"} <= set(f.maker.rewrite_history.rewrites_used())


def test_shape_i_of_a_computed_value_reads_an_input():
    expr = T.exp(x).T
    f, plain = compile_both([x], Shape_i(0)(expr))
    assert "shape_i_of_known" in f.maker.rewrite_history.rewrites_used()
    assert shape_reads(f) == [(1, "x")]
    assert f(np.ones((2, 5))) == plain(np.ones((2, 5))) == 5


def test_an_index_of_a_make_vector_is_its_entry():
    f, plain = compile_both([x, n], T.stack([n, x.shape[0]])[1])
    assert shape_reads(f) == [(0, "x")] and non_shape_ops(f) == []
    assert f(np.ones((2, 5)), 7) == plain(np.ones((2, 5)), 7) == 2


def test_an_index_out_of_range_fails_at_run_time():
    with change_flags(on_opt_error="raise"):
        f = theanolab.function([x], x.shape[2], mode=REWRITE)
    with pytest.raises(IndexError):
        f(np.ones((2, 3)))


def test_reshape_shapes_keep_their_values():
    for target in [(2, -1), (-1,), (n, -1)]:
        inputs = [x, n] if any(t is n for t in target) else [x]
        f, plain = compile_both(inputs, x.reshape(target).shape)
        values = [np.ones((4, 3))] + ([2] if len(inputs) == 2 else [])
        np.testing.assert_array_equal(f(*values), plain(*values))


# ----------------------------------------------------------------------------- the ShapeFeature itself


def test_shape_feature_is_attached_once_and_cloned_fresh():
    fgraph = FunctionGraph([x, y], [x + y], clone=False)
    feature = shape_feature(fgraph)
    assert shape_feature(fgraph) is feature and isinstance(feature.clone(), ShapeFeature)
    assert feature.clone() is not feature


def test_shapes_use_constants_on_broadcastable_axes():
    fgraph = FunctionGraph([x, r], [x + r, r * 2], clone=False)
    first, second = shape_of(fgraph, r * 2)
    assert isinstance(first, Constant) and int(first.data) == 1
    assert isinstance(second.owner.op, Shape_i) and second.owner.inputs[0] is r


def test_elementwise_inputs_have_the_same_shape():
    """x * y requires equal lengths on non-broadcastable axes, as in Theano."""
    alone = FunctionGraph([x, y], [x, y], clone=False)
    assert not same_shape(alone, x, y)
    together = FunctionGraph([x, y], [x * y], clone=False)
    assert same_shape(together, x, y)
    assert not same_shape(together, x, r)


def test_the_cache_is_dropped_when_the_graph_changes():
    total = x + y
    fgraph = FunctionGraph([x, y], [total.sum()], clone=False)
    feature = shape_feature(fgraph)
    shape_of(fgraph, total)
    assert total in feature.cache
    fgraph.replace(total, x * y)
    assert feature.cache == {}


def test_shape_of_an_op_without_infer_shape_reads_its_own_length():
    from theanolab.graph.basic import Apply
    from theanolab.graph.op import Op

    class NoShape(Op):
        def make_node(self, a):
            return Apply(self, [a], [a.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0].copy()

    out = NoShape()(x)
    fgraph = FunctionGraph([x], [out], clone=False)
    entry = shape_of(fgraph, out)[0]
    assert entry.owner.op == Shape_i(0) and entry.owner.inputs[0] is out
    f, plain = compile_both([x], out.shape[0])
    assert shape_reads(f) == [(0, None)] and f(np.ones((3, 2))) == 3


def test_shape_of_known_leaves_an_input_shape_alone():
    f, _ = compile_both([x], x.shape)
    assert "shape_of_known" not in f.maker.rewrite_history.rewrites_used()
    assert not any(isinstance(node.op, MakeVector) for node in f.maker.fgraph.apply_nodes)
