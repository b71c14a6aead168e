"""The graph IR: Variable, Constant, Apply, Op identity, traversal, cloning, FunctionGraph."""

import numpy as np
import pytest

import theanolab.tensor as T
from theanolab.graph import (
    Apply,
    Constant,
    FunctionGraph,
    InconsistencyError,
    MissingInputError,
    Op,
    Variable,
    ancestors,
    clone,
    clone_replace,
    graph_inputs,
    io_toposort,
)
from theanolab.graph.fgraph import OUTPUT
from theanolab.tensor.type import TensorType


class Scale(Op):
    """A tiny test op: ``x * factor``."""

    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] * self.factor


class Split(Op):
    """Two outputs, to test output indices."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] + 1
        outputs[1][0] = inputs[0] - 1


# --------------------------------------------------------------------------- variables and nodes


def test_variable_owner_index_name():
    x = T.dmatrix('x')
    y = T.dmatrix('y')
    z = x + y
    assert x.owner is None and x.index is None and x.name == 'x'
    assert z.owner.inputs == [x, y] and z.owner.outputs == [z] and z.index == 0
    assert str(z.owner.op) == 'Elemwise{add,no_inplace}'
    assert z.type == TensorType('float64', (False, False))
    assert str(x.type) == 'TensorType(float64, matrix)'


def test_multi_output_node():
    x = T.dvector('x')
    a, b = Split()(x)
    assert a.owner is b.owner and (a.index, b.index) == (0, 1)
    assert str(a) == 'Split.0' and str(b) == 'Split.1'
    with pytest.raises(ValueError, match="no default output"):
        a.owner.out


def test_apply_checks_inputs_and_outputs():
    x = T.dvector('x')
    with pytest.raises(TypeError, match="not a Variable"):
        Apply(Scale(2), [x, 3], [x.type()])
    out = x * 2
    with pytest.raises(ValueError, match="another node"):
        Apply(Scale(2), [x], [out])


def test_constant():
    c = T.constant(np.array([1.0, 2.0]))
    assert isinstance(c, Constant) and c.owner is None
    np.testing.assert_array_equal(c.data, [1.0, 2.0])
    assert c.value is c.data
    assert str(T.constant(2)) == 'TensorConstant{2}'
    assert T.constant(2).signature() == T.constant(2).signature()
    assert T.constant(2).signature() != T.constant(3).signature()
    assert T.constant(2).signature() != T.constant(2.0).signature()


@pytest.mark.parametrize("value, dtype", [(2, "int8"), (300, "int16"), (2**40, "int64"), (1.0, "float32"),
                                          (0.5, "float32"), (0.1, "float64"), (True, "bool")])
def test_python_number_constants_autocast(value, dtype):
    assert T.constant(value).dtype == dtype


@pytest.mark.parametrize("value, dtype", [(np.float64(0.0), "float64"), (np.float64(0.5), "float64"),
                                          (np.int64(3), "int64"), (np.int32(3), "int32"), (np.float32(2), "float32")])
def test_numpy_scalar_constants_keep_their_dtype(value, dtype):
    # np.float64 is a Python float subclass, but Theano keeps its dtype (no autocasting).
    assert T.constant(value).dtype == dtype
    assert (T.fscalar() + value).dtype == np.result_type(np.float32, dtype).name


def test_variable_clone_keeps_type_and_name_not_owner():
    x = T.dvector('x')
    y = x * 2
    c = y.clone()
    assert c.owner is None and c.type == y.type and c.name == y.name
    named = T.dvector('named').clone()
    assert named.name == 'named'
    assert isinstance(named, type(x))


def test_apply_clone_and_clone_with_new_inputs():
    x = T.dvector('x')
    node = Scale(3)(x).owner
    copy = node.clone()
    assert copy.inputs == node.inputs and copy.outputs[0] is not node.outputs[0]
    y = T.dvector('y')
    rebuilt = node.clone_with_new_inputs([y])
    assert rebuilt.inputs == [y] and rebuilt.op == node.op
    f32 = T.fvector('f')
    retyped = node.clone_with_new_inputs([f32], strict=False)
    assert retyped.outputs[0].dtype == "float32"
    with pytest.raises(ValueError, match="takes 1 inputs"):
        node.clone_with_new_inputs([x, y])


# --------------------------------------------------------------------------- op identity


def test_op_equality_and_hash_follow_props():
    assert Scale(2) == Scale(2) and hash(Scale(2)) == hash(Scale(2))
    assert Scale(2) != Scale(3)
    assert Split() == Split()
    assert Scale(2) != Split()
    assert str(Scale(2)) == 'Scale{factor=2}'


def test_identical_nodes_have_equal_ops():
    x, y = T.dmatrices('x', 'y')
    first, second = (x + y).owner, (x + y).owner
    assert first is not second
    assert first.op == second.op and hash(first.op) == hash(second.op)
    assert (x * y).owner.op != first.op
    assert x.dimshuffle(1, 0).owner.op == x.T.owner.op


# --------------------------------------------------------------------------- traversal


def test_ancestors_and_graph_inputs():
    x, y = T.dscalars('x', 'y')
    z = (x + y) * x
    assert set(graph_inputs([z])) == {x, y}
    assert set(ancestors([z])) >= {x, y, z}
    s = x + y
    assert graph_inputs([z * 2], blockers=[s]).count(x) == 1
    assert y not in ancestors([s * 2], blockers=[s])


def test_io_toposort_orders_dependencies_deterministically():
    x, y = T.dscalars('x', 'y')
    a = x + y
    b = a * x
    c = T.exp(a)
    d = b - c
    order = io_toposort([x, y], [d])
    assert order == io_toposort([x, y], [d])
    assert len(order) == 4 and order[-1] is d.owner
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None:
                assert position[inp.owner] < position[node]
    # The walk goes left to right: b's branch is scheduled before c's.
    assert position[b.owner] < position[c.owner]
    assert [n.op for n in io_toposort([a], [d])] == [b.owner.op, c.owner.op, d.owner.op]


def test_clone_and_clone_replace():
    x, y = T.dscalars('x', 'y')
    z = x * 2 + y
    (x2, y2), (z2,) = clone([x, y], [z])
    assert x2 is not x and z2 is not z and graph_inputs([z2]).count(x2) == 1
    (x3,), (z3,) = clone([x], [z], copy_inputs=False)
    assert x3 is x and z3 is not z

    w = T.dscalar('w')
    replaced = clone_replace(z, {x: w})
    assert set(graph_inputs([replaced])) == {w, y} | {v for v in graph_inputs([replaced]) if isinstance(v, Constant)}
    assert x in graph_inputs([z])  # the original graph is unchanged
    assert clone_replace([z], {})[0] is z
    with pytest.raises(TypeError, match="cannot replace"):
        clone_replace(z, {x: T.dvector('v')})


# --------------------------------------------------------------------------- FunctionGraph


class Recorder:
    """A feature logging every callback it receives."""

    def __init__(self):
        self.events = []

    def on_attach(self, fgraph):
        self.events.append(("attach",))

    def on_detach(self, fgraph):
        self.events.append(("detach",))

    def on_import(self, fgraph, node, reason):
        self.events.append(("import", str(node.op), reason))

    def on_prune(self, fgraph, node, reason):
        self.events.append(("prune", str(node.op), reason))

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self.events.append(("change", node if node == OUTPUT else str(node.op), i, reason))


class RefuseExp:
    """A validator refusing any graph that contains exp."""

    def validate(self, fgraph):
        if any(str(n.op) == 'Elemwise{exp,no_inplace}' for n in fgraph.apply_nodes):
            raise InconsistencyError("no exp allowed")


def make_fgraph(features=()):
    """(x + y) * 2 on scalars (so no DimShuffle of the constant is added)."""
    x, y = T.dscalars('x', 'y')
    out = (x + y) * 2
    return FunctionGraph([x, y], [out], features=features)


def test_fgraph_clones_and_tracks_clients():
    x, y = T.dscalars('x', 'y')
    s = x + y
    out = s * 2
    fg = FunctionGraph([x, y], [out])
    assert fg.inputs[0] is not x and len(fg.apply_nodes) == 2
    fx, fy = fg.inputs
    add_node = fg.clients[fx][0][0]
    assert fg.clients[fx] == [(add_node, 0)] and fg.clients[fy] == [(add_node, 1)]
    mul_node = fg.outputs[0].owner
    assert fg.clients[add_node.outputs[0]] == [(mul_node, 0)]
    assert fg.clients[fg.outputs[0]] == [(OUTPUT, 0)]
    fg.check_integrity()
    assert fg.toposort() == [add_node, mul_node]
    uncloned = FunctionGraph([x, y], [out], clone=False)
    assert uncloned.inputs == [x, y] and uncloned.outputs == [out]


def test_fgraph_missing_input():
    x, y = T.dvectors('x', 'y')
    with pytest.raises(MissingInputError, match="y"):
        FunctionGraph([x], [x + y])


def test_fgraph_replace_imports_and_prunes():
    recorder = Recorder()
    fg = make_fgraph([recorder])
    fx, fy = fg.inputs
    add_out = fg.outputs[0].owner.inputs[0]
    new = fx - fy
    fg.replace(add_out, new, reason="test")
    fg.check_integrity()
    assert [e[0] for e in recorder.events] == ["attach", "import", "change", "prune"]
    assert recorder.events[1] == ("import", "Elemwise{sub,no_inplace}", "test")
    assert recorder.events[3] == ("prune", "Elemwise{add,no_inplace}", "test")
    assert add_out not in fg.variables and new in fg.variables
    assert {str(n.op) for n in fg.apply_nodes} == {"Elemwise{sub,no_inplace}", "Elemwise{mul,no_inplace}"}
    assert fg.clients[fx] == [(new.owner, 0)]


def test_fgraph_replace_an_output():
    recorder = Recorder()
    fg = make_fgraph([recorder])
    fx, _ = fg.inputs
    fg.replace(fg.outputs[0], fx * 3, reason="out")
    fg.check_integrity()
    assert ("change", OUTPUT, 0, "out") in recorder.events
    assert len(fg.apply_nodes) == 1
    assert sum(1 for e in recorder.events if e[0] == "prune") == 2


def test_fgraph_replace_checks_the_type():
    fg = make_fgraph()
    add_out = fg.outputs[0].owner.inputs[0]
    with pytest.raises(TypeError, match="keep the type"):
        fg.replace(add_out, T.fscalar('f'))
    with pytest.raises(TypeError, match="keep the type"):
        fg.replace(add_out, T.dvector('v'))
    with pytest.raises(ValueError, match="not in this graph"):
        fg.replace(T.dscalar('stranger'), fg.inputs[0])
    fg.check_integrity()


def test_fgraph_replace_with_more_specific_broadcastable_is_allowed():
    x, y = T.dvectors('x', 'y')
    fg = FunctionGraph([x, y], [T.exp(x + y)])
    add_out = fg.outputs[0].owner.inputs[0]
    fg.replace(add_out, T.constant(np.ones(1)).dimshuffle(0))
    fg.check_integrity()
    assert len(fg.apply_nodes) == 2
    with pytest.raises(TypeError, match="keep the type"):
        fg.replace(fg.outputs[0].owner.inputs[0], T.dvector('v'))


def test_fgraph_validate_rolls_back():
    recorder = Recorder()
    fg = make_fgraph([recorder, RefuseExp()])
    add_out = fg.outputs[0].owner.inputs[0]
    before = set(fg.apply_nodes)
    with pytest.raises(InconsistencyError, match="no exp"):
        fg.replace(add_out, T.exp(fg.inputs[0]))
    fg.check_integrity()
    assert fg.apply_nodes == before
    assert fg.outputs[0].owner.inputs[0] is add_out
    assert recorder.events[-1][-1] == "revert"
    fg.replace(add_out, fg.inputs[0] * 5, validate=True)  # an allowed change passes
    fg.check_integrity()


def test_fgraph_replace_all_is_validated_as_one_change():
    x, y = T.dscalars('x', 'y')
    fg = FunctionGraph([x, y], [(x + y) * (x - y)], features=[RefuseExp()])
    add_out, sub_out = fg.outputs[0].owner.inputs
    before = set(fg.apply_nodes)
    fx, fy = fg.inputs
    with pytest.raises(InconsistencyError):
        fg.replace_all([(add_out, fx * fy), (sub_out, T.exp(fx))])
    fg.check_integrity()
    assert fg.apply_nodes == before and fg.outputs[0].owner.inputs == [add_out, sub_out]
    with pytest.raises(TypeError, match="keep the type"):
        fg.replace_all([(add_out, fx * fy), (sub_out, T.dvector('v'))])
    assert fg.apply_nodes == before


def test_fgraph_replace_by_an_expression_of_the_replaced_variable():
    fg = make_fgraph()
    add_out = fg.outputs[0].owner.inputs[0]
    fg.replace(add_out, add_out + 1)
    fg.check_integrity()
    assert len(fg.apply_nodes) == 3


def test_fgraph_replace_all_and_feature_detach():
    recorder = Recorder()
    fg = make_fgraph([recorder])
    fx, fy = fg.inputs
    add_out = fg.outputs[0].owner.inputs[0]
    fg.replace_all([(add_out, fx * fy)], reason="all")
    fg.check_integrity()
    fg.remove_feature(recorder)
    assert recorder.events[-1] == ("detach",)
    fg.replace(fg.outputs[0], fx + 0)
    assert recorder.events[-1] == ("detach",)


def test_fgraph_clone():
    fg = make_fgraph([Recorder()])
    copy, equiv = fg.clone_get_equiv()
    assert copy.inputs[0] is equiv[fg.inputs[0]] and copy.inputs[0] is not fg.inputs[0]
    assert len(copy.apply_nodes) == len(fg.apply_nodes)
    assert len(copy.features) == 1
    copy.check_integrity()
    copy.replace(copy.outputs[0], copy.inputs[0] * 1)
    assert len(fg.apply_nodes) == 2


def test_fgraph_duplicate_input():
    x = T.dvector('x')
    with pytest.raises(ValueError, match="twice"):
        FunctionGraph([x, x], [x * 2])


def test_apply_node_counts():
    x = T.dvector('x')
    assert isinstance(x, Variable)
    node = (x * 2).owner
    assert node.nin == 2 and node.nout == 1 and node.out is node.outputs[0]
