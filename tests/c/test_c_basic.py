"""The Alloc C kernel (backends/c/kernels/basic.py) against the reference backend.

Values of every rank up to the output's, broadcast along any mix of
dimensions, in every layout (contiguous, transposed, steps, negative
strides, broadcast stride 0), into outputs with and without empty
dimensions; a value that does not broadcast is ``perform``'s ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_array, results_or_same_error

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.build import compiler_available
from theanolab.backends.c.kernels.basic import alloc_kernel, c_format
from theanolab.backends.c.thunk import CThunk
from theanolab.tensor.basic import Alloc

pytestmark = pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")

C_MODE = theanolab.Mode(linker="cvm", optimizer="None")
PY_MODE = theanolab.Mode(linker="py", optimizer="None")
DTYPES = ["bool", "int8", "int32", "uint8", "float32", "float64"]

def _every(step, v):
    return (slice(None, None, step),) * v.ndim


def _steps(v):
    """``v`` as every other element of a larger array (padding 0, a value alloc never gives here)."""
    big = np.zeros(tuple(2 * n for n in v.shape), v.dtype)
    big[_every(2, v)] = v
    return big[_every(2, v)]


VALUE_LAYOUTS = {
    "contiguous": lambda v: v.copy(),
    "transposed": lambda v: v.T.copy().T,
    "steps": _steps,
    "negative": lambda v: np.asarray(v[_every(-1, v)].copy()[_every(-1, v)]),
    "broadcast": lambda v: np.broadcast_to(v[:1], v.shape) if v.ndim and len(v) else v,
}


def compile_both(value_pattern, dtype, out_ndim):
    """``alloc(value, *shape)`` for a value of broadcastable ``value_pattern``, in both backends."""
    value = T.TensorType(dtype, value_pattern)("value")
    shape = [T.lscalar(f"s{d}") for d in range(out_ndim)]
    out = T.alloc(value, *shape)
    assert isinstance(out.owner.op, Alloc)
    f_c = theanolab.function([value, *shape], out, mode=C_MODE)
    f_py = theanolab.function([value, *shape], out, mode=PY_MODE)
    nodes = [node for node in f_c._vm.nodes if isinstance(node.op, Alloc)]
    assert nodes and all(isinstance(f_c._vm.thunks.get(node), CThunk) for node in nodes)
    return f_c, f_py


def assert_same_run(f_c, f_py, args, where):
    results = results_or_same_error(f_c, f_py, args, where)
    if results is None:
        return
    got, want = results
    assert got.dtype == want.dtype and got.shape == want.shape, where
    assert got.flags.c_contiguous, where
    np.testing.assert_array_equal(got, want, err_msg=where)


# value shapes for a (3, 4) output: a scalar, a row (1-d and 2-d), a column, the full shape, and ones
# that do not broadcast
VALUE_SHAPES = [(), (4,), (1, 4), (3, 1), (3, 4), (1, 1), (2, 4), (5,)]
OUT_SHAPES = [(3, 4), (0, 4), (3, 0), (1, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_alloc_matches_reference(dtype):
    for value_shape in VALUE_SHAPES:
        f_c, f_py = compile_both(tuple(n == 1 for n in value_shape), dtype, 2)
        for layout, make in VALUE_LAYOUTS.items():
            value = make(random_array(value_shape, dtype))
            for out_shape in OUT_SHAPES:
                assert_same_run(f_c, f_py, [value, *out_shape], f"{dtype} {value_shape} {layout} into {out_shape}")


@pytest.mark.parametrize("out_shape, value_shape", [((), ()), ((7,), ()), ((7,), (7,)), ((2, 3, 5), (3, 1)),
                                                    ((2, 3, 5), (2, 1, 5)), ((2, 0, 5), (5,))])
def test_alloc_other_ranks(out_shape, value_shape):
    f_c, f_py = compile_both(tuple(n == 1 for n in value_shape), "float64", len(out_shape))
    value = random_array(value_shape, "float64")
    for layout, make in VALUE_LAYOUTS.items():
        assert_same_run(f_c, f_py, [make(value), *out_shape], f"{value_shape} {layout} into {out_shape}")


def test_negative_shape_is_performs_error():
    f_c, f_py = compile_both((), "float64", 2)
    assert_same_run(f_c, f_py, [np.float64(1.0), 3, -1], "negative")


@pytest.mark.parametrize("dtype", ["float16", "complex128"])
def test_dtypes_without_c_run_perform(dtype):
    assert alloc_kernel(dtype, 2) is None
    value = T.TensorType(dtype, ())("value")
    n = T.lscalar("n")
    f_c = theanolab.function([value, n], T.alloc(value, n, 2), mode=C_MODE)
    assert f_c._vm.thunks == {}
    np.testing.assert_array_equal(f_c(np.asarray(1.5, dtype), 3), np.full((3, 2), 1.5, dtype))


def test_c_format_escapes_text_and_keeps_conversions():
    assert c_format('50% of "x" \\ ', "%lld", " rows\n") == '"50%% of \\"x\\" \\\\ %lld rows\\n"'
