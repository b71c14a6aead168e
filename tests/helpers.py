"""Helpers every op test uses: random data per dtype, a shape-inference check, backend comparison.

``check_infer_shape`` builds each output's shape from the node's
``Op.infer_shape`` (with the inputs' shapes as symbols), compiles it, and
compares it with the shape of the computed value: so an op whose shape rule
disagrees with its ``perform`` cannot pass.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import theanolab
from theanolab.tensor.shape import shape_i

def once_per_suite(pass_name):
    """Run a backend-independent test in one of ``scripts/test.sh``'s two passes only.

    The script runs the suite twice, ``THEANOLAB_TEST_PASS=reference`` (linker=py) then
    ``THEANOLAB_TEST_PASS=c``; a test whose result does not depend on the backend
    (building the docs, driving a browser) runs in the pass named here and skips in
    the other.  Run on its own (the variable unset), it always runs.
    """
    current = os.environ.get("THEANOLAB_TEST_PASS")
    return pytest.mark.skipif(current is not None and current != pass_name,
                              reason=f"backend-independent: runs once, in the {pass_name} pass of scripts/test.sh")


FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
ALL_NUMERIC = ("bool",) + INT_DTYPES + FLOAT_DTYPES


def random_array(shape, dtype, rng=None, low=-3, high=3):
    """Values of ``dtype``: uniform floats, small integers, random bools."""
    rng = rng or np.random.default_rng(0)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "u":
        return rng.integers(0, max(high, 1) + 1, size=shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(low, high + 1, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.uniform(low, high, size=shape) + 1j * rng.uniform(low, high, size=shape)).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def check_infer_shape(outputs, inputs, values, mode=None):
    """Assert every output's ``infer_shape`` matches the shape of its computed value."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    computed = theanolab.function(inputs, list(outputs), mode=mode, on_unused_input="ignore")(*values)
    for out, value in zip(outputs, computed):
        node = out.owner
        assert node is not None, f"{out} has no owner: nothing to infer"
        input_shapes = [tuple(shape_i(i, d) for d in range(i.ndim)) if i.type.__class__.__name__ == "TensorType" else None
                        for i in node.inputs]
        shapes = node.op.infer_shape(node, input_shapes)
        symbolic = shapes[out.index]
        assert len(symbolic) == out.ndim, f"{node.op}.infer_shape gave {len(symbolic)} entries for ndim {out.ndim}"
        if not symbolic:
            assert np.shape(value) == ()
            continue
        entries = theanolab.function(inputs, [theanolab.tensor.as_tensor_variable(e) for e in symbolic],
                                     mode=mode, on_unused_input="ignore")(*values)
        inferred = tuple(int(e) for e in entries)
        assert inferred == np.shape(value), f"{node.op}.infer_shape says {inferred}, perform gave {np.shape(value)}"


def results_or_same_error(f_c, f_py, args, where):
    """``(got, want)``: ``f_c(*args)`` and the reference ``f_py(*args)``; or None when the reference
    raises ValueError and ``f_c`` raises one with the same first line (a backend fails as the
    reference does, word for word)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # e.g. products of a thousand values overflow
            want = f_py(*args)
    except ValueError as error:
        with pytest.raises(ValueError) as raised:
            f_c(*args)
        assert str(raised.value).splitlines()[0] == str(error).splitlines()[0], where
        return None
    return f_c(*args), want
