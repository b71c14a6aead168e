"""The GPU Elemwise kernels against ``Elemwise.perform``, on the simulated GPU (and a real one if present).

The op table, the dtype cases, the edge values and the comparison are the C
backend's (``tests/c/test_c_elemwise.py``): both backends render the same
scalar statements, so they answer to one table.  As there, the ops of one
dtype case are the outputs of ONE multi-output Composite, so one kernel
covers them (and its integer ``pow`` exercises the "some exponent is
negative" flag inputs).  Layouts (broadcast, strided, empty, 0-d), in-place
nodes, the length check and fused FAST_RUN graphs are checked on a few kernels.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.elemwise import elementwise_parts
from theanolab.scalar import basic as sb
from theanolab.scalar import math as sm
from theanolab.scalar.basic import ScalarType
from theanolab.scalar.composite import Composite
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.type import TensorType

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "c"))
import test_c_elemwise as table  # noqa: E402  (the C backend's op table: one table for both backends)


def _run(device, node, values):
    """``node`` computed by its GPU implementation on ``device``, as host arrays."""
    run = cuda_impl(node.op, node, device)
    assert run is not None, f"{node.op} has no GPU implementation on {[v.type.dtype for v in node.inputs]}"
    cells = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"):
        run([device.to_device(v) for v in values], cells)
    for cell, out in zip(cells, node.outputs):
        assert device.is_device_array(cell[0]), f"{node.op} left a {type(cell[0])} on the GPU"
        assert cell[0].dtype == out.type.dtype, f"{node.op}: output dtype {cell[0].dtype}, node says {out.type.dtype}"
    return [device.to_host(cell[0]) for cell in cells]


def _perform(node, values):
    cells = [[None] for _ in node.outputs]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        node.op.perform(node, [np.array(v, copy=True) for v in values], cells)
    return [cell[0] for cell in cells]


def _check(device, node, values, transcendental=False):
    for k, (got, want) in enumerate(zip(_run(device, node, values), _perform(node, values))):
        table._compare(f"{node.op} output {k}", got, want, transcendental)


@pytest.mark.parametrize("first,second", table.DTYPE_CASES, ids=[f"{a}-{b}" for a, b in table.DTYPE_CASES])
def test_every_scalar_op_matches_reference(devices, first, second):
    values = table._values(first, second, np.random.default_rng(0))
    variables = {role: ScalarType(dtype)(name=role) for role, dtype in table._dtypes(first, second).items()}
    v = SimpleNamespace(**variables)
    chosen = {}
    for name, (build, transcendental) in table.OPS.items():
        try:
            out = build(v)
        except TypeError:
            continue
        if out is None or (name, first, second) in table.NO_C:
            continue
        if table._reference_accepts(out.owner.op, [values[var.name] for var in out.owner.inputs]):
            chosen[name] = (out, transcendental)
    roles = list(values)
    composite = Composite([variables[r] for r in roles], [out for out, _ in chosen.values()])
    node = Elemwise(composite)(*[TensorType(variables[r].type.dtype, (False,))(r) for r in roles])[0].owner
    got = _run(devices, node, [values[r] for r in roles])
    for (name, (_, transcendental)), a, b in zip(chosen.items(), got, _perform(node, [values[r] for r in roles])):
        table._compare(f"{name} on {first}/{second}", a, b, transcendental)


def test_integer_pow_flags_negative_exponents(devices):
    """int ** int with some negative exponent goes through float64 for EVERY element (Pow.impl)."""
    x, y = T.ivector("x"), T.ivector("y")
    node = (x ** y).owner
    assert elementwise_parts(node.op.scalar_op, ("int32", "int32"), ("int32",)).flagged == (1,)
    base = np.array([2, 3, -2, 5], dtype="int32")
    _check(devices, node, [base, np.array([3, 2, 1, 0], dtype="int32")])
    _check(devices, node, [base, np.array([3, -1, 1, 0], dtype="int32")])


def test_no_kernel_without_exact_c(devices):
    """float16 and complex have no C statements: the node stays on the CPU."""
    for var in (T.tensor("float16", (False,)), T.cvector()):
        node = T.exp(var).owner
        assert cuda_impl(node.op, node, devices) is None


def _composite_node(x, y):
    """One Elemwise node computing ``x * y - exp(y)`` (a Composite: one kernel)."""
    sx, sy = ScalarType(x.dtype)("sx"), ScalarType(y.dtype)("sy")
    return Elemwise(Composite([sx, sy], [sb.sub(sb.mul(sx, sy), sm.exp(sy))]))(x, y).owner


LAYOUTS = {
    "broadcast row": (T.fmatrix, T.frow, lambda a, b: (a, b[:1])),
    "broadcast col and scalar": (T.dcol, T.dscalar, lambda a, b: (a[:, :1], b[0, 0])),
    "transposed and reversed": (T.fmatrix, T.fmatrix, lambda a, b: (a.T[:, ::2], b[::-1, ::2])),
    "empty": (T.fmatrix, T.frow, lambda a, b: (a[:0], b[:1])),
    "0-d": (T.dscalar, T.dscalar, lambda a, b: (a[0, 0], b[1, 1])),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(devices, layout):
    make_x, make_y, pick = LAYOUTS[layout]
    x, y = make_x(), make_y()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 8)).astype(x.dtype), rng.standard_normal((8, 8)).astype(y.dtype)
    _check(devices, _composite_node(x, y), [np.asarray(v) for v in pick(a, b)], transcendental=True)


def test_in_place_writes_the_destroyed_input(devices):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    node = Elemwise(sb.add, {0: 1})(x, y).owner
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2)).T  # b: Fortran order, not C-contiguous
    inputs = [devices.to_device(a), devices.to_device(b)]
    cells = [[None]]
    cuda_impl(node.op, node, devices)(inputs, cells)
    assert cells[0][0] is inputs[1]
    np.testing.assert_array_equal(devices.to_host(inputs[1]), a + 1)


def test_length_mismatch_has_the_reference_message(devices):
    x, y = T.fmatrix(), T.fmatrix()
    node = (x + y).owner
    values = [np.zeros((2, 3), "float32"), np.zeros((2, 1), "float32")]
    with pytest.raises(ValueError) as reference:
        _perform(node, values)
    with pytest.raises(ValueError) as gpu:
        _run(devices, node, values)
    assert str(gpu.value) == str(reference.value)


@pytest.mark.cpu_only  # it reads the CPU graph's nodes
def test_fused_fast_run_graph(devices):
    """The Composites that FAST_RUN's fusion builds (several outputs, constants inside) run as one kernel
    each: every Elemwise node of the compiled graph, fed the reference's values of its inputs."""
    x, y = T.fvector("x"), T.fvector("y")
    z = T.tanh(x * y + 1.5) - abs(y) ** 2
    fgraph = theanolab.function([x, y], [z, T.exp(z) > x], mode="FAST_RUN").maker.fgraph
    nodes = fgraph.toposort()
    assert any(isinstance(getattr(n.op, "scalar_op", None), Composite) for n in nodes), "fusion built no Composite"
    rng = np.random.default_rng(2)
    values = {var: rng.standard_normal(50).astype("float32") for var in fgraph.inputs}
    for node in nodes:
        inputs = [values[i] if i in values else np.asarray(i.data) for i in node.inputs]
        if isinstance(node.op, Elemwise):
            _check(devices, node, inputs, transcendental=True)
        values.update(zip(node.outputs, _perform(node, inputs)))
