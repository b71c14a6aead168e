"""Whole-function compilation: a function whose every node has C runs as one generated C function.

Each compiled function here is checked against the reference backend
(``Mode(linker='py')``) over several calls (state reused, shapes changing so
buffers grow and shrink, empty arrays), and must really be one C function
(``Function.one_c_function``), so a graph silently falling back to the mixed
machine fails the test.
"""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab import In
from theanolab.backends.c import build
from theanolab.printing import debugprint
from theanolab.tensor.subtensor import IncSubtensor

C_MODE = theanolab.Mode(linker="c|py", optimizer="fast_run")
MIXED_MODE = theanolab.Mode(linker="cvm", optimizer="fast_run")
PY_MODE = theanolab.Mode(linker="py", optimizer="fast_run")
#: C's exp and log (vectorized) may differ from NumPy's by a few ulps
RTOL = {"float32": 1e-6, "float64": 1e-9}

rng = np.random.default_rng(42)


def assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g, e = np.asarray(g), np.asarray(e)
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
        if e.dtype.kind == "f":
            np.testing.assert_allclose(g, e, rtol=RTOL[e.dtype.name], atol=1e-12)
        else:
            np.testing.assert_array_equal(g, e)


def compile_both(build_graph):
    """The graph from ``build_graph()`` (inputs, outputs) compiled as one C function and on the reference."""
    functions = []
    for mode in (C_MODE, PY_MODE):
        inputs, outputs = build_graph()
        functions.append(theanolab.function(inputs, outputs, mode=mode))
    assert functions[0].one_c_function, debugprint(functions[0], file="str")
    return functions


def _matrices(*shapes):
    return tuple(rng.standard_normal(shape) for shape in shapes)


# ---------------------------------------------------------------------------- the tutorial's programs


def logistic_regression(mode, w0, b0):
    """The tutorial's training and prediction functions (seed 001), with their shared variables."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = theanolab.shared(w0.copy(), name="w"), theanolab.shared(b0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theanolab.function([x, y], [prediction, xent], updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
                               mode=mode)
    predict = theanolab.function([x], prediction, mode=mode)
    return train, predict, w, b


def mlp(mode, weights):
    """The slides' multi-layer perceptron step (784-300-1)."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w_1, b_1, w_2, b_2 = (theanolab.shared(np.copy(v), name=n) for v, n in zip(weights, ("w1", "b1", "w2", "b2")))
    p_1 = T.nnet.sigmoid(-T.dot(T.nnet.sigmoid(-T.dot(x, w_1) - b_1), w_2) - b_2)
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w_2 ** 2).sum()
    params = [w_1, b_1, w_2, b_2]
    grads = T.grad(cost, params)
    train = theanolab.function([x, y], [prediction, xent], mode=mode,
                               updates={p: p - 0.1 * g for p, g in zip(params, grads)})
    return train, params


def test_logistic_regression_is_one_c_function_with_the_reference_values():
    features = 784
    w0, b0 = rng.standard_normal(features), 0.0
    train_c, predict_c, w_c, b_c = logistic_regression(C_MODE, w0, b0)
    train_py, predict_py, w_py, b_py = logistic_regression(PY_MODE, w0, b0)
    assert train_c.one_c_function and predict_c.one_c_function
    assert any(node.op.destroy_map for node in train_c.maker.fgraph.toposort())  # in-place nodes run too
    for samples in (400, 400, 50, 600, 0, 400):  # buffers reused, shrunk, grown; an empty batch
        data = (rng.standard_normal((samples, features)), rng.integers(0, 2, samples).astype("float64"))
        assert_same(train_c(*data), train_py(*data))
        assert_same([w_c.get_value(), b_c.get_value()], [w_py.get_value(), b_py.get_value()])
        assert_same([predict_c(data[0])], [predict_py(data[0])])


def test_mlp_step_is_one_c_function_with_the_reference_values():
    weights = [rng.standard_normal((784, 300)) * 0.05, np.zeros(300), rng.standard_normal(300) * 0.05, 0.0]
    train_c, params_c = mlp(C_MODE, weights)
    train_py, params_py = mlp(PY_MODE, weights)
    assert train_c.one_c_function
    for samples in (30, 30, 7):
        data = (rng.standard_normal((samples, 784)), rng.integers(0, 2, samples).astype("float64"))
        assert_same(train_c(*data), train_py(*data))
        assert_same([p.get_value() for p in params_c], [p.get_value() for p in params_py])


# ---------------------------------------------------------------------------- graphs, table-driven


def _logistic():
    x = T.dmatrix("x")
    return [x], [1 / (1 + T.exp(-x)), (1 + T.tanh(x / 2)) / 2]


