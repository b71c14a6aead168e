"""The GPU simulator itself: launch geometry, argument checks, and what it refuses to simulate."""

from __future__ import annotations

import numpy as np
import pytest

from theanolab.backends.c.build import compiler_available
from theanolab.backends.cuda import simulator
from theanolab.backends.cuda.sources import parse_params, preamble

pytestmark = pytest.mark.skipif(not compiler_available(), reason="the simulator needs a C compiler")

_INDEX = preamble() + """
TL_KERNEL void tl_test_index(int32_t *out, int64_t width)
{
    int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, y = (int64_t)blockIdx.y * blockDim.y + threadIdx.y;
    out[y * width + x] = (int32_t)(y * 1000 + x);
}
"""


def test_two_dimensional_launch_runs_every_thread_once():
    kernel = simulator.raw_kernel(_INDEX, "tl_test_index")
    out = np.full((6, 8), -1, dtype="int32")
    kernel((2, 3), (4, 2), (out, np.int64(8)))
    np.testing.assert_array_equal(out, np.arange(6)[:, None] * 1000 + np.arange(8))


@pytest.mark.parametrize("args,message", [
    ((np.zeros(4, "int64"), np.int64(8)), "needs an array of that element type"),
    ((np.zeros(48, "int32"), 8), "needs a NumPy scalar"),
    ((np.zeros(48, "int32"),), "takes 2 arguments"),
])
def test_wrong_arguments_are_refused(args, message):
    with pytest.raises(TypeError, match=message):
        simulator.raw_kernel(_INDEX, "tl_test_index")((1,), (1,), args)


def test_kernels_needing_concurrent_threads_are_refused():
    with pytest.raises(NotImplementedError, match="__syncthreads"):
        simulator.raw_kernel("TL_KERNEL void k(float *x) { __syncthreads(); }", "k")


@pytest.mark.parametrize("params", ["raw int32 s", "T x", "float32", "float32 x y", "bool b"])
def test_unsupported_parameters_are_refused(params):
    with pytest.raises(ValueError, match="unsupported elementwise kernel parameter"):
        parse_params(params)


def test_elementwise_checks_declared_dtypes():
    kernel = simulator.elementwise_kernel("float32 x0", "float32 y0", "y0 = x0 + 1;", "tl_test_inc", preamble())
    out = np.empty(3, "float32")
    np.testing.assert_array_equal(kernel(np.arange(3, dtype="float32"), out), [1, 2, 3])
    with pytest.raises(TypeError, match="x0 is declared float32"):
        kernel(np.arange(3, dtype="float64"), out)
