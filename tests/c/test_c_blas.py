"""The dot family's C kernels (backends/c/kernels/blas.py, kernels/c/blas.h) against the reference.

Every op and dtype runs on operands in every layout the kernels tell apart
(C and Fortran order, a leading dimension larger than needed, steps in
both dimensions, negative strides, broadcast stride 0, empty dimensions),
compared with the reference backend (``Op.perform``) and NumPy.  Padding
around strided views is NaN, so a kernel reading outside its view fails.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, random_array

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.blas_library import find_blas
from theanolab.backends.c.build import compiler_available
from theanolab.backends.c.kernels.blas import blas_kernel
from theanolab.backends.c.thunk import CThunk, kernel_module
from theanolab.tensor import blas

pytestmark = pytest.mark.skipif(not compiler_available() or find_blas() is None,
                                reason="needs a C compiler and scipy-openblas32")

C_MODE = theanolab.Mode(linker="cvm", optimizer=None)
PY_MODE = theanolab.Mode(linker="py", optimizer=None)
TOLERANCE = {"float32": {"rtol": 2e-5, "atol": 2e-5}, "float64": {"rtol": 1e-12, "atol": 1e-12}}


# --------------------------------------------------------------------------- layouts


def _embedded(values, big_shape, index, order="C"):
    """``values`` as the view ``big[index]`` of a NaN-filled array (NaN shows any read outside the view)."""
    big = np.full(big_shape, np.nan, dtype=values.dtype, order=order)
    big[index] = values
    return big[index]


def _broadcast(values):
    """The first row (element) of ``values`` repeated with stride 0 (unchanged when empty)."""
    return np.broadcast_to(values[:1], values.shape) if len(values) else values.copy()


MATRIX_LAYOUTS = {
    "C": lambda v: v.copy(),
    "F": lambda v: np.asfortranarray(v.copy()),
    "C_ld": lambda v: _embedded(v, (v.shape[0], v.shape[1] + 3), np.s_[:, :v.shape[1]]),
    "F_ld": lambda v: _embedded(v, (v.shape[0] + 3, v.shape[1]), np.s_[:v.shape[0]], order="F"),
    "steps": lambda v: _embedded(v, (2 * v.shape[0], 3 * v.shape[1]), np.s_[::2, ::3]),
    "negative": lambda v: v[::-1, ::-1].copy()[::-1, ::-1],
    "negative_rows": lambda v: v[::-1].copy()[::-1],
    "broadcast": _broadcast,
}
VECTOR_LAYOUTS = {
    "C": lambda v: v.copy(),
    "steps": lambda v: _embedded(v, (2 * len(v),), np.s_[::2]),
    "negative": lambda v: v[::-1].copy()[::-1],
    "broadcast": _broadcast,
}
LAYOUTS = {"m": MATRIX_LAYOUTS, "v": VECTOR_LAYOUTS}
#: Layouts an updated (destroyed) input can have: writable ones.
WRITABLE = {"m": [k for k in MATRIX_LAYOUTS if k != "broadcast"], "v": [k for k in VECTOR_LAYOUTS if k != "broadcast"]}


# --------------------------------------------------------------------------- the ops


@dataclass(frozen=True)
class Case:
    """An op applied to symbolic inputs of ``kinds`` (m matrix, v vector, s scalar)."""

    build: Callable
    kinds: str
    shapes: Callable  # (m, k, n) -> the shape of each array input, in order
    numpy: Callable  # the values -> the expected result
    op_class: type
    accept_inplace: bool = False


def _update(z, a, x, y, b):
    return a * np.dot(x, y) if b == 0 else b * z + a * np.dot(x, y)


def _ger(z, a, x, y):
    return z + a * np.outer(x, y)


def gemm_shapes(m, k, n):
    return [(m, n), (m, k), (k, n)]


def gemv_shapes(m, k, n):
    return [(m,), (m, k), (k,)]


def ger_shapes(m, k, n):
    return [(m, n), (m,), (n,)]


def mm_shapes(m, k, n):
    return [(m, k), (k, n)]


CASES = {
    "Gemm": Case(blas.gemm_no_inplace, "msmms", gemm_shapes, _update, blas.Gemm),
    "Gemm_inplace": Case(blas.gemm_inplace, "msmms", gemm_shapes, _update, blas.Gemm, True),
    "Gemv": Case(blas.gemv_no_inplace, "vsmvs", gemv_shapes, _update, blas.Gemv),
    "Gemv_inplace": Case(blas.gemv_inplace, "vsmvs", gemv_shapes, _update, blas.Gemv, True),
    "Ger": Case(blas.ger, "msvv", ger_shapes, _ger, blas.Ger),
    "Ger_destructive": Case(blas.ger_destructive, "msvv", ger_shapes, _ger, blas.Ger, True),
    "Dot22": Case(blas.dot22, "mm", mm_shapes, np.dot, blas.Dot22),
    "Dot22Scalar": Case(blas.dot22scalar, "mms", mm_shapes, lambda x, y, a: a * np.dot(x, y), blas.Dot22Scalar),
    "dot_matrix_matrix": Case(T.dot, "mm", mm_shapes, np.dot, blas.Dot),
    "dot_matrix_vector": Case(T.dot, "mv", lambda m, k, n: [(m, k), (k,)], np.dot, blas.Dot),
    "dot_vector_matrix": Case(T.dot, "vm", lambda m, k, n: [(k,), (k, n)], np.dot, blas.Dot),
    "dot_vector_vector": Case(T.dot, "vv", lambda m, k, n: [(k,), (k,)], np.dot, blas.Dot),
}

#: (m, k, n): the product of an (m, k) and a (k, n) matrix; rows and columns of one, and empties.
MAIN_SHAPE = (3, 5, 4)
EDGE_SHAPES = [(1, 5, 4), (3, 1, 4), (3, 5, 1), (1, 1, 1), (0, 5, 4), (3, 0, 4), (3, 5, 0), (0, 0, 0)]
#: (alpha, beta): beta 0 (z not read), 1 (plain update) and a general pair.
SCALARS = [(1.5, 0.5), (-2.0, 0.0), (1.0, 1.0)]


def _compile(case, dtype, mode):
    variables = [{"m": T.matrix, "v": T.vector, "s": T.scalar}[kind](dtype=dtype) for kind in case.kinds]
    return theanolab.function(variables, case.build(*variables), mode=mode, accept_inplace=case.accept_inplace)


def _c_thunk_ops(f):
    """The ops of ``f``'s nodes that run a C kernel."""
    return [node.op for node, thunk in f._vm.thunks.items() if isinstance(thunk, CThunk)]


