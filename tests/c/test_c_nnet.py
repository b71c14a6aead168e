"""The softmax-family and one-hot cross-entropy C kernels (backends/c/kernels/nnet.py) vs the reference.

Each op runs through the C backend and through ``Op.perform`` on matrices in
every layout (contiguous, Fortran order, steps with NaN padding, negative
strides, broadcast rows), on ordinary values, on rows at +-1000 (where an
unshifted exp overflows), on rows holding -inf, +inf or NaN, and on empty
matrices; mixed float dtypes and every kind of class-index dtype; errors
must be ``perform``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import results_or_same_error

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.build import compiler_available
from theanolab.backends.c.thunk import CThunk
from theanolab.config import change_flags
from theanolab.tensor import nnet

pytestmark = pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")

C_MODE = theanolab.Mode(linker="cvm", optimizer="None")
PY_MODE = theanolab.Mode(linker="py", optimizer="None")
TOLERANCE = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}
ROWS, COLS = 4, 37  # rows longer than a vector (8 doubles with AVX-512), not a multiple


@dataclass(frozen=True)
class Case:
    """``build`` applied to inputs of ``kinds`` (m: matrix, v: one entry per row, y: class indices)."""

    build: Callable
    kinds: str
    dtypes: tuple
    op_class: type


def _cases():
    cases = {}
    for dt in ("float32", "float64"):
        cases[f"softmax {dt}"] = Case(nnet.softmax_op, "m", (dt,), nnet.Softmax)
        cases[f"log_softmax {dt}"] = Case(nnet.log_softmax_op, "m", (dt,), nnet.LogSoftmax)
        cases[f"softmax_grad {dt}"] = Case(nnet.softmax_grad, "mm", (dt, dt), nnet.SoftmaxGrad)
        cases[f"xent {dt}"] = Case(nnet.crossentropy_categorical_1hot, "my", (dt, "int32"),
                                   nnet.CrossentropyCategorical1Hot)
        cases[f"xent_grad {dt}"] = Case(nnet.crossentropy_categorical_1hot_grad, "vmy", (dt, dt, "int32"),
                                        nnet.CrossentropyCategorical1HotGrad)
    cases["softmax_grad float32 dy, float64 sm"] = Case(nnet.softmax_grad, "mm", ("float32", "float64"),
                                                        nnet.SoftmaxGrad)
    cases["xent uint8 classes"] = Case(nnet.crossentropy_categorical_1hot, "my", ("float64", "uint8"),
                                       nnet.CrossentropyCategorical1Hot)
    cases["xent_grad float32 g, float64 coding, int64 classes"] = Case(
        nnet.crossentropy_categorical_1hot_grad, "vmy", ("float32", "float64", "int64"),
        nnet.CrossentropyCategorical1HotGrad)
    return cases


CASES = _cases()


def _embedded(values, index, big_shape):
    big = np.full(big_shape, np.nan if values.dtype.kind == "f" else 99, dtype=values.dtype)
    big[index] = values
    return big[index]


MATRIX_LAYOUTS = {
    "contiguous": lambda m: m.copy(),
    "fortran": np.asfortranarray,
    "steps": lambda m: _embedded(m, np.s_[1::2, ::3], (2 * len(m) + 1, 3 * m.shape[1])),
    "negative": lambda m: m[::-1, ::-1].copy()[::-1, ::-1],
    "broadcast": lambda m: np.broadcast_to(m[:1], m.shape) if len(m) else m,
}
#: the layout of the per-row inputs when the matrices have each layout (a stride-0 class vector
#: would make every row alike, so "broadcast" keeps them plain).
VECTOR_LAYOUTS = {
    "contiguous": lambda v: v.copy(),
    "fortran": lambda v: v.copy(),
    "steps": lambda v: _embedded(v, np.s_[::2], (2 * len(v),)),
    "negative": lambda v: v[::-1].copy()[::-1],
    "broadcast": lambda v: v.copy(),
}


def _matrices(rng):
    """``{name: matrix}``: the value sets every case runs on."""
    ordinary = rng.uniform(-3, 3, size=(ROWS, COLS))
    extreme = ordinary * 400
    extreme[0, :3] = [1000, -1000, 999.5]
    extreme[1] = -1000
    special = ordinary.copy()
    special[0] = -np.inf
    special[1, 2] = np.inf
    special[2, 5] = np.nan
    return {"ordinary": ordinary, "extreme": extreme, "special": special,
            "empty rows": np.zeros((ROWS, 0)), "no rows": np.zeros((0, COLS))}


def _arguments(case, matrix, layout, rng):
    """Call arguments for ``case``: ``matrix`` (or a like-shaped random one), per-row values, classes."""
    rows, cols = matrix.shape
    args = []
    for kind, dtype in zip(case.kinds, case.dtypes):
        if kind == "m":
            # softmax_grad's sm and the gradient's coding_dist are probabilities (one of them 0)
            value = rng.uniform(0.01, 1, size=matrix.shape) if args else matrix
            if case.kinds == "vmy" and value.size:
                value[0, 0] = 0
            args.append(MATRIX_LAYOUTS[layout](value.astype(dtype)))
        elif kind == "v":
            args.append(VECTOR_LAYOUTS[layout](rng.uniform(-2, 2, size=rows).astype(dtype)))
        else:
            classes = rng.integers(0, max(cols, 1), size=rows)
            if rows:
                classes[0] = 0
            args.append(VECTOR_LAYOUTS[layout](classes.astype(dtype)))
    return args


def _variables(case):
    kinds = {"m": T.matrix, "v": T.vector, "y": T.vector}
    return [kinds[kind](dtype=dtype) for kind, dtype in zip(case.kinds, case.dtypes)]


def _compile(case, mode):
    variables = _variables(case)
    return theanolab.function(variables, case.build(*variables), mode=mode)


def assert_runs_c(f, op_class):
    nodes = [node for node in f._vm.nodes if isinstance(node.op, op_class)]
    assert nodes and all(isinstance(f._vm.thunks.get(node), CThunk) for node in nodes)


def assert_same_run(f_c, f_py, args, where):
    """Same dtype, shape and values (NaN where NaN), or the same error."""
    results = results_or_same_error(f_c, f_py, args, where)
    if results is None:
        return
    got, want = results
    assert got.dtype == want.dtype and got.shape == want.shape, where
    np.testing.assert_allclose(got, want, err_msg=where, **TOLERANCE[str(want.dtype)])


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_reference(name):
    case = CASES[name]
    f_c, f_py = _compile(case, C_MODE), _compile(case, PY_MODE)
    assert_runs_c(f_c, case.op_class)
    for values, matrix in _matrices(np.random.default_rng(0)).items():
        for layout in MATRIX_LAYOUTS:
            args = _arguments(case, matrix, layout, np.random.default_rng(1))
            with np.errstate(all="ignore"):
                assert_same_run(f_c, f_py, args, f"{name} on {values} values, {layout}")


def test_softmax_is_stable_at_the_extremes():
    x = T.dmatrix("x")
    f = theanolab.function([x], [nnet.softmax_op(x), nnet.log_softmax_op(x)], mode=C_MODE)
    soft, log_soft = f(np.array([[1000.0, -1000.0, 0.0]]))
    np.testing.assert_array_equal(soft, [[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(log_soft, [[0.0, -2000.0, -1000.0]])


# name: (case, argument changes that make perform raise)
ERRORS = {
    "softmax_grad shapes": ("softmax_grad float64", lambda args: [args[0][:, :-1], args[1]]),
    "xent too few classes": ("xent float64", lambda args: [args[0], args[1][:-1]]),
    "xent negative class": ("xent float64", lambda args: [args[0], np.array([0, -1, 2, 1], "int32")]),
    "xent class too large": ("xent uint8 classes", lambda args: [args[0], np.array([0, 250, 2, 1], "uint8")]),
    "xent_grad short g": ("xent_grad float64", lambda args: [args[0][:-1], args[1], args[2]]),
    "xent_grad class too large": ("xent_grad float32", lambda args: [args[0], args[1], args[2] + COLS]),
}


@pytest.mark.parametrize("error", list(ERRORS))
def test_errors_are_performs(error):
    name, change = ERRORS[error]
    case = CASES[name]
    f_c, f_py = _compile(case, C_MODE), _compile(case, PY_MODE)
    args = change(_arguments(case, _matrices(np.random.default_rng(0))["ordinary"], "contiguous",
                             np.random.default_rng(1)))
    with pytest.raises(ValueError) as want:
        f_py(*args)
    with pytest.raises(ValueError) as got:
        f_c(*args)
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]


def test_openmp_rows_give_the_same_results():
    with change_flags(openmp=True, openmp_elemwise_minsize=1):
        f_c = theanolab.function(*_graph(), mode=C_MODE)
    f_py = theanolab.function(*_graph(), mode=PY_MODE)
    matrix = np.random.default_rng(2).normal(size=(301, 17))
    for got, want in zip(f_c(matrix, matrix * 0.5), f_py(matrix, matrix * 0.5)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _graph():
    x, dy = T.dmatrix("x"), T.dmatrix("dy")
    return [x, dy], [nnet.softmax_op(x), nnet.log_softmax_op(x), nnet.softmax_grad(dy, nnet.softmax_op(x))]


def test_float16_runs_perform():
    x = T.matrix("x", dtype="float16")
    f_c = theanolab.function([x], nnet.softmax_op(x), mode=C_MODE)
    assert not any(isinstance(thunk, CThunk) for thunk in f_c._vm.thunks.values())
    value = np.random.default_rng(0).uniform(-3, 3, size=(3, 4)).astype("float16")
    np.testing.assert_array_equal(f_c(value), theanolab.function([x], nnet.softmax_op(x), mode=PY_MODE)(value))
