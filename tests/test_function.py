"""``theanolab.function`` and shared variables: what a call returns, when updates happen,
defaults, copies, modes, pickling.  Where Theano's behaviour is observable, the
expected values were checked against Theano 1.0.5.
"""

import pickle
from collections import OrderedDict

import numpy as np
import pytest

import theanolab.tensor as T
from theanolab import In, Mode, function, shared
from theanolab.compile.mode import DebugMode
from theanolab.graph.basic import Apply
from theanolab.graph.op import Op


# --------------------------------------------------------------------------- outputs


def test_single_output_is_unpacked_and_list_output_is_a_list():
    x = T.dvector('x')
    single = function([x], x * 2)([1.0, 2.0])
    assert isinstance(single, np.ndarray)
    listed = function([x], [x * 2])([1.0, 2.0])
    assert isinstance(listed, list) and len(listed) == 1
    as_tuple = function([x], (x * 2, x + 1))([1.0, 2.0])
    assert isinstance(as_tuple, list) and len(as_tuple) == 2
    assert function([x], [], on_unused_input='ignore')([1.0]) == []


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int64", "bool"])
def test_scalar_outputs_are_0d_arrays(dtype):
    x = T.TensorType(dtype, ())('x')
    value = function([x], x)(np.asarray(1, dtype=dtype))
    assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == dtype


def test_constant_output_is_a_fresh_array_each_call():
    x = T.dscalar('x')
    f = function([x], [x, T.constant(np.array([1.0, 2.0]))])
    _, first = f(0.0)
    first[0] = 99.0
    _, second = f(0.0)
    np.testing.assert_array_equal(second, [1.0, 2.0])


# --------------------------------------------------------------------------- updates


def test_updates_see_values_from_before_the_call():
    a = shared(1.0, name='a')
    b = shared(2.0, name='b')
    swap = function([], [a, b, a + b], updates=[(a, b), (b, a)])
    old_a, old_b, total = swap()
    assert (float(old_a), float(old_b), float(total)) == (1.0, 2.0, 3.0)
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)
    swap()
    assert (a.get_value(), b.get_value()) == (1.0, 2.0)


def test_outputs_depending_on_an_updated_variable_use_the_old_value():
    counter = shared(np.zeros(2), name='counter')
    step = function([], [counter * 10, counter + 1], updates=[(counter, counter + 1)])
    for expected in ([0, 0], [10, 10], [20, 20]):
        tens, _ = step()
        np.testing.assert_array_equal(tens, expected)
    np.testing.assert_array_equal(counter.get_value(), [3, 3])


UPDATE_FORMS = {
    "list": lambda pairs: list(pairs),
    "tuple": lambda pairs: tuple(pairs),
    "dict": lambda pairs: dict(pairs),
    "OrderedDict": lambda pairs: OrderedDict(pairs),
}


@pytest.mark.parametrize("form", sorted(UPDATE_FORMS))
def test_updates_forms(form):
    w = shared(np.ones(3), name='w')
    b = shared(0.0, name='b')
    x = T.dvector('x')
    step = function([x], (w * x).sum(), updates=UPDATE_FORMS[form]([(w, w * 2), (b, b + 1)]))
    assert float(step([1.0, 2.0, 3.0])) == 6.0
    np.testing.assert_array_equal(w.get_value(), [2, 2, 2])
    assert b.get_value() == 1.0


def test_update_with_python_number_is_cast_to_the_shared_dtype():
    counter = shared(np.int32(0), name='counter')
    reset = function([], [], updates=[(counter, 5)])
    reset()
    assert counter.get_value() == 5 and counter.get_value().dtype == "int32"


def test_update_keeps_broadcastable_shared_variable_type():
    row = shared(np.zeros((1, 3)), broadcastable=(True, False), name='row')
    m = T.dmatrix('m')
    f = function([m], [], updates=[(row, row + m.sum(axis=0, keepdims=True))])
    f(np.ones((4, 3)))
    np.testing.assert_array_equal(row.get_value(), [[4, 4, 4]])