def _arguments(case, dtype, shape, layouts, scalars):
    """Fresh call arguments (in-place ops overwrite theirs): arrays in ``layouts``, then scalars."""
    shapes = iter(case.shapes(*shape))
    layouts, scalars = iter(layouts), iter(scalars)
    args = []
    for position, kind in enumerate(case.kinds):
        if kind == "s":
            args.append(np.asarray(next(scalars), dtype=dtype))
        else:
            values = random_array(next(shapes), dtype, np.random.default_rng(position))
            args.append(LAYOUTS[kind][next(layouts)](values))
    return args


def _layout_choices(case):
    """Per array input, the layouts it is tried in (an updated input of an in-place op: writable ones)."""
    choices = []
    for position, kind in enumerate(k for k in case.kinds if k != "s"):
        in_place_z = case.accept_inplace and position == 0
        choices.append(WRITABLE[kind] if in_place_z else list(LAYOUTS[kind]))
    return choices


def _runs(case):
    """(shape, layouts, scalars): every layout combination on the main shape, each layout on the edges."""
    choices = _layout_choices(case)
    n_scalars = case.kinds.count("s")
    pairs = [pair[:n_scalars] for pair in SCALARS] if n_scalars else [()]
    pairs = list(dict.fromkeys(pairs))
    for layouts in itertools.product(*choices):
        for scalars in pairs:
            yield MAIN_SHAPE, layouts, scalars
    for shape in EDGE_SHAPES:
        for name in dict.fromkeys(itertools.chain(*choices)):
            layouts = [name if name in c else "C" for c in choices]
            for scalars in pairs[:2]:
                yield shape, layouts, scalars


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_reference_and_numpy(name, dtype):
    case = CASES[name]
    f_c, f_py = _compile(case, dtype, C_MODE), _compile(case, dtype, PY_MODE)
    assert [type(op) for op in _c_thunk_ops(f_c)] == [case.op_class]
    for shape, layouts, scalars in _runs(case):
        where = f"{name} {dtype} shape={shape} layouts={layouts} scalars={scalars}"
        out_c = f_c(*_arguments(case, dtype, shape, layouts, scalars))
        out_py = f_py(*_arguments(case, dtype, shape, layouts, scalars))
        args = _arguments(case, dtype, shape, layouts, scalars)
        expected = case.numpy(*(a.astype("float64") for a in args))
        assert out_c.dtype == out_py.dtype == dtype and out_c.shape == out_py.shape, where
        np.testing.assert_allclose(out_c, out_py, err_msg=where, **TOLERANCE[dtype])
        np.testing.assert_allclose(out_c, expected, err_msg=where, **TOLERANCE[dtype])


