"""The reduction C kernels (backends/c/kernels/reduce.py, kernels/c/reduce.h) against the reference.

Each op runs through the C backend and through ``Op.perform`` on the same
inputs in every layout the loop plan tells apart (contiguous, Fortran order,
steps, negative strides, broadcast stride 0, empty, 0-d); padding around a
strided view is a value that would change a result (NaN, the dtype's max),
so a kernel reading outside its view fails.  Integers, bools, max/min and
argmax must match exactly (wrap-around and first-occurrence ties included),
float sums and products to summation-order rounding.  Errors must match too.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_array, results_or_same_error

import theanolab
import theanolab.tensor as T
from theanolab import scalar as ts
from theanolab.backends.c.build import compiler_available
from theanolab.backends.c.kernels.reduce import careduce_kernel
from theanolab.backends.c.thunk import CThunk
from theanolab.config import change_flags
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax, Prod, Sum

pytestmark = pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")

C_MODE = theanolab.Mode(linker="cvm", optimizer="None")
PY_MODE = theanolab.Mode(linker="py", optimizer="None")
SHAPE = (3, 5, 70)  # inner rows longer than the kernels' vector lanes (32 float64), not a multiple of them
AXES = [None, 0, -1, (0, 2), ()]
DTYPES = ["bool", "int8", "int32", "uint8", "float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}


def _raw(scalar_op):
    """A CAReduce of ``scalar_op`` as the rewrites build it (``max`` without argmax becomes one)."""
    return lambda x, axis, keepdims: [CAReduce(scalar_op, None if axis is None else np.atleast_1d(axis))(x)]


# name: (outputs from x, axis and keepdims; the op class whose nodes must run C; exact for floats too)
OPS = {
    "sum": (lambda x, axis, keepdims: [T.sum(x, axis=axis, keepdims=keepdims)], Sum, False),
    "prod": (lambda x, axis, keepdims: [T.prod(x, axis=axis, keepdims=keepdims)], Prod, False),
    "max_and_argmax": (lambda x, axis, keepdims: T.max_and_argmax(x, axis, keepdims), MaxAndArgmax, True),
    "maximum": (_raw(ts.maximum), CAReduce, True),
    "minimum": (_raw(ts.minimum), CAReduce, True),
    "any": (lambda x, axis, keepdims: [T.any(x, axis=axis, keepdims=keepdims)], CAReduce, True),
    "all": (lambda x, axis, keepdims: [T.all(x, axis=axis, keepdims=keepdims)], CAReduce, True),
}

# Each combination is a kernel to build (~0.3 s): every axis for sum and max/argmax on a signed integer
# and a float; every dtype on the axes (0, 2) (a kept axis between two reduced ones); the other folds
# on an unsigned and a float dtype; any/all on bools (other dtypes are compared with 0 first).
CASES = sorted({(op, dtype, axis) for op in ("sum", "max_and_argmax") for dtype in ("int8", "float64")
                for axis in AXES}
               | {(op, dtype, (0, 2)) for op in ("sum", "max_and_argmax") for dtype in DTYPES}
               | {(op, dtype, axis) for op in ("prod", "maximum", "minimum") for dtype in ("uint8", "float32")
                  for axis in (None, (0, 2))}
               | {(op, "bool", axis) for op in ("any", "all") for axis in (None, 0, (0, 2))}, key=str)


def _padding(dtype):
    """A value that changes any reduction it leaks into."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.nan
    return True if dtype.kind == "b" else np.iinfo(dtype).max


def _embedded(values, index, big_shape):
    big = np.full(big_shape, _padding(values.dtype), dtype=values.dtype)
    big[index] = values
    return big[index]


def layouts(values):
    """``{name: the same values as a view of that layout}``."""
    s = values.shape
    return {
        "contiguous": values.copy(),
        "fortran": np.asfortranarray(values),
        "transposed": values.transpose(2, 0, 1).copy().transpose(1, 2, 0),
        "steps": _embedded(values, np.s_[::2, 1:, ::3], (2 * s[0], s[1] + 1, 3 * s[2])),
        "negative": values[::-1, :, ::-1].copy()[::-1, :, ::-1],
        "broadcast": np.broadcast_to(values[:, :1], s),
    }


