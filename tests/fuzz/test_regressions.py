"""Bugs the differential fuzzer found (tools/fuzz.py --graphs 10000 --seed 0), each kept as a test."""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c.build import compiler_available
from theanolab.config import config

MODES = [pytest.param(theanolab.Mode(linker="py", optimizer="fast_run"), id="reference")]
if config.linker != "py" and compiler_available():
    MODES.append(pytest.param(theanolab.Mode(linker="c|py", optimizer="fast_run"), id="C"))


@pytest.mark.parametrize("mode", MODES)
def test_merging_equal_nodes_keeps_the_more_specific_type(mode):
    """cast(neq(x, x)) and cast(reshape(neq(x, x), (-1,))) merge once the reshape is gone: the merge
    used to replace the broadcastable output by the plain vector one and fail to compile."""
    x = T.TensorType("int16", (True,))("x")
    same = T.neq(x, x)
    first, second = T.cast(same, "int8"), T.cast(same, "int8")
    outputs = [T.minimum(T.cast(same.reshape((-1,)), "int8"), first + second), second]
    f = theanolab.function([x], outputs, mode=mode)
    got = f(np.array([-3], dtype="int16"))
    assert [a.dtype for a in got] == ["int8", "int8"]
    np.testing.assert_array_equal(got[0], [0])
    np.testing.assert_array_equal(got[1], [0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16"])
def test_a_float_cast_to_a_narrow_integer_wraps_as_numpy_does(mode, dtype):
    """cast(x, 'uint8') - x at x = -2.98 gave 0.98 on the C backend (the fused loop folded the cast);
    NumPy converts through int32: 254 - (-2.98)."""
    x = T.dvector("x")
    f = theanolab.function([x], T.cast(x, dtype) - x, mode=mode)
    values = np.array([-2.97905848, 300.5, -300.5, 3e9, -3e9, np.nan, 70000.7, 0.5, -0.5])
    with np.errstate(invalid="ignore"):
        expected = values.astype(dtype) - values
    np.testing.assert_array_equal(f(values), expected)