# --------------------------------------------------------------------------- the output


def _run_kernel(node, inputs, outputs):
    """Run ``node``'s kernel on ``inputs`` writing into the given ``outputs`` (views allowed)."""
    kernel = blas_kernel(node.op, node)
    module = kernel_module(kernel)
    ffi = module.ffi
    keep = []

    def structs(arrays):
        table = ffi.new("tl_array[]", len(arrays))
        for struct, array in zip(table, arrays):
            meta = ffi.new("int64_t[]", list(array.shape) + list(array.strides) or [0])
            keep.append(meta)
            struct.data = ffi.cast("char *", array.__array_interface__["data"][0])
            struct.ndim, struct.shape, struct.strides = array.ndim, meta, meta + array.ndim
        return table

    error = ffi.new("char[]", 512)
    status = getattr(module.lib, kernel.name)(structs(inputs), structs(outputs), error)
    assert status == 0, ffi.string(error).decode()


def _node(op, kinds, dtype):
    variables = [{"m": T.matrix, "v": T.vector, "s": T.scalar}[kind](dtype=dtype) for kind in kinds]
    return op(*variables).owner


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name, scalars", [("Gemm_inplace", (1.5, 0.5)), ("Gemm_inplace", (1.5, 0.0)),
                                           ("Gemv_inplace", (1.5, 0.5)), ("Gemv_inplace", (1.5, 0.0)),
                                           ("Ger_destructive", (1.5,))])