def _with_specials(values):
    """Float values with NaNs (first occurrences that differ per layout), -inf rows and ties."""
    values = values.copy()
    values[0, 1, 3] = values[0, 1, 7] = values[2, 4, 0] = np.nan
    values[1, 2, :] = -np.inf
    values[1, 3, :4] = values[1, 3, 6]
    return values


def inputs(dtype, shape=SHAPE):
    """The values each case runs on: every layout, specials for floats, and empties."""
    values = random_array(shape, dtype)
    runs = layouts(values)
    if np.dtype(dtype).kind == "f":
        runs.update({f"{k} specials": v for k, v in layouts(_with_specials(values)).items()})
    runs.update({"empty kept": np.zeros((3, 0, 11), dtype), "empty first": np.zeros((0, 5, 11), dtype),
                 "empty last": np.zeros((3, 5, 0), dtype)})
    return runs


def c_thunk_ops(f):
    """The ops of ``f``'s nodes that run a C kernel."""
    return [node.op for node, thunk in f._vm.thunks.items() if isinstance(thunk, CThunk)]


def assert_runs_c(f, op_class, where):
    """Every ``op_class`` node of ``f`` (there is one at least) runs its C kernel."""
    nodes = [node for node in f._vm.nodes if isinstance(node.op, op_class)]
    assert nodes and all(isinstance(f._vm.thunks.get(node), CThunk) for node in nodes), f"{where}: no C kernel"


def compile_both(build, variables):
    outputs = build(*variables)
    return (theanolab.function(variables, outputs, mode=C_MODE),
            theanolab.function(variables, outputs, mode=PY_MODE))


def assert_same_run(f_c, f_py, args, exact, where):
    """``f_c(*args)`` gives ``f_py(*args)`` (dtypes, shapes, values), or the same error."""
    results = results_or_same_error(f_c, f_py, args, where)
    if results is None:
        return
    for got, want in zip(*results):
        assert got.dtype == want.dtype and got.shape == want.shape, f"{where}: {got.dtype}{got.shape}"
        if exact or want.dtype.kind != "f":
            np.testing.assert_array_equal(got, want, err_msg=where)
        else:
            np.testing.assert_allclose(got, want, rtol=RTOL[str(want.dtype)], atol=0, err_msg=where)


@pytest.mark.parametrize("op, dtype, axis", CASES)
def test_reduction_matches_reference(op, dtype, axis):
    build, op_class, exact = OPS[op]
    for keepdims in (False, True):
        x = T.tensor3("x", dtype=dtype)
        f_c, f_py = compile_both(lambda x, keepdims=keepdims: build(x, axis, keepdims), [x])
        assert_runs_c(f_c, op_class, op)
        for layout, value in inputs(dtype).items():
            assert_same_run(f_c, f_py, [value], exact, f"{op} {dtype} axis={axis} keepdims={keepdims} {layout}")


# (name, the outputs from x, input dtype): accumulator and output dtypes other than the defaults.
DTYPE_CASES = [
    ("float32 sum in float64", lambda x: T.sum(x, axis=(0, 2)), "float32"),
    ("float64 sum to float32", lambda x: T.sum(x, axis=1, dtype="float32"), "float64"),
    ("int32 sum wrapping into int8", lambda x: T.sum(x * 40, axis=(0, 2), dtype="int8"), "int32"),
    ("int8 sum to bool", lambda x: T.sum(x, axis=-1, dtype="bool"), "int8"),
    ("bool sum accumulating in bool", lambda x: T.sum(x, axis=0, acc_dtype="bool"), "bool"),
    ("uint8 prod wrapping in uint64", lambda x: T.prod(T.maximum(x, np.uint8(1)), axis=None), "uint8"),
    ("int8 prod to float32", lambda x: T.prod(x, axis=(0, 2), dtype="float32"), "int8"),
    ("plain add of int8 (64-bit, wraps to int8)", lambda x: CAReduce(ts.add, (0, 2))(x * 30), "int8"),
    ("plain mul of bool", lambda x: CAReduce(ts.mul, (1,))(x), "bool"),
    ("plain add of float32", lambda x: CAReduce(ts.add, None)(x), "float32"),
    ("bitwise and of int32 (empty: -1)", lambda x: CAReduce(ts.and_, (0, 2))(x), "int32"),
    ("bitwise or of uint8", lambda x: CAReduce(ts.or_, (1,))(x), "uint8"),
    ("xor of int8 (no identity)", lambda x: CAReduce(ts.xor, (0, 2))(x), "int8"),
]