# --------------------------------------------------------------------------- givens and default updates


def test_givens_replaces_an_expression():
    x = T.dvector('x')
    hidden = T.exp(x)
    out = hidden * 2
    h = T.dvector('h')
    f = function([h], out, givens={hidden: h})
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])


def test_givens_replaces_an_input_by_an_expression():
    x = T.dscalar('x')
    y = T.dscalar('y')
    f = function([y], x * 3, givens=[(x, y + 1)])
    assert float(f(1.0)) == 6.0


def test_givens_leaves_the_original_graph_untouched():
    state = shared(1.0, name='state')
    out = state * 2
    foo = T.dscalar('foo')
    function([foo], out, givens=[(state, foo)])
    assert out.owner.inputs[0] is state
    assert float(function([], out)()) == 2.0


@pytest.mark.parametrize("no_default_updates, expected_state", [(False, 2), (True, 0), ("list", 0)])
def test_default_updates(no_default_updates, expected_state):
    counter = shared(0, name='counter')
    counter.default_update = counter + 1
    if no_default_updates == "list":
        no_default_updates = [counter]
    f = function([], counter, no_default_updates=no_default_updates)
    assert [int(f()), int(f())] == ([0, 1] if expected_state else [0, 0])
    assert counter.get_value() == expected_state


def test_explicit_update_wins_over_default_update():
    counter = shared(0, name='counter')
    counter.default_update = counter + 1
    f = function([], counter, updates=[(counter, counter + 10)])
    f()
    assert counter.get_value() == 10


# --------------------------------------------------------------------------- defaults


def test_default_get_and_set():
    x, y = T.dscalars('x', 'y')
    f = function([x, In(y, value=1)], x + y)
    assert f['y'] == 1.0 and f[y] == 1.0
    assert f['x'] is None
    f(33, 2)
    assert f['y'] == 1.0, "the value of the last call must not become the default"
    assert float(f(33)) == 34.0
    f['y'] = 5
    assert float(f(33)) == 38.0
    assert f['y'] == 5.0
    with pytest.raises(KeyError, match="z"):
        f['z']


def test_input_with_an_update_changes_its_default():
    acc = T.dscalar('acc')
    k = function([In(acc, value=0.0, update=acc + 1)], acc)
    assert [float(k()), float(k()), float(k())] == [0.0, 1.0, 2.0]  # as in Theano 1.0.5
    assert float(k(10.0)) == 10.0 and float(k()) == 11.0
    assert k['acc'] == 12.0
    with pytest.raises(TypeError, match="update must have the input's type"):
        function([In(acc, value=0.0, update=T.dvector())], acc)


def test_default_is_not_aliased_to_outputs():
    v = T.dvector('v')
    f = function([In(v, value=np.zeros(2))], v)
    out = f()
    out[0] = 7.0
    np.testing.assert_array_equal(f(), [0.0, 0.0])


# --------------------------------------------------------------------------- outputs are copies


def test_returned_shared_value_is_a_copy():
    s = shared(np.zeros(3), name='s')
    a, b = function([], [s, s])()
    assert a is not b
    a[0] = 5.0
    np.testing.assert_array_equal(s.get_value(), [0, 0, 0])
    single = function([], s)()
    single[1] = 5.0
    np.testing.assert_array_equal(s.get_value(), [0, 0, 0])


def test_returned_input_and_view_are_copies():
    x = T.dmatrix('x')
    f = function([x], [x, x.T])
    value = np.ones((2, 2))
    same, transposed = f(value)
    same[0, 0] = 3.0
    transposed[0, 1] = 4.0
    np.testing.assert_array_equal(value, np.ones((2, 2)))


def test_output_that_is_also_an_update_is_not_overwritten():
    s = shared(np.zeros(2), name='s')
    f = function([], s + 1, updates=[(s, s + 1)])
    first = f()
    f()
    np.testing.assert_array_equal(first, [1, 1])


# --------------------------------------------------------------------------- copy


