"""What checkers ask of an answer, each failure a :class:`Hint` in a student's words.

Checkers compose these: ``f = compiled(answer)`` insists on a compiled
function, ``outputs = call(f, x, y)`` runs it and turns its errors into hints,
``expect_close(outputs, expected, ...)`` compares values and shapes.
"""

import numpy as np

from theanolab.course.checking import Hint

__all__ = ["compiled", "symbolic", "call", "expect_close", "describe", "error_text", "explicit_inputs", "same_values"]

_NDIM_NAMES = {0: "a scalar", 1: "a vector", 2: "a matrix", 3: "a 3-d tensor", 4: "a 4-d tensor"}


def describe(value):
    """A short, readable rendering of an argument or a result, for hints."""
    array = np.asarray(value)
    if array.size > 12:
        return f"an array of shape {array.shape}"
    return np.array2string(array, precision=4, separator=", ") if array.ndim else repr(array.item())


def compiled(answer, what="your answer"):
    """``answer`` as a compiled theanolab function, or a hint saying what it is instead."""
    from theanolab.compile.function import Function
    from theanolab.graph.basic import Variable
    if isinstance(answer, Function):
        return answer
    if isinstance(answer, Variable):
        raise Hint(f"{what} is a symbolic expression, not a function; compile it: "
                   "theano.function([inputs...], expression)")
    if isinstance(answer, (np.ndarray, int, float, np.generic)):
        raise Hint(f"{what} is a value ({describe(answer)}); the exercise asks for the compiled function "
                   "that computes it")
    if callable(answer):
        raise Hint(f"{what} is a Python function; the exercise asks for one compiled by theano.function")
    raise Hint(f"{what} is a {type(answer).__name__}; the exercise asks for a function made by theano.function")


def symbolic(answer, ndim=None, dtype=None, what="your answer"):
    """``answer`` as a symbolic variable of the given ndim and dtype, or a hint."""
    from theanolab.compile.function import Function
    from theanolab.graph.basic import Variable
    if isinstance(answer, Function):
        raise Hint(f"{what} is a compiled function; the exercise asks for the symbolic expression "
                   "(what you passed to theano.function)")
    if not isinstance(answer, Variable):
        raise Hint(f"{what} is a {type(answer).__name__}; the exercise asks for a symbolic variable "
                   "(built from T.dscalar, T.dmatrix, ... and operations on them)")
    type_ = answer.type
    if ndim is not None and getattr(type_, "ndim", None) != ndim:
        raise Hint(f"{what} is {_NDIM_NAMES.get(type_.ndim, f'{type_.ndim}-d')} ({type_}); "
                   f"the exercise asks for {_NDIM_NAMES.get(ndim, f'a {ndim}-d tensor')}")
    if dtype is not None and getattr(type_, "dtype", None) != dtype:
        raise Hint(f"{what} has dtype {type_.dtype}; the exercise asks for {dtype} "
                   "(T.d... types are float64, T.f... float32, T.i... int32, T.l... int64)")
    return answer


def explicit_inputs(function, expected, what="your function"):
    """The variables a caller passes to ``function``, in order, or a hint when there are not ``len(expected)``.

    ``expected`` names the inputs the exercise passes (``("inc", "foo")``), so
    the hint can say what is missing.  Shared variables are not counted: a
    function reads them itself, nobody passes them.
    """
    variables = [spec.variable for spec in function.maker.inputs if not spec.implicit]
    if len(variables) != len(expected):
        names = ", ".join(str(var.name or var.type) for var in variables) or "none"
        passed = f"{len(expected)}: ({', '.join(expected)}), in that order" if expected else "no arguments"
        raise Hint(f"{what} takes {len(variables)} input(s) ({names}); the exercise calls it with {passed}")
    return variables


def error_text(error):
    """``TypeName: first line of the message``: how a hint quotes an error the student's code raised."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def call(function, *args, what="your function"):
    """Call ``function(*args)``; an exception becomes a hint that quotes it."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 (the student's error is the hint)
        shown = ", ".join(describe(arg) for arg in args)
        raise Hint(f"calling {what} with ({shown}) raised {error_text(error)}") from None


def same_values(got, expected, rtol=1e-5, atol=1e-8):
    """True if ``got`` and ``expected`` (values, or lists of them) have the same shapes and close values."""
    got_list = list(got) if isinstance(got, (list, tuple)) else [got]
    expected_list = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    return len(got_list) == len(expected_list) and all(
        np.shape(value) == np.shape(target) and np.allclose(value, target, rtol=rtol, atol=atol, equal_nan=True)
        for value, target in zip(got_list, expected_list))


def expect_close(got, expected, inputs=(), what="your function", rtol=1e-5, atol=1e-8, mistakes=()):
    """Values ``got`` must match ``expected`` (shape first, then values), or a hint naming the inputs.

    ``mistakes`` are ``(value, explanation)`` pairs: what a typical wrong answer
    computes on these inputs, and what to say about it.  A result equal to one
    of them gets its explanation as the hint ("you computed 1 - p: the sign
    inside exp is flipped"), which says more than the two numbers would.
    """
    if not same_values(got, expected, rtol, atol):
        for value, explanation in mistakes:
            if same_values(got, value, rtol, atol):
                raise Hint(explanation)
    where = f" for inputs ({', '.join(describe(arg) for arg in inputs)})" if inputs else ""
    got_list = got if isinstance(got, (list, tuple)) else [got]
    expected_list = expected if isinstance(expected, (list, tuple)) else [expected]
    if len(got_list) != len(expected_list):
        raise Hint(f"{what} returned {len(got_list)} output(s){where}; expected {len(expected_list)}")
    for index, (value, target) in enumerate(zip(got_list, expected_list)):
        label = f"output {index}" if len(expected_list) > 1 else "the result"
        value, target = np.asarray(value), np.asarray(target)
        if value.shape != target.shape:
            raise Hint(f"{label} of {what}{where} has shape {value.shape}; expected shape {target.shape}")
        if not np.allclose(value, target, rtol=rtol, atol=atol, equal_nan=True):
            raise Hint(f"{label} of {what}{where} is {describe(value)}; expected {describe(target)}")
