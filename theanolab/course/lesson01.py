"""Lesson 1's exercises (notebooks/01_basics.ipynb): scalars, matrices, broadcasting."""

import numpy as np

from theanolab.course.checking import Hint, exercise
from theanolab.course.probes import call, compiled, describe, expect_close, explicit_inputs


def _add_scalars():
    import theanolab as theano
    import theanolab.tensor as T
    x = T.dscalar('x')
    y = T.dscalar('y')
    return theano.function([x, y], x + y)


def _multiply_scalars():
    import theanolab as theano
    import theanolab.tensor as T
    x, y = T.dscalars('x', 'y')
    return theano.function([x, y], x * y)


@exercise("1.1", "Add two scalars", reference=_add_scalars,
          wrong_answers=(_multiply_scalars, lambda: _add_scalars().maker.fgraph.outputs[0]))
def _check_add_scalars(answer):
    f = compiled(answer)
    for args in [(2.0, 3.0), (-1.5, 0.25)]:
        expect_close(call(f, *args), sum(args), inputs=args)


# 1.2 -------------------------------------------------------------------------------------------

def _square_of_sum():
    import theanolab as theano
    import theanolab.tensor as T
    # Two vectors of float64: the function will accept 1-d arrays of any length.
    a = T.dvector('a')
    b = T.dvector('b')
    # Every operation is elementwise, so out[i] = a[i]**2 + b[i]**2 + 2*a[i]*b[i].
    out = a ** 2 + b ** 2 + 2 * a * b
    return theano.function([a, b], out)


def _square_of_sum_on_matrices():
    import theanolab as theano
    import theanolab.tensor as T
    a, b = T.dmatrices('a', 'b')
    return theano.function([a, b], a ** 2 + b ** 2 + 2 * a * b)


def _square_of_sum_without_cross_term():
    import theanolab as theano
    import theanolab.tensor as T
    a, b = T.dvectors('a', 'b')
    return theano.function([a, b], a ** 2 + b ** 2)


_VECTORS = (np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0, 0.5]))


@exercise("1.2", "a**2 + b**2 + 2*a*b on vectors", reference=_square_of_sum,
          wrong_answers=(_square_of_sum_on_matrices, _square_of_sum_without_cross_term))
def _check_square_of_sum(answer):
    f = compiled(answer)
    for var in explicit_inputs(f, ("a", "b")):
        if var.type.ndim != 1:
            raise Hint(f"your input {var.name or var.type} is declared as {var.type}; the exercise passes "
                       "1-d arrays, so declare both inputs as vectors: T.dvector('a'), T.dvector('b')")
    a, b = _VECTORS
    missing_cross_term = (a ** 2 + b ** 2, f"for a={describe(a)}, b={describe(b)} you returned a**2 + b**2 = "
                                           f"{describe(a ** 2 + b ** 2)}; the cross term 2*a*b is missing")
    expect_close(call(f, a, b), (a + b) ** 2, inputs=(a, b), mistakes=[missing_cross_term])


# 1.3 -------------------------------------------------------------------------------------------

def _add_row_to_matrix():
    import theanolab as theano
    import theanolab.tensor as T
    m = T.dmatrix('m')
    # T.drow: broadcastable pattern (True, False). Axis 0 always has length 1,
    # so Theano may stretch it to match m's number of rows.
    r = T.drow('r')
    return theano.function([m, r], m + r)


def _add_matrix_to_matrix():
    import theanolab as theano
    import theanolab.tensor as T
    m, r = T.dmatrices('m', 'r')
    return theano.function([m, r], m + r)


def _add_column_to_matrix():
    import theanolab as theano
    import theanolab.tensor as T
    m = T.dmatrix('m')
    r = T.dcol('r')
    return theano.function([m, r], m + r)


_PATTERN_HINTS = {
    (False, False): "is a matrix with pattern (False, False): neither axis may be stretched, so a (1, 3) "
                    "row cannot be added to a (4, 3) matrix. Declare it with T.drow('r'), pattern (True, False)",
    (False, True): "is a column, pattern (False, True): its second axis is the one of length 1. A row has "
                   "shape (1, 3): declare it with T.drow('r'), pattern (True, False)",
    (False,): "is a vector; the exercise passes the row as a 2-d array of shape (1, 3). Declare it with "
              "T.drow('r'), pattern (True, False)",
}


@exercise("1.3", "Add a row to every row of a matrix", reference=_add_row_to_matrix,
          wrong_answers=(_add_matrix_to_matrix, _add_column_to_matrix))
def _check_add_row(answer):
    f = compiled(answer)
    _, row = explicit_inputs(f, ("m", "r"))
    pattern = tuple(row.type.broadcastable)
    if pattern != (True, False):
        hint = _PATTERN_HINTS.get(pattern, f"has pattern {pattern}; a row is 2-d with pattern (True, False): "
                                           "declare it with T.drow('r')")
        raise Hint(f"your second input ({row.type}) {hint}")
    m = np.arange(12.0).reshape(4, 3)
    r = np.array([[10.0, 20.0, 30.0]])
    expect_close(call(f, m, r), m + r, inputs=(m, r))


# 1.4 -------------------------------------------------------------------------------------------

_COLUMN = [[1.0], [2.0], [3.0]]


def _shared_column():
    import numpy as np
    import theanolab as theano
    # A (3, 1) array: one value per row of the matrix it is added to.
    value = np.array([[1.0], [2.0], [3.0]])
    # Shared variables are not broadcastable unless told: their value could be
    # replaced by one of another shape later. Declare axis 1 broadcastable.
    return theano.shared(value, broadcastable=(False, True))


def _shared_column_default_pattern():
    import numpy as np
    import theanolab as theano
    return theano.shared(np.array([[1.0], [2.0], [3.0]]))


def _shared_vector():
    import numpy as np
    import theanolab as theano
    return theano.shared(np.array([1.0, 2.0, 3.0]))


@exercise("1.4", "A shared column that broadcasts", reference=_shared_column,
          wrong_answers=(_shared_column_default_pattern, _shared_vector, lambda: np.array(_COLUMN)))
def _check_shared_column(answer):
    import theanolab as theano
    import theanolab.tensor as T
    from theanolab.compile.sharedvalue import SharedVariable
    if not isinstance(answer, SharedVariable):
        raise Hint(f"your answer is a {type(answer).__name__}; the exercise asks for a shared variable: "
                   "theano.shared(value, broadcastable=...)")
    value = answer.get_value()
    if np.shape(value) == (3,):
        raise Hint("your shared variable holds a vector of shape (3,). A vector lines up with the LAST axis "
                   "of a matrix, so it would be added along each row, not down each column; "
                   "store a (3, 1) column: np.array([[1.], [2.], [3.]])")
    if np.shape(value) != (3, 1) or not np.allclose(value, _COLUMN):
        raise Hint(f"your shared variable holds {describe(value)}; the exercise asks for the (3, 1) "
                   "column [[1.], [2.], [3.]]")
    if tuple(answer.broadcastable) == (False, False):
        raise Hint("your shared variable's pattern is (False, False), the default for shared variables "
                   "(their value may change shape later, so Theano does not guess from it); "
                   "pass broadcastable=(False, True) to theano.shared")
    m = T.dmatrix('m')
    f = theano.function([m], m + answer)
    matrix = np.zeros((3, 4))
    expect_close(call(f, matrix, what="m + your column"), matrix + np.array(_COLUMN), inputs=(matrix,),
                 what="m + your column")