def test_copy_is_independent_and_shares_shared_variables():
    state = shared(0, name='state')
    inc = T.iscalar('inc')
    x = T.dscalar('x')
    f = function([inc, In(x, value=1.0)], [state, x], updates=[(state, state + inc)])
    for share_memory in (False, True):
        g = f.copy(share_memory=share_memory)
        g['x'] = 7.0
        assert float(f(0)[1]) == 1.0 and float(g(0)[1]) == 7.0
    f(0, 100.0)  # the last call's argument is not the copy's default
    assert float(f.copy()(0)[1]) == 1.0
    start = state.get_value()
    g(5)
    assert state.get_value() == start + 5
    assert g.maker.fgraph is not f.maker.fgraph


def test_copy_swap_checks_its_arguments():
    state = shared(0, name='state')
    f = function([], state, updates=[(state, state + 1)])
    with pytest.raises(ValueError, match="not a shared variable used"):
        f.copy(swap={shared(0, name='other'): shared(0)})
    with pytest.raises(TypeError, match="same type"):
        f.copy(swap={state: shared(0.5)})


# --------------------------------------------------------------------------- trust_input and modes


def test_trust_input_skips_conversion():
    x = T.dvector('x')
    f = function([x], x * 2)
    f.trust_input = True
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", Mode(linker='py'),
                                  Mode(linker='py', optimizer=None), DebugMode()],
                         ids=str)
def test_modes_compute_the_same(mode):
    x = T.dmatrix('x')
    f = function([x], 1 / (1 + T.exp(-x)), mode=mode)
    np.testing.assert_allclose(f([[0, 1], [-1, -2]]), [[0.5, 0.73105858], [0.26894142, 0.11920292]])


class WrongDtype(Op):
    """Claims a float64 output but computes float32: what DebugMode exists to catch."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0].astype("float32")


class ReusesItsOutput(Op):
    """x + 1 written into the previous call's output buffer when there is one (allowed by Op.perform)."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        (x,), (cell,) = inputs, outputs
        if cell[0] is not None and cell[0].shape == x.shape:
            np.add(x, 1, out=cell[0])
        else:
            cell[0] = x + 1


def test_a_returned_output_is_never_reused_by_the_next_call():
    v = T.dvector('v')
    f = function([v], ReusesItsOutput()(v))
    first = f([1.0, 2.0])
    second = f([10.0, 20.0])
    np.testing.assert_array_equal(first, [2.0, 3.0])
    np.testing.assert_array_equal(second, [11.0, 21.0])


def test_debug_mode_checks_every_output_type():
    v = T.dvector('v')
    assert function([v], WrongDtype()(v), mode='FAST_COMPILE')([1.0]).dtype == "float32"
    with pytest.raises(TypeError, match="output 0 of WrongDtype.*float32"):
        function([v], WrongDtype()(v), mode='DebugMode')([1.0])


def test_unknown_mode_and_linker():
    x = T.dscalar('x')
    with pytest.raises(ValueError, match="FOO"):
        function([x], x, mode='FOO')
    with pytest.raises(ValueError, match="linker"):
        Mode(linker='nonsense')


def test_name_and_signature():
    x, y = T.dscalars('x', 'y')
    f = function([x, y], x + y, name='adder')
    assert 'adder(x, y)' in repr(f)
    with pytest.raises(TypeError, match=r"adder\(x, y\)"):
        f(1)


def test_maker_fgraph_and_env():
    x = T.dscalar('x')
    f = function([x], x * 2)
    assert f.maker.fgraph is f.maker.env
    assert len(f.maker.fgraph.outputs) == 1
    assert f.maker.fgraph.inputs[0] is not x  # the graph is cloned


# --------------------------------------------------------------------------- pickling