def test_update_written_into_z_itself(name, scalars, dtype):
    # With the destroyed z passed as the output (what an in-place thunk does), z is updated where it
    # lies, in any writable layout; with beta == 0 its NaNs are never read, by us or by BLAS.
    case = CASES[name]
    node = _node(case.build, case.kinds, dtype)
    for layout in WRITABLE[case.kinds[0]]:
        z, *rest = _arguments(case, dtype, MAIN_SHAPE, [layout, "C", "C"], scalars)
        if scalars[1:] == (0.0,):
            z[...] = np.nan
        expected = case.numpy(*(a.astype("float64") for a in [z, *rest]))
        _run_kernel(node, [z, *rest], [z])
        assert np.isfinite(z).all(), f"{name} z in layout {layout}"
        np.testing.assert_allclose(z, expected, err_msg=f"{name} z in layout {layout}", **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_output_overlapping_an_operand_is_computed_in_scratch(dtype):
    # Gemm{inplace}(z, a, z, z, b) with z the output: BLAS must not read what it is writing.
    node = _node(blas.gemm_inplace, "msmms", dtype)
    for layout in WRITABLE["m"]:
        z = MATRIX_LAYOUTS[layout](random_array((4, 4), dtype))
        alpha, beta = np.asarray(1.5, dtype), np.asarray(0.5, dtype)
        expected = 0.5 * z.astype("float64") + 1.5 * z.astype("float64") @ z.astype("float64")
        _run_kernel(node, [z, alpha, z, z, beta], [z])
        np.testing.assert_allclose(z, expected, err_msg=layout, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_output_in_any_layout(dtype):
    # The caller may hand an output view BLAS cannot write (steps, negative strides): the kernel
    # computes into scratch and copies back, leaving the padding around the view untouched.
    node = _node(blas.dot22, "mm", dtype)
    x, y = random_array((3, 5), dtype), random_array((5, 4), dtype)
    for layout in WRITABLE["m"]:
        out = MATRIX_LAYOUTS[layout](np.zeros((3, 4), dtype))
        _run_kernel(node, [x, y], [out])
        np.testing.assert_allclose(out, x.astype("float64") @ y, err_msg=layout, **TOLERANCE[dtype])
        if layout in ("C_ld", "F_ld", "steps"):  # NaN padding around the view stays NaN
            assert np.isnan(out.base).sum() == out.base.size - out.size, layout


# --------------------------------------------------------------------------- beta == 0, scalars, dtypes


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", ["Gemm", "Gemv"])
def test_beta_zero_does_not_read_z(name, dtype):
    case = CASES[name]
    f_c, f_py = _compile(case, dtype, C_MODE), _compile(case, dtype, PY_MODE)
    args = _arguments(case, dtype, MAIN_SHAPE, ["C", "C", "C"], (1.5, 0.0))
    args[0] = np.full_like(args[0], np.nan)
    out_c = f_c(*args)
    assert np.isfinite(out_c).all()
    np.testing.assert_allclose(out_c, f_py(*args), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype, alpha_dtype, alpha_value, beta_dtype",
                         [("float64", "int8", -3, "float32"), ("float64", "uint32", 4000000000, "bool"),
                          ("float32", "int16", -300, "uint8")])
def test_scalars_of_a_narrower_dtype(dtype, alpha_dtype, alpha_value, beta_dtype):
    z, x, y = T.matrix(dtype=dtype), T.matrix(dtype=dtype), T.matrix(dtype=dtype)
    alpha, beta = T.scalar(dtype=alpha_dtype), T.scalar(dtype=beta_dtype)
    out = blas.gemm_no_inplace(z, alpha, x, y, beta)
    f_c = theanolab.function([z, alpha, x, y, beta], out, mode=C_MODE)
    f_py = theanolab.function([z, alpha, x, y, beta], out, mode=PY_MODE)
    assert len(_c_thunk_ops(f_c)) == 1
    values = [random_array(s, dtype, np.random.default_rng(i)) for i, s in enumerate(gemm_shapes(*MAIN_SHAPE))]
    args = [values[0], np.asarray(alpha_value, alpha_dtype), values[1], values[2], np.asarray(1, beta_dtype)]
    np.testing.assert_allclose(f_c(*args), f_py(*args), **TOLERANCE[dtype])


@pytest.mark.parametrize("build, dtypes", [
    (T.dot, ("float32", "float64")),   # mixed: the output upcasts
    (T.dot, ("int32", "int32")),
    (T.dot, ("complex128", "complex128")),
    (blas.dot22, ("complex64", "complex64")),
])
def test_no_kernel_outside_float32_and_float64(build, dtypes):
    node = build(T.matrix(dtype=dtypes[0]), T.matrix(dtype=dtypes[1])).owner
    assert blas_kernel(node.op, node) is None


def test_no_kernel_for_batched_dot():
    node = T.batched_dot(T.tensor3(), T.tensor3()).owner
    assert blas_kernel(node.op, node) is None


def test_kernel_module_loads_the_blas_through_its_rpath():
    # A fresh process imports the built module with no LD_LIBRARY_PATH and without importing the
    # wheel's Python package first: the loader finds the OpenBLAS through the rpath alone.
    node = _node(blas.dot22, "mm", "float64")
    module = kernel_module(blas_kernel(node.op, node))
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location({module.__name__!r}, {module.__file__!r})\n"
              "module = importlib.util.module_from_spec(spec)\n"
              "spec.loader.exec_module(module)\n"
              "assert 'scipy_openblas32' not in sys.modules\n")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name, shapes, message", [
    ("Gemm", [(3, 4), (3, 5), (6, 4)], "not aligned"),
    ("Gemm", [(3, 3), (3, 5), (5, 4)], "updated input has shape (3, 3)"),
    ("Gemv", [(4,), (3, 5), (5,)], "has shape (3,), but the updated input has shape (4,)"),
    ("Ger", [(3, 4), (3,), (5,)], "has shape (3, 5), but the updated input has shape (3, 4)"),
    ("dot_matrix_vector", [(3, 5), (4,)], "shapes (3, 5) and (4,) are not aligned"),
    ("dot_vector_vector", [(3,), (4,)], "not aligned"),
    ("Dot22Scalar", [(3, 5), (4, 2)], "not aligned"),
])
def test_shape_errors_name_the_op_and_shapes(name, shapes, message):
    case = CASES[name]
    shapes = iter(shapes)
    args = [np.asarray(2.0) if kind == "s" else random_array(next(shapes), "float64") for kind in case.kinds]
    for mode in (C_MODE, PY_MODE):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            _compile(case, "float64", mode)(*args)


