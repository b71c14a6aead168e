"""Checking a GPU implementation against ``op.perform``: what the ``test_cuda_*`` impl tests share.

:func:`check_impl` runs one node both ways: ``perform`` on NumPy copies of
the values, the registered ``cuda_impl`` on device copies, both laid out as
asked (C order, Fortran order, or a strided view of a larger array).  Then
every output must have the node's dtype and perform's shape and values; an
in-place output must be the destroyed input, holding the result; and on the
simulated device (NumPy arrays) an output must alias an input where
``perform``'s does (views stay views), and only where the op declares it
(``view_map``/``destroy_map``).
"""

from __future__ import annotations

import numpy as np
import pytest

from theanolab.backends.cuda.dispatch import cuda_impl

__all__ = ["TOLERANCE", "check_impl", "check_same_error", "impl_of", "LAYOUTS"]

#: rtol = atol per dtype (integers and bools exactly).
TOLERANCE = {"float16": 1e-2, "float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12}


def _strided(xp, value):
    """``value`` as a view taking every other element of a larger array (on every axis)."""
    if value.ndim == 0:
        return value
    big = xp.zeros(tuple(2 * n for n in value.shape), dtype=value.dtype)
    view = big[(slice(None, None, 2),) * value.ndim]
    view[...] = value
    return view


LAYOUTS = {
    "C": lambda xp, value: value,
    "F": lambda xp, value: xp.asfortranarray(value) if value.ndim > 1 else value,  # (it makes 0-d 1-d)
    "strided": _strided,
}


def impl_of(node, device):
    """The registered run function of ``node`` on ``device`` (the test fails if there is none)."""
    run = cuda_impl(node.op, node, device)
    assert run is not None, f"{node.op} has no GPU implementation for {node}"
    return run


def _run(node, device, values, layout):
    inputs = [LAYOUTS[layout](device.xp, device.to_device(np.asarray(v))) for v in values]
    cells = [[None] for _ in node.outputs]
    impl_of(node, device)(inputs, cells)
    return inputs, [cell[0] for cell in cells]


def _perform(node, values, layout):
    inputs = [LAYOUTS[layout](np, np.array(v, copy=True)) for v in values]
    cells = [[None] for _ in node.outputs]
    node.op.perform(node, inputs, cells)
    return inputs, [cell[0] for cell in cells]


def _aliased(output, inputs):
    return [i for i, value in enumerate(inputs) if np.shares_memory(output, value)]


def check_impl(node, values, device, layout="C"):
    """Assert the GPU implementation of ``node`` computes what ``perform`` does on ``values``."""
    cpu_inputs, expected = _perform(node, values, layout)
    gpu_inputs, got = _run(node, device, values, layout)
    destroy_map = getattr(node.op, "destroy_map", {}) or {}
    for k, (variable, want, have) in enumerate(zip(node.outputs, expected, got)):
        assert device.is_device_array(have), f"output {k} of {node.op} is {type(have)}, not a device array"
        host = device.to_host(have)
        assert host.dtype == variable.dtype, f"output {k} of {node.op}: dtype {host.dtype}, node says {variable.dtype}"
        assert host.shape == np.shape(want), (f"output {k} of {node.op}: shape {host.shape}, perform gave "
                                              f"{np.shape(want)}")
        tolerance = TOLERANCE.get(variable.dtype, 0)
        np.testing.assert_allclose(host, want, rtol=tolerance, atol=tolerance, equal_nan=True,
                                   err_msg=f"output {k} of {node.op}")
        for i in destroy_map.get(k, []):
            assert have is gpu_inputs[i], f"output {k} of in-place {node.op} is not its input {i}"
            np.testing.assert_allclose(cpu_inputs[i], want, rtol=tolerance, atol=tolerance, equal_nan=True)
        if device.xp is np:
            allowed = set(destroy_map.get(k, [])) | set((getattr(node.op, "view_map", {}) or {}).get(k, []))
            aliased, perform_aliased = set(_aliased(have, gpu_inputs)), set(_aliased(want, cpu_inputs))
            assert perform_aliased <= aliased <= allowed, (
                f"output {k} of {node.op} aliases inputs {aliased}; perform's aliases {perform_aliased}, "
                f"the op declares {allowed}")
    return [device.to_host(v) for v in got]


def check_same_error(node, values, device, error=ValueError, match=None):
    """Assert ``perform`` and the GPU implementation both raise ``error`` on ``values``.

    ``match``: a pattern the GPU implementation's message must contain, where
    NumPy itself would raise on the simulated device but CuPy would not.
    """
    with pytest.raises(error):
        _perform(node, values, "C")
    with pytest.raises(error, match=match):
        _run(node, device, values, "C")

