"""Lesson 2's exercises (notebooks/02_more_examples.ipynb): the logistic, defaults, shared state, givens."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, expect_close, explicit_inputs

# 2.1 -------------------------------------------------------------------------------------------


def _logistic():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')
    # exp(-x): large positive x gives exp(-x) near 0, so s near 1.
    s = 1 / (1 + T.exp(-x))
    return theano.function([x], s)


def _logistic_of_minus_x():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')
    return theano.function([x], 1 / (1 + T.exp(x)))


def _bare_tanh():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dmatrix('x')
    return theano.function([x], T.tanh(x / 2))


def _logistic_of_scalar():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    return theano.function([x], 1 / (1 + T.exp(-x)))


# What a student's formula computes when it has the usual slip, and what to say about it.
_LOGISTIC_SLIPS = (
    (lambda x: 1 / (1 + np.exp(x)),
     "you computed 1 / (1 + exp(x)), which falls where the logistic rises: it is the logistic of -x. "
     "The formula needs T.exp(-x)"),
    (lambda x: 1 + np.exp(-x),
     "you returned 1 + exp(-x), the denominator; the logistic is its reciprocal: 1 / (1 + T.exp(-x))"),
    (lambda x: np.tanh(x / 2),
     "you returned tanh(x / 2), which runs from -1 to 1; shift and halve it to get the logistic: "
     "(1 + T.tanh(x / 2)) / 2"),
    (lambda x: (1 + np.tanh(x)) / 2,
     "you used tanh(x) where the identity needs tanh(x / 2): (1 + T.tanh(x / 2)) / 2"),
)


@exercise("2.1", "The logistic function, elementwise", reference=_logistic,
          wrong_answers=(_logistic_of_minus_x, _bare_tanh, _logistic_of_scalar))
def _check_logistic(answer):
    f = compiled(answer)
    (x_var,) = explicit_inputs(f, ("x",))
    if x_var.type.ndim != 2:
        raise Hint(f"your input is declared as {x_var.type}; the exercise applies the logistic to every "
                   "element of a matrix, so declare it with T.dmatrix('x')")
    x = np.array([[0.0, 1.0], [-1.0, -2.0]])
    expect_close(call(f, x), 1 / (1 + np.exp(-x)), inputs=(x,),
                 mistakes=[(formula(x), hint) for formula, hint in _LOGISTIC_SLIPS])


# 2.2 -------------------------------------------------------------------------------------------

def _line_with_defaults():
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab import In
    x, a, b = T.dscalars('x', 'a', 'b')
    # value= gives the default; name= is the keyword callers use (without it,
    # the keyword would be the variable's own name, 'a' or 'b').
    return theano.function([x, In(a, value=1, name='slope'), In(b, value=0, name='offset')], a * x + b)


def _line_without_defaults():
    import theanolab as theano
    import theanolab.tensor as T
    x, slope, offset = T.dscalars('x', 'slope', 'offset')
    return theano.function([x, slope, offset], slope * x + offset)


def _line_without_names():
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab import In
    x, a, b = T.dscalars('x', 'a', 'b')
    return theano.function([x, In(a, value=1), In(b, value=0)], a * x + b)


def _line_with_swapped_defaults():
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab import In
    x, slope, offset = T.dscalars('x', 'slope', 'offset')
    return theano.function([x, In(slope, value=0), In(offset, value=1)], slope * x + offset)


# (positional arguments, keyword arguments): slope * x + offset with slope=1, offset=0 by default
_LINE_CALLS = (
    ((3.0,), {}),
    ((3.0, 2.0), {}),
    ((3.0, 2.0, 1.0), {}),
    ((3.0,), {"offset": 5.0}),
    ((3.0,), {"slope": 0.5, "offset": 1.0}),
)


def _call_text(args, kwargs):
    return "f(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"


@exercise("2.2", "Default and named arguments", reference=_line_with_defaults,
          wrong_answers=(_line_without_defaults, _line_without_names, _line_with_swapped_defaults))
def _check_line(answer):
    f = compiled(answer)
    for args, kwargs in _LINE_CALLS:
        full = dict(zip(("x", "slope", "offset"), args), **kwargs)
        expected = full.get("slope", 1.0) * full["x"] + full.get("offset", 0.0)
        try:
            got = f(*args, **kwargs)
        except TypeError as error:
            if kwargs:
                reason = ("the keyword of an input is its variable's name, or the name= you give In: "
                          "In(b, value=0, name='offset')")
            else:
                reason = "give the inputs after x default values: In(a, value=1), In(b, value=0)"
            raise Hint(f"{_call_text(args, kwargs)} failed ({str(error).splitlines()[0]}); {reason}") from None
        if not np.allclose(got, expected):
            raise Hint(f"{_call_text(args, kwargs)} returned {describe(got)}; expected {expected!r} "
                       "(slope * x + offset, where slope defaults to 1 and offset to 0)")


# 2.3 -------------------------------------------------------------------------------------------

def _counter():
    import theanolab as theano
    import theanolab.tensor as T
    count = theano.shared(0)
    inc = T.iscalar('inc')
    # The output is computed from the count as it was when the call began;
    # returning count + inc (the same expression as the update) gives the new value.
    return theano.function([inc], count + inc, updates=[(count, count + inc)])


def _accumulator():
    import theanolab as theano
    import theanolab.tensor as T
    count = theano.shared(0)
    inc = T.iscalar('inc')
    return theano.function([inc], count, updates=[(count, count + inc)])


def _counter_without_updates():
    import theanolab as theano
    import theanolab.tensor as T
    count = theano.shared(0)
    inc = T.iscalar('inc')
    return theano.function([inc], count + inc)


@exercise("2.3", "A counter that returns its new value", reference=_counter,
          wrong_answers=(_accumulator, _counter_without_updates))
def _check_counter(answer):
    f = compiled(answer)
    explicit_inputs(f, ("inc",))
    shared = f.maker.shared_inputs
    if len(shared) != 1:
        raise Hint(f"your function uses {len(shared)} shared variables; the counter keeps its count in one: "
                   "count = theano.shared(0)")
    (count,) = shared
    saved = count.get_value()
    try:  # run from 0, then give the student's count back its value
        count.set_value(np.zeros_like(saved))
        first, second = call(f, 2), call(f, 3)
        after = count.get_value()
    finally:
        count.set_value(saved)
    if np.allclose(after, 0):
        raise Hint("after step(2) and step(3) the shared count is still 0: nothing stores the new value. "
                   "Pass updates=[(count, count + inc)] to theano.function")
    returned_old_count = ([0, 2], "starting from 0, step(2) returned 0 and step(3) returned 2: the count from "
                                  "before each call. Outputs are computed before the updates are stored, so "
                                  "return count + inc")
    expect_close([first, second], [2, 5], what="step(2), then step(3),", mistakes=[returned_old_count])
    if not np.allclose(after, 5):
        raise Hint(f"starting from 0, after step(2) and step(3) the shared count is {describe(after)}; "
                   "expected 5 (each call adds inc)")


# 2.4 -------------------------------------------------------------------------------------------

def _skip_shared():
    import theanolab as theano
    import theanolab.tensor as T
    state = theano.shared(10)
    inc = T.iscalar('inc')
    fn_of_state = state * 2 + inc
    # foo must have state's type (int64 scalar) to stand in for it.
    foo = T.scalar(dtype=state.dtype)
    return theano.function([inc, foo], fn_of_state, givens=[(state, foo)])


def _reads_state_anyway():
    import theanolab as theano
    import theanolab.tensor as T
    state = theano.shared(10)
    inc = T.iscalar('inc')
    foo = T.scalar(dtype=state.dtype)
    return theano.function([inc, foo], state * 2 + inc, on_unused_input='ignore')


def _skip_shared_swapped():
    import theanolab as theano
    import theanolab.tensor as T
    state = theano.shared(10)
    inc = T.iscalar('inc')
    foo = T.scalar(dtype=state.dtype)
    return theano.function([foo, inc], state * 2 + inc, givens=[(state, foo)])


@exercise("2.4", "Replace a shared variable with givens", reference=_skip_shared,
          wrong_answers=(_reads_state_anyway, _skip_shared_swapped))
def _check_skip_shared(answer):
    f = compiled(answer)
    explicit_inputs(f, ("inc", "foo"))
    if f.maker.shared_inputs:
        var = f.maker.shared_inputs[0]
        which = f"the shared variable {var.name}" if var.name else "a shared variable"
        raise Hint(f"your function still reads {which} (its value is {describe(var.get_value())}) and "
                   "ignores foo; givens=[(state, foo)] puts foo in the place of state")
    for inc, foo in [(1, 3), (2, 10)]:
        swapped = (2 * inc + foo, f"f({inc}, {foo}) returned 2 * {inc} + {foo} = {2 * inc + foo}: your inputs are "
                                  "in the order (foo, inc); the exercise calls f(inc, foo)")
        expect_close(call(f, inc, foo), 2 * foo + inc, inputs=(inc, foo), mistakes=[swapped])