# --------------------------------------------------------------------------- the tutorial's programs


def _logistic_regression(mode, steps=3):
    """The tutorial's (001) training step, ``steps`` times: the last outputs and the weights."""
    rng = np.random.RandomState(1234)
    data = (rng.randn(400, 784), rng.randint(size=400, low=0, high=2))
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = theanolab.shared(rng.randn(784), name="w"), theanolab.shared(0., name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theanolab.function([x, y], [p_1 > 0.5, xent], updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
                               mode=mode)
    for _ in range(steps):
        outputs = train(*data)
    return train, outputs + [w.get_value(), b.get_value()]


def _mlp(mode, steps=3):
    """The slides' (004) multi-layer perceptron step (784-300-1), ``steps`` times.

    The initial weights are scaled by 1/sqrt(fan-in) so the hidden layer does not saturate and the
    gradients through Gemm and Dot22 are not all zeros.
    """
    rng = np.random.RandomState(0)
    data = (rng.randn(400, 784), rng.randint(size=400, low=0, high=2))
    x, y = T.matrix("x"), T.vector("y")
    w_1, b_1 = theanolab.shared(rng.randn(784, 300) / 28, name="w1"), theanolab.shared(np.zeros(300), name="b1")
    w_2, b_2 = theanolab.shared(rng.randn(300) / 17, name="w2"), theanolab.shared(0., name="b2")
    p_1 = T.sigmoid(T.dot(T.sigmoid(-T.dot(x, w_1) - b_1), w_2) - b_2)
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * ((w_1 ** 2).sum() + (w_2 ** 2).sum())
    params = [w_1, b_1, w_2, b_2]
    grads = T.grad(cost, params)
    train = theanolab.function([x, y], [p_1 > 0.5, xent],
                               updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)], mode=mode)
    for _ in range(steps):
        outputs = train(*data)
    return train, outputs + [p.get_value() for p in params]


