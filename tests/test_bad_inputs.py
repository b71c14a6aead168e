"""Misuse gets a clear error naming the offending input or node (issue 2, acceptance 4).

Each row of :data:`MISUSES` is one mistake a student makes: a callable doing
it, the exception type expected, and substrings the message must contain
(the name of the input or node, and what was expected).  Behaviours that are
not a single raise (warnings, 'ignore' options, subprocesses) have their own
tests below the table.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import theanolab as theano
import theanolab.tensor as T
from theanolab import In, function, shared
from theanolab.compile.function import UnusedInputError, UnusedInputWarning
from theanolab.config import ConfigError, config
from theanolab.gradient import DisconnectedInputError
from theanolab.graph.fgraph import MissingInputError


class Absent(str):
    """A fragment the message must NOT contain (another constructor's irrelevant refusal, say)."""


def add_xy():
    x, y = T.dscalars('x', 'y')
    return function([x, y], x + y)


def add_matrices():
    a, b = T.dmatrices('a', 'b')
    return function([a, b], a + b)


def float32_vector():
    v = T.fvector('v')
    return v, function([v], v * 2)


def float32_scalar():
    s = T.fscalar('s')
    return function([s], s * 2)


def shapes_mismatch():
    a, b = T.dmatrices('a', 'b')
    total = a + b  # the line the error message must show
    function([a, b], total)(np.ones((2, 3)), np.ones((3, 2)))


def grad_of_matrix():
    m = T.dmatrix('m')
    T.grad(m * 2, m)


def grad_disconnected():
    x, y = T.dscalars('x', 'y')
    T.grad(x * 2, y)


def grad_wrt_number():
    x = T.dscalar('x')
    T.grad(x * 2, 3.0)


def update_non_shared():
    x = T.dscalar('x')
    function([x], x, updates=[(x, x + 1)])


def update_wrong_dtype():
    counter = shared(np.int32(0), name='counter')
    function([], [], updates=[(counter, counter + 1.5)])


def update_wrong_ndim():
    weights = shared(np.zeros(3), name='weights')
    function([], [], updates=[(weights, weights.sum())])


def update_loses_broadcastable():
    row = shared(np.zeros((1, 3)), broadcastable=(True, False), name='row')
    m = T.dmatrix('m')
    function([m], [], updates=[(row, row + m)])


def update_twice():
    state = shared(0.0, name='state')
    function([], [], updates=[(state, state + 1), (state, state + 2)])


def unused_input():
    x, y = T.dscalars('x', 'unused_y')
    function([x, y], x * 2)


def shared_as_input():
    w = shared(1.0, name='w')
    function([w], w * 2)


def input_twice():
    x = T.dscalar('x')
    function([x, x], x * 2)


def missing_input():
    x, y = T.dscalars('x', 'forgotten_y')
    function([x], x + y)


def givens_type_mismatch():
    state = shared(0, name='state')
    other = T.dmatrix('other')
    function([other], state * 2, givens=[(state, other)])


def set_unknown_flag():
    config.flaotX = 'float32'


def set_bad_value():
    config.floatX = 'float31'


def truth_value():
    x = T.dscalar('x')
    if x:
        pass


def tensor_type_bad_dtype():
    T.TensorType('floot32', (False,))


def dimshuffle_missing_dim():
    T.dmatrix('m').dimshuffle(0, 2)


def dimshuffle_drop_non_broadcastable():
    T.dmatrix('m').dimshuffle(0)


def in_of_number():
    In(3)


def bad_default():
    x, y = T.dscalars('x', 'y')
    function([x, In(y, value='one')], x + y)


def eval_with_names():
    x = T.dscalar('x')
    (x * 2).eval({'x': 1.0})


def eval_missing_input():
    x, y = T.dscalars('x', 'y_not_given')
    (x + y).eval({x: 1.0})


def non_list_inputs():
    x = T.dscalar('x')
    function(x, x * 2)


def doubling_scan(**kwargs):
    """A scan doubling ``a0`` (a dvector), with the arguments under test."""
    kwargs.setdefault("outputs_info", [T.dvector('a0')])
    return theano.scan(kwargs.pop("fn", lambda a: a * 2), **kwargs)


def scan_negative_steps():
    result, _ = doubling_scan(outputs_info=[T.constant(np.ones(2))], n_steps=-3)
    function([], result)()


def streams():
    from theanolab.tensor.shared_randomstreams import RandomStreams

    return RandomStreams(1)


def viz(name):
    """A teaching view, imported only when the row runs (it needs the notebook extras)."""
    import theanolab.viz

    return getattr(theanolab.viz, name)


#: (id, misuse, exception type, substrings of the message)
MISUSES = [
    ("too many arguments", lambda: add_xy()(1, 2, 3), TypeError, ["x, y", "2 argument", "3 were given"]),
    ("unknown keyword", lambda: add_xy()(1, z=2), TypeError, ["'z'", "x, y"]),
    ("multiple values", lambda: add_xy()(1, 2, x=3), TypeError, ["multiple values", "'x'"]),
    ("missing argument", lambda: add_xy()(1), TypeError, ["missing", "y"]),
    ("string argument", lambda: add_xy()("one", 2), TypeError, ['"x"', "index 0", "float64", "numbers", "str"]),
    ("complex argument", lambda: add_xy()(1 + 2j, 2), TypeError, ['"x"', "complex", "(1+2j)"]),
    ("object argument", lambda: add_xy()(object(), 2), TypeError, ['"x"', "index 0"]),
    ("wrong ndim", lambda: add_matrices()([1.0, 2.0], [[1.0]]), TypeError,
     ['"a"', "index 0", "number of dimensions", "expected 2, got 1"]),
    ("float64 into float32", lambda: float32_vector()[1](np.ones(3)), TypeError,
     ['"v"', "float64", "float32", "allow_input_downcast"]),
    ("inexact Python floats into float32", lambda: float32_vector()[1]([94.2]), TypeError,
     ['"v"', "94.2", "94.19999694824219", "allow_input_downcast"]),
    ("inexact float into an unnamed float32 input", lambda: (lambda v: function([v], v * 2)([0.1]))(T.fvector()),
     TypeError, ["(an unnamed TensorType(float32, vector))", "index 0", "allow_input_downcast"]),
    # Theano takes a Python float into a float32 input only when floatX is float32 (or it is exact).
    ("inexact Python float into fscalar", lambda: float32_scalar()(94.2), TypeError,
     ['"s"', "94.2", "allow_input_downcast"]),
    ("shapes mismatch at run time", shapes_mismatch, ValueError,
     ["Elemwise{add,no_inplace}", "total = a + b", __file__, "(2, 3)", "(3, 2)"]),
    ("grad of a matrix", grad_of_matrix, TypeError, ["cost must be a scalar", "2 dimension", ".sum()"]),
    ("grad disconnected", grad_disconnected, DisconnectedInputError, ["y", "disconnected_inputs"]),
    ("grad wrt a number", grad_wrt_number, TypeError, ["wrt[0]", "3.0", "symbolic variable"]),
    ("update of non-shared", update_non_shared, TypeError, ["x", "shared variable"]),
    ("update of wrong dtype", update_wrong_dtype, TypeError, ["counter", "int32", "float64", "same type"]),
    ("update of wrong ndim", update_wrong_ndim, TypeError, ["weights", "vector", "scalar", "dimensions"]),
    ("update loses broadcastable", update_loses_broadcastable, TypeError,
     ["row", "TensorType(float64, matrix)", "axes [0]", "keepdims"]),
    ("update twice", update_twice, ValueError, ["state", "twice"]),
    ("unused input", unused_input, UnusedInputError, ["unused_y", "index 1", "on_unused_input"]),
    ("shared as explicit input", shared_as_input, TypeError, ["w", "shared variable", "givens"]),
    ("same input twice", input_twice, ValueError, ["x", "twice"]),
    ("missing input", missing_input, MissingInputError, ["forgotten_y", "input"]),
    ("givens type mismatch", givens_type_mismatch, TypeError, ["state", "int64", "other", "matrix"]),
    ("unknown flag assignment", set_unknown_flag, ConfigError, ["flaotX", "floatX"]),
    ("bad flag value", set_bad_value, ConfigError, ["floatX", "float31", "float32"]),
    ("truth value", truth_value, TypeError, ["x", "truth value", "switch"]),
    ("bad dtype", tensor_type_bad_dtype, TypeError, ["floot32", "float32"]),
    ("dimshuffle of a missing dimension", dimshuffle_missing_dim, ValueError, ["dimension 2", "2 dimensions"]),
    ("dimshuffle drops a dimension", dimshuffle_drop_non_broadcastable, ValueError,
     ["dimension 1", "not broadcastable"]),
    ("In of a number", in_of_number, TypeError, ["In()", "3"]),
    ("bad default value", bad_default, TypeError, ['"y"', "index 1", "float64", "'one'"]),
    ("eval keyed by names", eval_with_names, TypeError, ["eval()", "'x'", "not a variable"]),
    ("eval without an input", eval_missing_input, MissingInputError, ["y_not_given"]),
    ("inputs not a list", non_list_inputs, TypeError, ["list", "x"]),
    # scan
    ("scan n_steps a string", lambda: doubling_scan(n_steps='ten'), TypeError, ["n_steps", "'ten'", "tensor"]),
    ("scan n_steps a float", lambda: doubling_scan(n_steps=2.5), TypeError, ["n_steps", "integer scalar"]),
    ("scan n_steps a vector", lambda: doubling_scan(n_steps=T.dvector('n')), TypeError,
     ["n_steps", "integer scalar", "vector"]),
    ("scan n_steps negative", scan_negative_steps, ValueError, ["n_steps", ">= 0", "-3"]),
    ("scan outputs_info a string", lambda: doubling_scan(outputs_info=['start'], n_steps=3), TypeError,
     ["outputs_info[0]", "'start'", "tensor"]),
    ("scan outputs_info of another dtype", lambda: doubling_scan(fn=lambda a: a * 2.5, n_steps=3,
                                                                 outputs_info=[T.lvector('a0')]),
     TypeError, ["outputs_info[0]", "int64", "float64", "same dtype and number of dimensions"]),
    ("scan outputs_info of another ndim", lambda: doubling_scan(fn=lambda a: a.sum(), n_steps=3), TypeError,
     ["outputs_info[0]", "vector", "scalar", "number of dimensions"]),
    ("scan fn takes too few parameters", lambda: theano.scan(lambda a: a * 2, sequences=T.dvector('x'),
                                                             outputs_info=T.dscalar('s0')),
     TypeError, ["scan calls fn with 2 argument", "1 sequence slice", "1 previous value", "<lambda>(a)"]),
    ("scan fn takes too many parameters", lambda: theano.scan(lambda a, b, c: a * 2, sequences=T.dvector('x')),
     TypeError, ["scan calls fn with 1 argument", "<lambda>(a, b, c)", "missing a required argument: 'b'"]),
    ("scan fn returns too few outputs", lambda: doubling_scan(fn=lambda a, b: a * 2, n_steps=3,
                                                              outputs_info=[T.dvector('a0'), T.dvector('b0')]),
     ValueError, ["fn returned 1 output", "outputs_info has 2"]),
    ("scan fn returns too many outputs", lambda: doubling_scan(fn=lambda a: [a * 2, a * 3], n_steps=3),
     ValueError, ["fn returned 2 output", "outputs_info has 1"]),
    ("scan non_sequences a string", lambda: doubling_scan(fn=lambda a, k: a * k, non_sequences=['k'], n_steps=3),
     TypeError, ["non_sequences[0]", "'k'", "tensor"]),
    ("scan sequences a string", lambda: theano.scan(lambda v: v * 2, sequences=['xs']), TypeError,
     ["sequences[0]", "'xs'", "tensor"]),
    # random streams
    ("random size a string", lambda: streams().normal(size='big'), TypeError, ["size", "'big'", "tuple of integers"]),
    ("random size of floats", lambda: streams().uniform(size=(2.5, 3)), TypeError, ["size", "(2.5, 3)", "integers"]),
    ("random size negative", lambda: function([], streams().uniform(size=(-2,)))(), ValueError,
     ["size", ">= 0", "(-2,)"]),
    ("random low a string", lambda: streams().uniform(size=(2,), low='a'), TypeError,
     ["uniform: low", "'a'", "a number"]),
    ("random binomial p a string", lambda: streams().binomial(size=(2,), p='half'), TypeError,
     ["binomial: p", "'half'", "a number"]),
    ("random std with more dimensions", lambda: streams().normal(size=(2,), std=T.dmatrix('s')), ValueError,
     ["2 dimensions", "the 1 of the sample"]),
    # shared
    ("shared of a string", lambda: shared('text', name='s'), TypeError, ["'text'", "expected an array or a number"]),
    ("shared of an object", lambda: shared(object(), name='o'), TypeError, ["object", "expected an array or a number"]),
    ("shared with a broadcastable pattern its shape contradicts",
     lambda: shared(np.zeros((2, 3)), broadcastable=(True, False)), TypeError,
     ["broadcastable=(True, False)", "TensorType(float64, row)", "length 1 on axis 0", "(2, 3)",
      Absent("randomstate_constructor"), Absent("config.device")]),
    ("shared with broadcastable of another length", lambda: shared(np.zeros(3), broadcastable=(True, False)),
     TypeError, ["broadcastable=(True, False)", "2 entries", "1 dimensions", Absent("randomstate_constructor")]),
    ("shared RandomState with broadcastable", lambda: shared(np.random.RandomState(1), broadcastable=()),
     TypeError, ["RandomState", "broadcastable", Absent("tensor_constructor")]),
    ("shared with an unknown argument", lambda: shared(np.zeros(3), dtype='float32'), TypeError,
     ["shared tensor", "dtype", Absent("randomstate_constructor")]),
    ("set_value with another ndim", lambda: shared(np.zeros(3), name='weights').set_value(np.zeros((2, 2))),
     TypeError, ["weights", "number of dimensions", "expected 1, got 2"]),
    ("set_value with another dtype", lambda: shared(np.zeros(3, 'int32'), name='counts').set_value(np.ones(3) / 2),
     TypeError, ["counts", "int32", "float64", "cast"]),
    ("set_value of a string", lambda: shared(np.zeros(3), name='weights').set_value('zeros'), TypeError,
     ["weights", "expects numbers", "'zeros'"]),
    # config flags
    ("change_flags of an unknown flag", lambda: theano.change_flags(flaotX='float32').__enter__(), ConfigError,
     ["flaotX", "floatX", "known flags"]),
    ("bad linker value", lambda: setattr(config, 'linker', 'fastest'), ConfigError, ["linker", "'fastest'", "'c|py'"]),
    ("bad optimizer value", lambda: setattr(config, 'optimizer', 'fastest'), ConfigError,
     ["optimizer", "'fastest'", "fast_run"]),
    ("unknown mode name", lambda: function([T.dscalar('x')], T.dscalar('x'), mode='FAST_WALK'), ValueError,
     ["FAST_WALK", "FAST_RUN"]),
    # teaching views
    ("viz.plot of a number", lambda: viz('plot')(42, T.dscalar('x')), TypeError,
     ["plot: expr", "42", "scalar expression of x"]),
    ("viz.plot wrt an expression", lambda: viz('plot')(T.dscalar('x') * 2, 3), TypeError,
     ["plot: wrt", "3", "scalar input variable"]),
    ("viz.scan_stepper of a number", lambda: viz('scan_stepper')(3), TypeError,
     ["scan_stepper", "compiled function", "got 3"]),
    ("viz.rewrite_stepper of a string", lambda: viz('rewrite_stepper')('f'), TypeError,
     ["rewrite_stepper", "compiled function", "'f'"]),
]


@pytest.mark.parametrize("misuse, error, fragments", [row[1:] for row in MISUSES], ids=[row[0] for row in MISUSES])
def test_misuse_raises_a_clear_error(misuse, error, fragments):
    before = config.floatX
    with pytest.raises(error) as info:
        misuse()
    message = str(info.value)
    for fragment in fragments:
        if isinstance(fragment, Absent):
            assert fragment not in message, f"{fragment!r} in:\n{message}"
        else:
            assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert config.floatX == before


def test_downcast_is_accepted_when_allowed():
    v = T.fvector('v')
    f = function([v], v * 2, allow_input_downcast=True)
    value = f(np.array([0.1, 94.2]))
    assert value.dtype == "float32"
    np.testing.assert_allclose(value, [0.2, 188.4], rtol=1e-6)
    g = function([In(v, allow_downcast=True)], v)
    assert g([94.2]).dtype == "float32"


@pytest.mark.parametrize("value", [0.5, 4.0, 4, [1.5, 2.0]])
def test_exact_python_numbers_into_float32_are_accepted(value):
    # Theano stores a Python number in a float32 input when it is exact.
    v = T.fscalar('v') if np.ndim(value) == 0 else T.fvector('v')
    result = function([v], v)(value)
    assert result.dtype == "float32"
    np.testing.assert_array_equal(result, value)


def test_python_float_into_floatx_float32_input_is_accepted():
    with theano.change_flags(floatX='float32'):
        x = T.scalar('x')
        result = function([x], x * 2)(94.2)
    assert result.dtype == "float32"
    np.testing.assert_allclose(result, 188.4, rtol=1e-6)


def test_mismatched_shapes_error_says_which_inputs_and_axis():
    with pytest.raises(ValueError) as info:
        shapes_mismatch()
    assert "Input dimension mismatch: input 0 has length 2 on axis 0 but input 1 has length 3" in str(info.value)
    assert "add" in str(info.value.node.op)


def test_disconnected_grad_ignore_and_warn_give_zeros():
    x, y = T.dscalars('x', 'y')
    g = T.grad(x * 2, y, disconnected_inputs='ignore')
    assert float(function([x, y], g, on_unused_input='ignore')(1.0, 5.0)) == 0.0
    with pytest.warns(UserWarning, match="y"):
        T.grad(x * 2, [x, y], disconnected_inputs='warn')
    m = T.dmatrix('m')
    gm = T.grad(x * 2, m, disconnected_inputs='ignore')
    zeros = function([x, m], gm, on_unused_input='ignore')(1.0, np.ones((2, 3)))
    np.testing.assert_array_equal(zeros, np.zeros((2, 3)))


@pytest.mark.parametrize("mode", ["warn", "ignore"])
def test_unused_input_warn_and_ignore(mode):
    x, y = T.dscalars('x', 'unused_y')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = function([x, y], x * 2, on_unused_input=mode)
    relevant = [w for w in caught if issubclass(w.category, UnusedInputWarning)]
    if mode == "warn":
        assert len(relevant) == 1 and "unused_y" in str(relevant[0].message)
        assert "To make this warning an error pass on_unused_input='raise'" in str(relevant[0].message)
    else:
        assert not relevant
    assert float(f(3.0, 100.0)) == 6.0


def test_bad_on_unused_input_value():
    x = T.dscalar('x')
    with pytest.raises(ValueError, match="on_unused_input"):
        function([x], x, on_unused_input='maybe')


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter with extra environment variables."""
    environment = dict(os.environ, **env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment["PYTHONPATH"] = root + os.pathsep + environment.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          timeout=60)


@pytest.mark.parametrize("flags, fragments", [
    ("floatX=float32,flaotX=float64", ["THEANOLAB_FLAGS", "flaotX"]),
    ("floatX=float31", ["THEANOLAB_FLAGS", "floatX", "float31"]),
    ("floatX", ["THEANOLAB_FLAGS", "name=value"]),
])
def test_bad_theanolab_flags_fail_at_import(flags, fragments):
    result = run_python("import theanolab", THEANOLAB_FLAGS=flags)
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