def test_pickle_function_with_its_shared_variables():
    w = shared(np.array([1.0, 2.0]), name='w')
    x = T.dvector('x')
    y = T.dscalar('y')
    f = function([x, In(y, value=1.0)], (w * x).sum() + y, updates=[(w, w * 2)])
    assert float(f([1.0, 1.0])) == 4.0
    f([0.0, 0.0], 100.0)  # a non-default value must not become the pickled default
    f2, w2 = pickle.loads(pickle.dumps((f, w)))
    np.testing.assert_array_equal(w2.get_value(), [4.0, 8.0])
    assert float(f2([1.0, 1.0])) == 13.0
    np.testing.assert_array_equal(w2.get_value(), [8.0, 16.0])
    np.testing.assert_array_equal(w.get_value(), [4.0, 8.0])  # the original is independent
    w2.set_value(np.zeros(2))
    assert float(f2([1.0, 1.0], 0.5)) == 0.5


def test_pickle_preserves_sharing_between_functions():
    state = shared(0, name='state')
    inc = T.iscalar('inc')
    up = function([inc], state, updates=[(state, state + inc)])
    down = function([inc], state, updates=[(state, state - inc)])
    up2, down2, state2 = pickle.loads(pickle.dumps((up, down, state)))
    up2(10)
    down2(3)
    assert state2.get_value() == 7
    assert state.get_value() == 0


def test_pickle_shared_variable_alone():
    s = shared(np.arange(3.0), name='s', broadcastable=(False,))
    s2 = pickle.loads(pickle.dumps(s))
    assert s2.name == 's' and s2.type == s.type
    np.testing.assert_array_equal(s2.get_value(), [0, 1, 2])


# --------------------------------------------------------------------------- shared values


@pytest.mark.cpu_only
def test_get_value_borrow():
    value = np.arange(3.0)
    s = shared(value)
    assert s.get_value(borrow=True) is not value, "shared() copies unless borrow=True"
    assert s.get_value(borrow=True) is s.get_value(borrow=True)
    copy = s.get_value()
    copy[0] = 10.0
    assert s.get_value()[0] == 0.0
    borrowed = shared(value, borrow=True)
    assert borrowed.get_value(borrow=True) is value


@pytest.mark.cpu_only
def test_set_value_borrow():
    s = shared(np.zeros(3))
    new = np.ones(3)
    s.set_value(new)
    new[0] = 5.0
    np.testing.assert_array_equal(s.get_value(), [1, 1, 1])
    s.set_value(new, borrow=True)
    assert s.get_value(borrow=True) is new


def test_set_value_checks_the_type():
    s = shared(np.zeros(3), name='s')
    with pytest.raises(TypeError, match="s"):
        s.set_value(np.zeros((2, 2)))
    s.set_value([1, 2, 3])  # exact integers are converted
    assert s.get_value().dtype == "float64"


@pytest.mark.parametrize("value, dtype, broadcastable", [
    (0, "int64", ()), (0.0, "float64", ()), (np.float32(1.0), "float32", ()),
    ([1, 2], "int64", (False,)), (np.zeros((1, 3), dtype="float32"), "float32", (False, False)),
    (np.array(True), "bool", ()),
])
def test_shared_types(value, dtype, broadcastable):
    s = shared(value)
    assert s.dtype == dtype and s.broadcastable == broadcastable


def test_shared_broadcastable():
    row = shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert row.broadcastable == (True, False)
    assert (row + T.dmatrix()).broadcastable == (False, False)
    with pytest.raises(TypeError, match="broadcastable"):
        shared(np.zeros((1, 3)), broadcastable=(True,))
    with pytest.raises(TypeError):
        row.set_value(np.zeros((2, 3)))


def test_shared_of_unsupported_value():
    with pytest.raises(TypeError, match="str"):
        shared("text")


# --------------------------------------------------------------------------- eval


def test_eval():
    x, y = T.dscalars('x', 'y')
    z = x * y
    assert float(z.eval({x: 2, y: 3})) == 6.0
    assert float(z.eval({x: 4, y: 3})) == 12.0
    assert float((T.constant(2.0) * 3).eval()) == 6.0
    s = shared(np.array([1.0, 2.0]))
    np.testing.assert_array_equal((s * 2).eval(), [2.0, 4.0])