@pytest.mark.parametrize("program, blas_ops", [
    (_logistic_regression, {blas.Dot, blas.Gemv}),
    (_mlp, {blas.Dot, blas.Dot22, blas.Gemm, blas.Gemv}),
])
def test_tutorial_programs_give_the_reference_values(program, blas_ops):
    train_c, values_c = program(theanolab.Mode(linker="cvm", optimizer="fast_run"))
    _, values_py = program(theanolab.Mode(linker="py", optimizer="fast_run"))
    products = {type(node.op) for node in train_c.maker.fgraph.toposort()} & {
        blas.Dot, blas.Dot22, blas.Dot22Scalar, blas.Gemm, blas.Gemv, blas.Ger}
    assert products == blas_ops
    assert blas_ops <= {type(op) for op in _c_thunk_ops(train_c)}
    for c, py in zip(values_c, values_py):
        np.testing.assert_allclose(c, py, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- dot{bottom-up}

#: Matrices past the blocking threshold (two 256 KB blocks), with a last block that is not full.
BLOCKED_SHAPES = {"float64": [(203, 701), (97, 1500)], "float32": [(301, 443), (1030, 129)]}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["C", "C_ld", "F", "steps", "negative_rows"])
@pytest.mark.parametrize("vector_layout", ["C", "steps", "negative"])
def test_bottom_up_dot_gives_the_numbers_of_one_call(dtype, layout, vector_layout):
    """Read in blocks from the last, a matrix-vector product gives the same numbers as one BLAS call."""
    a, x = T.matrix(dtype=dtype), T.vector(dtype=dtype)
    bottom_up = theanolab.function([a, x], blas.Dot(bottom_up=True)(a, x), mode=C_MODE)
    one_call = theanolab.function([a, x], blas.Dot()(a, x), mode=C_MODE)
    assert [str(op) for op in _c_thunk_ops(bottom_up)] == ["dot{bottom-up}"]
    rng = np.random.default_rng(3)
    for rows, cols in BLOCKED_SHAPES[dtype] + [(5, 7), (0, 7), (6, 0)]:
        matrix = MATRIX_LAYOUTS[layout](random_array((rows, cols), dtype, rng))
        vector = VECTOR_LAYOUTS[vector_layout](random_array((cols,), dtype, rng))
        got = bottom_up(matrix, vector)
        np.testing.assert_array_equal(got, one_call(matrix, vector))
        np.testing.assert_allclose(got, matrix.astype("float64") @ vector.astype("float64"), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype, shape", [("float64", (90, 784)), ("float32", (70, 1024))])
def test_matrix_vector_products_at_every_alignment(dtype, shape):
    """The long call reads aligned rows (leading columns peeled off): right at every start address."""
    a, x, g = T.matrix(dtype=dtype), T.vector(dtype=dtype), T.vector(dtype=dtype)
    z = T.vector(dtype=dtype)
    f = theanolab.function([a, x, g, z], [blas.Dot(bottom_up=True)(a, x), blas.Dot()(a, x), T.dot(a.T, g),
                                          T.dot(g, a), blas.gemv_no_inplace(z, 0.5, a.T, g, 2.0)], mode=C_MODE)
    rng = np.random.default_rng(5)
    rows, cols = shape
    values = random_array(shape, dtype, rng).astype("float64")
    vector, gradient, start = (random_array((n,), dtype, rng) for n in (cols, rows, cols))
    itemsize = np.dtype(dtype).itemsize
    buffer = np.full(rows * cols + 64, np.nan, dtype=dtype)
    for offset in range(0, 64 // itemsize):
        matrix = buffer[offset:offset + rows * cols].reshape(shape)
        matrix[...] = values
        bottom_up, plain, transposed, vector_matrix, update = f(matrix, vector, gradient, start)
        np.testing.assert_array_equal(bottom_up, plain)
        np.testing.assert_array_equal(transposed, vector_matrix)
        expected = values @ vector.astype("float64"), values.T @ gradient.astype("float64")
        np.testing.assert_allclose(plain, expected[0], err_msg=f"offset {offset}", **TOLERANCE[dtype])
        np.testing.assert_allclose(transposed, expected[1], err_msg=f"offset {offset}", **TOLERANCE[dtype])
        np.testing.assert_allclose(update, 2 * start + 0.5 * expected[1], err_msg=f"offset {offset}",
                                   **TOLERANCE[dtype])