def _differences():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    return [a, b], [diff, abs(diff), diff ** 2]


def _reductions():
    x = T.dmatrix("x")
    return [x], [x.sum(axis=0), x.max(axis=1), x.mean(), T.argmax(x, axis=1)]


def _products():
    a, b, v = T.dmatrix("a"), T.dmatrix("b"), T.dvector("v")
    return [a, b, v], [T.dot(a, b), T.dot(v, a), T.dot(a.T, v), T.dot(v, v), T.dot(a, b) + T.dot(b.T, a.T)]


def _views():
    x = T.dmatrix("x")
    return [x], [x.T, x.dimshuffle(1, "x", 0), (x * 2).T, x[None].sum(axis=0)]


def _shapes():
    x = T.dmatrix("x")
    return [x], [x.shape, x.shape[0] * x.shape[1], T.zeros_like(x) + x.shape[1]]


def _reshapes():
    x = T.dmatrix("x")
    return [x], [x.flatten(), x.T.flatten(), (x * 2).reshape((x.shape[1], -1)), x.T.reshape((-1, 1)) + 1]


def _allocs():
    x = T.dvector("x")
    return [x], [T.alloc(x.sum(), 3, x.shape[0]), T.alloc(x, 2, x.shape[0]) * 2, T.ones_like(x)]


def _softmax():
    x, y = T.dmatrix("x"), T.ivector("y")
    sm = T.nnet.softmax(x)
    return [x, y], [sm, T.nnet.categorical_crossentropy(sm, y).mean(), T.grad((sm ** 2).sum(), x)]