@pytest.mark.parametrize("name, build, dtype", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_accumulator_and_output_dtypes(name, build, dtype):
    x = T.tensor3("x", dtype=dtype)
    f_c, f_py = compile_both(lambda x: [build(x)], [x])
    assert_runs_c(f_c, CAReduce, name)
    for layout, value in inputs(dtype).items():
        assert_same_run(f_c, f_py, [value], False, f"{name} {layout}")


def test_zero_dimensional_input():
    x = T.dscalar("x")
    f_c, f_py = compile_both(lambda x: [T.sum(x), T.prod(x, axis=()), *T.max_and_argmax(x)], [x])
    assert len(c_thunk_ops(f_c)) == 3
    for value in (np.asarray(2.5), np.asarray(np.nan), np.asarray(-np.inf)):
        assert_same_run(f_c, f_py, [value], True, f"0-d {value}")


def test_large_inputs_match_numpy():
    """Long loops (lanes, merged dimensions) and wrap-around on a million elements."""
    x = T.matrix("x", dtype="float64")
    i = T.matrix("i", dtype="int64")
    outputs = [x.sum(), x.sum(axis=0), x.sum(axis=1), *T.max_and_argmax(x, axis=0), (i * i).prod(axis=1),
               T.argmax(x, axis=None)]
    f_c = theanolab.function([x, i], outputs, mode=C_MODE)
    rng = np.random.default_rng(3)
    xv, iv = rng.normal(size=(1000, 1000)), rng.integers(-10**6, 10**6, size=(1000, 1000))
    expected = [xv.sum(), xv.sum(axis=0), xv.sum(axis=1), xv.max(axis=0), xv.argmax(axis=0),
                np.multiply.reduce(iv * iv, axis=1), xv.argmax()]
    for got, want in zip(f_c(xv, iv), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_openmp_threads_give_the_same_results(axis):
    """Threads split the outer dimension: shared outputs (kept) or merged partials (reduced)."""
    x = T.tensor3("x", dtype="float64")
    build = lambda x: [T.sum(x, axis=axis), *T.max_and_argmax(x, axis)]  # noqa: E731
    with change_flags(openmp=True, openmp_elemwise_minsize=1):
        f_c, f_py = compile_both(build, [x])
    assert len(c_thunk_ops(f_c)) == 2
    for layout, value in inputs("float64").items():
        assert_same_run(f_c, f_py, [value], False, f"openmp axis={axis} {layout}")


def test_threading_settings_are_part_of_the_kernel():
    x = T.dmatrix("x")
    node = T.sum(x, axis=0).owner
    names = set()
    for openmp, minsize in [(False, 10), (True, 10), (True, 20)]:
        with change_flags(openmp=openmp, openmp_elemwise_minsize=minsize):
            kernel = careduce_kernel(node.op, node)
        names.add(kernel.name)
        assert ("-fopenmp" in kernel.extra_compile_args) == openmp
    assert len(names) == 3


@pytest.mark.parametrize("dtype", ["float16", "complex128"])
def test_dtypes_without_exact_c_run_perform(dtype):
    x = T.tensor3("x", dtype=dtype)
    f_c, f_py = compile_both(lambda x: [T.sum(x, axis=0), *T.max_and_argmax(x, -1)] if dtype == "float16"
                             else [T.sum(x, axis=0), T.prod(x, axis=0)], [x])
    assert c_thunk_ops(f_c) == []
    value = random_array(SHAPE, dtype)
    for got, want in zip(f_c(value), f_py(value)):
        np.testing.assert_array_equal(got, want)


def test_float_accumulator_into_integer_output_runs_perform():
    """C's float-to-integer conversion is undefined out of range, NumPy's is not: no kernel."""
    x = T.tensor3("x", dtype="int8")
    node = T.prod(x, acc_dtype="float64").owner
    assert node.outputs[0].dtype == "int64"
    assert careduce_kernel(node.op, node) is None


def test_empty_max_error_names_the_op_and_shape():
    x = T.dmatrix("x")
    f_c = theanolab.function([x], T.max(x, axis=1), mode=C_MODE)
    with pytest.raises(ValueError, match=r"MaxAndArgmax\{axis=\(1,\)\}: cannot take the maximum over an "
                                         r"empty axis of an input of shape \(2, 0\)"):
        f_c(np.zeros((2, 0)))