def _integers():
    a, b = T.ivector("a"), T.bvector("b")
    return [a, b], [a + b, a * b > 3, (a // 3) % 5, T.maximum(a, b).sum()]


def _float32():
    x, y = T.fmatrix("x"), T.fvector("y")
    return [x, y], [T.exp(x) + y, (x * y).sum(axis=1), T.dot(x, y)]


def _constants():
    x = T.dmatrix("x")
    return [x], [x * np.arange(3.0), T.dot(x, np.eye(3)[::-1]) + np.ones((1, 3))]


def _indexing():
    x, i = T.dmatrix("x"), T.lscalar("i")
    return [x, i], [x[1:, ::-1], x[i], x[-1, i:], x[::2, i] * 2, T.set_subtensor(x[i], 5.0),
                    T.inc_subtensor(x[:, 1:], x[0, 0]), T.grad((x[:, i] ** 2).sum(), x)]


#: (name, graph builder, the argument tuples of successive calls: shapes change, some are empty or views)
GRAPHS = [
    ("logistic", _logistic, [_matrices((2, 2)), _matrices((0, 3)), (rng.standard_normal((4, 5)).T,)]),
    ("differences", _differences, [_matrices((2, 2), (2, 2)), _matrices((3, 4), (3, 4)), _matrices((0, 4), (0, 4))]),
    ("reductions", _reductions, [_matrices((3, 4)), _matrices((5, 2)), (rng.standard_normal((6, 4))[::-2],)]),
    ("products", _products, [_matrices((3, 3), (3, 3), (3,)), _matrices((4, 4), (4, 4), (4,)),
                             _matrices((0, 0), (0, 0), (0,))]),
    ("views", _views, [_matrices((2, 3)), _matrices((4, 1)), _matrices((0, 2))]),
    ("shapes", _shapes, [_matrices((2, 3)), _matrices((5, 7)), _matrices((0, 2))]),
    ("reshapes", _reshapes, [_matrices((2, 3)), _matrices((4, 6)), (rng.standard_normal((6, 4))[:, ::2],),
                             _matrices((0, 3))]),
    ("allocs", _allocs, [_matrices((3,)), _matrices((6,)), _matrices((0,))]),
    ("softmax", _softmax, [(rng.standard_normal((4, 3)), np.array([0, 2, 1, 1], "int32")),
                           (rng.standard_normal((2, 5)), np.array([4, 0], "int32"))]),
    ("integers", _integers, [(np.arange(-4, 4, dtype="int32"), np.arange(8, dtype="int8")),
                             (np.array([7], "int32"), np.array([-3], "int8")),
                             (np.zeros(0, "int32"), np.zeros(0, "int8"))]),
    ("constants", _constants, [_matrices((2, 3)), _matrices((0, 3)), (rng.standard_normal((3, 5)).T,)]),
    ("indexing", _indexing, [(rng.standard_normal((3, 4)), 1), (rng.standard_normal((5, 2)), -2),
                             (rng.standard_normal((4, 3))[::-1], 0)]),
    ("float32", _float32, [(rng.standard_normal((3, 4), "float32"), rng.standard_normal(4, "float32")),
                           (rng.standard_normal((1, 2), "float32"), rng.standard_normal(2, "float32"))]),
]


@pytest.mark.parametrize("name, graph, calls", GRAPHS, ids=[g[0] for g in GRAPHS])
def test_graphs_are_one_c_function_with_the_reference_values(name, graph, calls):
    f_c, f_py = compile_both(graph)
    for args in calls:
        assert_same(f_c(*args), f_py(*args))


# ---------------------------------------------------------------------------- calls


def test_x_plus_y_takes_python_numbers_and_arrays_in_one_call():
    x, y = T.dscalars("x", "y")
    f = theanolab.function([x, y], x + y, mode=C_MODE)
    assert f.one_c_function
    for args in [(1.25, 2.25), (1, 2), (np.array(1.25), np.array(2.25)), (np.float64(1.25), 2.25), ([1.25], 2.25)]:
        if isinstance(args[0], list):
            with pytest.raises(TypeError, match="Wrong number of dimensions"):
                f(*args)
            continue
        result = f(*args)
        assert isinstance(result, np.ndarray) and result.dtype == "float64" and result.shape == ()
        assert result == float(np.asarray(args[0])) + float(np.asarray(args[1]))
    assert f._fast(1.25, 2.25) == 3.5  # the one-call path takes floats, ints and exact arrays ...
    assert f._fast(np.float32(1), 2.0) is NotImplemented  # ... and leaves anything else to the general path
    f.trust_input = True
    assert f(np.array(1.0), np.array(2.0)) == 3.0
    assert f(1.0, 2.0) == 3.0


def test_general_path_defaults_keywords_conversions_and_input_updates():
    x, y, w = T.dscalars("x", "y", "w")
    f = theanolab.function([x, In(y, value=1), In(w, value=2, name="w_by_name")], (x + y) * w, mode=C_MODE)
    assert f.one_c_function
    assert [float(f(33)), float(f(33, 2)), float(f(33, 0, 1)), float(f(33, w_by_name=1, y=0))] == [68, 70, 33, 33]
    v = T.dvector("v")
    g = theanolab.function([v], v * 2, mode=C_MODE)
    np.testing.assert_array_equal(g(np.arange(3, dtype="float32")), [0, 2, 4])  # a safe cast, by the filter
    np.testing.assert_array_equal(g([1, 2]), [2, 4])
    total = T.dscalar("total")
    accumulate = theanolab.function([In(total, value=0.0, update=total + 1)], total * 10, mode=C_MODE)
    assert accumulate.one_c_function and accumulate._fast is None
    assert [float(accumulate()) for _ in range(3)] == [0, 10, 20]


def test_bad_arguments_raise_as_on_the_mixed_machine():
    v = T.dvector("v")
    messages = []
    for mode in (C_MODE, MIXED_MODE):
        f = theanolab.function([v], v * 2, mode=mode)
        with pytest.raises(TypeError) as info:
            f(np.zeros((2, 2)))
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "Bad input argument" in messages[0]


def test_updates_are_written_after_the_outputs_and_nothing_aliases():
    s = theanolab.shared(np.arange(3.0), name="s")
    f = theanolab.function([], [s, s * 2, s + 1], updates=[(s, s + 1)], mode=C_MODE)
    assert f.one_c_function
    old, doubled, incremented = f()
    np.testing.assert_array_equal(old, [0, 1, 2])  # the outputs see the value from before the call
    np.testing.assert_array_equal(doubled, [0, 2, 4])
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    incremented[...] = -1  # the output s + 1 and the update s + 1 are one variable, two arrays
    old[...] = -1
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    np.testing.assert_array_equal(f()[0], [1, 2, 3])


def test_outputs_are_fresh_arrays_on_every_call():
    x = T.dmatrix("x")
    f = theanolab.function([x], [x * 2, (x * 3).T, x, x * 2], mode=C_MODE)
    assert f.one_c_function
    a, b = np.ones((2, 3)), np.full((3, 2), 5.0)
    first = f(a)
    second = f(b)
    assert_same(first, [a * 2, (a * 3).T, a, a * 2])
    assert_same(second, [b * 2, (b * 3).T, b, b * 2])
    arrays = first + second + [a, b]
    for i, p in enumerate(arrays):
        for q in arrays[i + 1:]:
            assert not np.shares_memory(p, q)


def _in_place():
    """In-place nodes: Gemm into a product, elementwise into a view of a sum, IncSubtensor into a product."""
    a, b, c, d = T.dmatrices("a", "b", "c", "d")
    i = T.lscalar("i")
    into_view = (T.exp(a.sum(axis=0).dimshuffle("x", 0)) * 2).sum()
    into_product = IncSubtensor(("int64",), inplace=True)(a * 2, T.constant(1.5), i) * 3
    return [a, b, c, d, i], [(T.dot(a, b) + T.dot(c, d)) * 2 + a.sum(), into_view, into_product]


def test_in_place_nodes_write_into_what_they_destroy():
    f_c, f_py = compile_both(_in_place)
    destroyers = {type(node.op).__name__ for node in f_c.maker.fgraph.toposort() if node.op.destroy_map}
    assert destroyers >= {"Gemm", "Elemwise", "IncSubtensor"}, destroyers
    for n in (3, 5, 2):
        args = _matrices((n, n), (n, n), (n, n), (n, n)) + (n - 1,)
        assert_same(f_c(*args), f_py(*args))


# ---------------------------------------------------------------------------- errors, fallback, printing, cache


def _mismatch():
    a, b = T.dmatrices("a", "b")
    return [a, b], a + b


def _misaligned():
    a, b = T.dmatrices("a", "b")
    return [a, b], T.dot(a, b)


def _bad_reshape():
    x = T.dmatrix("x")
    return [x], (x * 2).reshape((4,))


def _bad_index():
    x = T.dmatrix("x")
    return [x], (x * 2)[:, 3]


#: (graph, failing arguments, exception, words of the message, whether the C kernel words it as the
#: reference does, arguments that work)
ERRORS = [
    (_mismatch, _matrices((2, 3), (3, 2)), ValueError, "Input dimension mismatch", True, _matrices((2, 2), (2, 2))),
    (_misaligned, _matrices((2, 3), (2, 3)), ValueError, "not aligned", False, _matrices((2, 3), (3, 2))),
    (_bad_reshape, _matrices((2, 3)), ValueError, "cannot reshape an array of shape (2, 3) (size 6) into shape (4,)",
     True, _matrices((2, 2))),
    (_bad_index, _matrices((2, 3)), IndexError, "index 3 is out of bounds for axis 1 with size 3", True,
     _matrices((2, 4))),
]


@pytest.mark.parametrize("graph, args, error, words, as_reference, good", ERRORS,
                         ids=["elemwise", "dot", "reshape", "subtensor"])
def test_errors_inside_name_the_node_as_the_mixed_machine_does(graph, args, error, words, as_reference, good):
    messages, functions = [], []
    for mode in (C_MODE, MIXED_MODE, PY_MODE):
        inputs, outputs = graph()
        functions.append(theanolab.function(inputs, outputs, mode=mode))
        assert functions[-1].one_c_function == (mode is C_MODE)
        with pytest.raises(error) as info:
            functions[-1](*args)
        messages.append(str(info.value))
        assert words in messages[-1] and "Apply node that caused the error" in messages[-1]
    if as_reference:  # the mixed machine runs views and reshapes through perform: the reference's words
        assert messages[0].splitlines()[0] == messages[2].splitlines()[0]
    else:  # word for word, with the node, its inputs and the user's line
        assert messages[0] == messages[1]
    assert_same([functions[0](*good)], [functions[2](*good)])  # the state is usable after an error


def test_a_node_without_c_falls_back_to_the_mixed_machine():
    x, y = T.dvectors("x", "y")
    f = theanolab.function([x, y], T.concatenate([x, y]) * 2, mode=C_MODE)
    assert not f.one_c_function and "py" in f.node_backends.values() and "c" in f.node_backends.values()
    np.testing.assert_array_equal(f([1.0], [2.0, 3.0]), [2, 4, 6])
    assert "one generated C function" not in debugprint(f, file="str")


def test_debugprint_says_when_the_function_is_one_c_function():
    x = T.dvector("x")
    f = theanolab.function([x], T.exp(x).sum() + x.shape[0], mode=C_MODE)
    text = debugprint(f, file="str")
    assert [line for line in text.splitlines() if "one generated C function" in line] == [text.splitlines()[-1]]
    assert set(f.node_backends.values()) == {"c"}
    assert "one generated C function" not in debugprint(theanolab.function([x], x * 2, mode=MIXED_MODE), file="str")
    assert "one generated C function" not in debugprint(theanolab.function([x], x * 2, mode=PY_MODE), file="str")


def test_identical_functions_reuse_the_driver_build():
    def compile_once():
        a, b = T.dmatrices("a", "b")
        return theanolab.function([a, b], T.tanh(a) * b - 7, mode=C_MODE)

    compile_once()
    runs = build.stats.compiler_runs
    f = compile_once()
    assert build.stats.compiler_runs == runs and f.one_c_function
    np.testing.assert_allclose(f(np.zeros((1, 1)), np.ones((1, 1))), [[-7.0]])
