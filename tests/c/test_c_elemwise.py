"""The C kernel of Elemwise and fused Composites against the reference backend (``Elemwise.perform``).

Every scalar op runs on every dtype it accepts, on values chosen to hit the
edges (zeros of both signs, NaN, infinities, the integer extremes, MIN // -1,
ties of rounding).  To keep compiles few, the ops of one dtype case are
outputs of ONE multi-output Composite (one kernel): an inner node is rendered
exactly as a lone Elemwise's op.  Integer, bool, comparison, cast, rounding and
float arithmetic results must match bit for bit (signs of zeros included);
transcendental functions within a few units in the last place (libmvec).
Layouts (broadcasting, transposed, sliced, negative strides, empty, 0-d),
in-place, threads and fused FAST_RUN graphs are checked on a few kernels.
"""

from __future__ import annotations

import itertools
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c import scalar as cscalar
from theanolab.backends.c.build import compiler_available
from theanolab.backends.c.kernels.elemwise import elemwise_kernel, elemwise_source, single_inputs
from theanolab.backends.c.thunk import CThunk
from theanolab.config import change_flags
from theanolab.scalar import basic as sb
from theanolab.scalar import math as sm
from theanolab.scalar.basic import ScalarType
from theanolab.scalar.composite import Composite
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.nnet import scalar_sigmoid, scalar_softplus
from theanolab.tensor.type import TensorType

pytestmark = pytest.mark.skipif(not compiler_available(), reason="needs a C compiler")

C_MODE = theanolab.Mode(linker="cvm", optimizer="None")
PY_MODE = theanolab.Mode(linker="py", optimizer="None")
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
C_DTYPES = ("bool",) + INTEGERS + ("float32", "float64")

# ----------------------------------------------------------------------------- the values


def _edges(dtype):
    """Values where implementations disagree first."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return np.array([False, True])
    if kind == "f":
        return np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.5, -2.5, 3.0, -7.0, 0.49999999999999994,
                         1e-30, 1e30, np.inf, -np.inf, np.nan], dtype=dtype)
    info = np.iinfo(dtype)
    candidates = [0, 1, -1, 2, -2, 3, 7, -7, info.min, info.min + 1, info.max, info.max - 1]
    return np.array(sorted({v for v in candidates if info.min <= v <= info.max}), dtype=dtype)


def _numbers(dtype, rng, n, low, high):
    """``n`` numbers in [low, high] within the dtype's range (integral for integers, fractional for floats)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.random(n) < 0.5
    if kind == "f":
        return rng.uniform(low, high, n).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(low, info.min), min(high, info.max) + 1, n).astype(dtype)


def _values(first, second, rng):
    """Test values by role: x (of ``first``) and y (of ``second``) hold every pair of edge values."""
    ex, ey = _edges(first), _edges(second)
    pairs = np.array(list(itertools.product(range(len(ex)), range(len(ey)))))
    n = len(pairs) + 64
    x = np.concatenate([ex[pairs[:, 0]], _numbers(first, rng, 64, -100, 100)])
    y = np.concatenate([ey[pairs[:, 1]], _numbers(second, rng, 64, -100, 100)])
    return {
        "x": x, "y": y, "z": rng.permutation(y),
        "base": _numbers(first, rng, n, -3, 3),
        "exponent": _numbers(second, rng, n, -2, 4),  # 3 ** 4 fits int8 (also through float64)
        "nonnegative": _numbers(second, rng, n, 0, 4),
        "castable": _numbers(first, rng, n, -120, 120),  # held exactly by every signed target
        "castable_unsigned": _numbers(first, rng, n, 0, 250),
    }


def _dtypes(first, second):
    return {"x": first, "y": second, "z": second, "base": first, "exponent": second, "nonnegative": second,
            "castable": first, "castable_unsigned": first}


# ----------------------------------------------------------------------------- the op table

#: name -> (how to build it from the inner inputs, transcendental?)
OPS = {
    "add": (lambda v: sb.add(v.x, v.y), False),
    "add3": (lambda v: sb.add(v.x, v.y, v.z), False),
    "sub": (lambda v: sb.sub(v.x, v.y), False),
    "mul": (lambda v: sb.mul(v.x, v.y), False),
    "mul3": (lambda v: sb.mul(v.x, v.y, v.z), False),
    "true_div": (lambda v: sb.true_div(v.x, v.y), False),
    "int_div": (lambda v: sb.int_div(v.x, v.y), False),
    "mod": (lambda v: sb.mod(v.x, v.y), False),
    "pow": (lambda v: sb.pow(v.base, v.exponent), True),
    "pow_nonnegative": (lambda v: sb.pow(v.x, v.nonnegative), True),  # integers wrap
    "neg": (lambda v: sb.neg(v.x), False),
    "abs": (lambda v: sm.abs_(v.x), False),
    "sgn": (lambda v: sm.sgn(v.x), False),
    "maximum": (lambda v: sb.maximum(v.x, v.y), False),
    "minimum": (lambda v: sb.minimum(v.x, v.y), False),
    "second": (lambda v: sb.second(v.x, v.y), False),
    "identity": (lambda v: sb.identity(v.x), False),
    "lt": (lambda v: sb.lt(v.x, v.y), False),
    "gt": (lambda v: sb.gt(v.x, v.y), False),
    "le": (lambda v: sb.le(v.x, v.y), False),
    "ge": (lambda v: sb.ge(v.x, v.y), False),
    "eq": (lambda v: sb.eq(v.x, v.y), False),
    "neq": (lambda v: sb.neq(v.x, v.y), False),
    "and": (lambda v: sb.and_(v.x, v.y), False),
    "or": (lambda v: sb.or_(v.x, v.y), False),
    "xor": (lambda v: sb.xor(v.x, v.y), False),
    "invert": (lambda v: sb.invert(v.x), False),
    "switch": (lambda v: sb.switch(v.x, v.y, v.z), False),
    "clip": (lambda v: sm.clip(v.x, v.y, v.z), False),
    "sqr": (lambda v: sm.sqr(v.x), False),
    "sqrt": (lambda v: sm.sqrt(v.x), False),
    "inv": (lambda v: sm.inv(v.x), False),
    "floor": (lambda v: sm.floor(v.x), False),
    "ceil": (lambda v: sm.ceil(v.x), False),
    "trunc": (lambda v: sm.trunc(v.x), False),
    "round_half_to_even": (lambda v: sm.round_half_to_even(v.x), False),
    "round_half_away_from_zero": (lambda v: sm.round_half_away_from_zero(v.x), False),
    "isnan": (lambda v: sm.isnan(v.x), False),
    "isinf": (lambda v: sm.isinf(v.x), False),
    "arctan2": (lambda v: sm.arctan2(v.x, v.y), True),
    "sigmoid": (lambda v: scalar_sigmoid(v.x), True),
    "softplus": (lambda v: scalar_softplus(v.x), True),
    "erf": (lambda v: sm.erf(v.x), True),
    "erfc": (lambda v: sm.erfc(v.x), True),
    **{name: (lambda v, op=op: op(v.x), True) for name, op in [
        ("exp", sm.exp), ("exp2", sm.exp2), ("expm1", sm.expm1), ("log", sm.log), ("log2", sm.log2),
        ("log10", sm.log10), ("log1p", sm.log1p), ("sin", sm.sin), ("cos", sm.cos), ("tan", sm.tan),
        ("arcsin", sm.arcsin), ("arccos", sm.arccos), ("arctan", sm.arctan), ("sinh", sm.sinh),
        ("cosh", sm.cosh), ("tanh", sm.tanh), ("arcsinh", sm.arcsinh), ("arccosh", sm.arccosh),
        ("arctanh", sm.arctanh)]},
    # casts of in-range values to every dtype (C leaves a float out of an integer's range undefined)
    **{f"cast_{d}": (lambda v, d=d: sb.Cast(d)(v.castable_unsigned if d[0] == "u" else v.castable), False)
       for d in C_DTYPES},
    # and of every x: to bool and floats always, to integers (wrapping) from integers
    **{f"cast_x_{d}": (lambda v, d=d: sb.Cast(d)(v.x) if d[0] in "bf" or v.x.type.dtype[0] in "biu" else None,
                       False) for d in C_DTYPES},
}

#: (op, x dtype, y dtype) with no C kernel although the reference computes them: NumPy raises on a
#: negative integer power of a bool, which a C expression cannot do, so such nodes run perform.
NO_C = {("pow_nonnegative", "bool", "int16")}

#: (x/y/z dtype, second dtype): y and z take the second one.  One kernel each.
DTYPE_CASES = [(d, d) for d in C_DTYPES] + [
    ("int8", "uint8"), ("int64", "uint64"), ("uint64", "int32"), ("int32", "float32"),
    ("int16", "float32"), ("bool", "int16"), ("float32", "float64"),
]


def _reference_accepts(op, arrays):
    """False when NumPy refuses these dtypes at run time (subtracting bools...)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            op.impl(*arrays)
        return True
    except (TypeError, ValueError):
        return False


def _compare(name, actual, expected, transcendental):
    """Bit-for-bit equal (zeros' signs too, any NaN for NaN), or close for transcendental floats."""
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype}, reference {expected.dtype}"
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape}, reference {expected.shape}"
    if transcendental and actual.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[str(actual.dtype)],
                                   atol=TOLERANCE[str(actual.dtype)] * 1e-3, equal_nan=True, err_msg=name)
        return
    equal = actual == expected
    if actual.dtype.kind == "f":
        equal = (equal & (np.signbit(actual) == np.signbit(expected))) | (np.isnan(actual) & np.isnan(expected))
    bad = np.flatnonzero(~equal)
    assert not bad.size, (f"{name}: C and reference differ at {bad[:5]}: "
                          f"{actual.ravel()[bad[:5]]} vs {expected.ravel()[bad[:5]]}")


def _runs_in_c(function):
    """True if every Elemwise node of the compiled function runs a C kernel (the VM's thunk is a CThunk)."""
    nodes = [node for node in function.maker.fgraph.toposort() if isinstance(node.op, Elemwise)]
    return bool(nodes) and all(isinstance(function._vm.thunks.get(node), CThunk) for node in nodes)


def _run_both(inputs, outputs, values, **options):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = theanolab.function(inputs, outputs, mode=C_MODE, **options)
        fp = theanolab.function(inputs, outputs, mode=PY_MODE, **options)
        return fc, fc(*values), fp(*values)


def _renders(node):
    args = [cscalar.Value(var.name, var.type.dtype, lambda: "flag") for var in node.inputs]
    results = [cscalar.Value("r", var.type.dtype) for var in node.outputs]
    return cscalar.c_statements(node.op, args, results, cscalar.name_source()) is not None


@pytest.mark.parametrize("first,second", DTYPE_CASES, ids=[f"{a}-{b}" for a, b in DTYPE_CASES])
def test_every_scalar_op_matches_reference(first, second):
    values = _values(first, second, np.random.default_rng(0))
    variables = {role: ScalarType(dtype)(name=role) for role, dtype in _dtypes(first, second).items()}
    v = SimpleNamespace(**variables)
    chosen = {}
    for name, (build, transcendental) in OPS.items():
        try:
            out = build(v)
        except TypeError:
            continue  # the op refuses these dtypes when the graph is built (bitwise on floats...)
        if out is None:
            continue
        node = out.owner
        accepted = _reference_accepts(node.op, [values[var.name] for var in node.inputs])
        if not accepted or (name, first, second) in NO_C:
            assert not _renders(node), f"{name}: C code where the reference raises or none is expected"
            continue
        assert _renders(node), f"{name} on {first}/{second} has no C code"
        chosen[name] = (out, transcendental)
    roles = list(values)
    composite = Composite([variables[r] for r in roles], [out for out, _ in chosen.values()])
    tensors = [TensorType(variables[r].type.dtype, (False,))(r) for r in roles]
    outputs = Elemwise(composite)(*tensors)
    fc, got, expected = _run_both(tensors, outputs, [values[r] for r in roles])
    assert _runs_in_c(fc), "the composite did not run in C"
    for (name, (_, transcendental)), a, b in zip(chosen.items(), got, expected):
        _compare(f"{name} on {first}/{second}", a, b, transcendental)


def test_single_op_elemwise_matches_reference():
    """A lone Elemwise renders its op as a composite's inner node does: a few, one kernel each."""
    rng = np.random.default_rng(8)
    x, y, e = T.bvector("x"), T.bvector("y"), T.bvector("e")
    a, b = _edges("int8")[np.indices((12, 12)).reshape(2, -1)]
    for out in (x // y, x % y, x ** e, T.maximum(x, y)):
        fc, got, expected = _run_both([x, y, e], out, [a, b, np.abs(b) % 5], on_unused_input="ignore")
        assert fc._vm.thunks
        _compare(str(out), got, expected, False)
    f = T.fvector("f")
    values = np.concatenate([_edges("float32"), rng.standard_normal(50).astype("float32")])
    fc, got, expected = _run_both([f], T.tanh(f), [values])
    _compare("tanh", got, expected, True)


# ----------------------------------------------------------------------------- layouts


MATRIX, ROW, COL, SCALAR = (False, False), (True, False), (False, True), (True, True)


def _layouts(rng, dtype):
    """(name, (pattern, array), (pattern, array)): every way the driver walks memory."""
    def arr(*shape):
        return (rng.standard_normal(shape) * 3).astype(dtype)

    big = arr(12, 10)
    return [
        ("contiguous", (MATRIX, arr(4, 5)), (MATRIX, arr(4, 5))),
        ("row+col", (ROW, arr(1, 5)), (COL, arr(4, 1))),
        ("scalar+matrix", (SCALAR, arr(1, 1)), (MATRIX, arr(300, 7))),
        ("matrix+long row", (MATRIX, arr(3, 2000)), (ROW, arr(1, 2000))),
        ("column broadcast along rows", (MATRIX, arr(3, 40)), (COL, arr(3, 1))),
        ("transposed", (MATRIX, big.T), (MATRIX, arr(10, 12))),
        ("sliced", (MATRIX, big[:, ::2]), (MATRIX, big[::2, 1::2][:, :5].repeat(2, axis=0))),
        ("negative strides", (MATRIX, big[::-1]), (MATRIX, big[:, ::-1])),
        ("reversed broadcasts", (COL, big[::-1, :1]), (ROW, big[:1, ::-1])),
        ("empty", (MATRIX, arr(0, 5)), (ROW, arr(1, 5))),
        ("empty broadcast", (MATRIX, arr(3, 0)), (COL, arr(3, 1))),
    ]


FAST_C = theanolab.Mode(linker="cvm", optimizer="fast_run")
FAST_PY = theanolab.Mode(linker="py", optimizer="fast_run")


@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_layouts_match_reference(dtype):
    for name, (pa, a), (pb, b) in _layouts(np.random.default_rng(1), dtype):
        x, y = TensorType(dtype, pa)("x"), TensorType(dtype, pb)("y")
        graphs = [("add", x + y, C_MODE, PY_MODE), ("fused", T.maximum(x * y - x, y) // 3, FAST_C, FAST_PY)]
        for label, out, c_mode, py_mode in graphs:
            fc = theanolab.function([x, y], out, mode=c_mode)
            fp = theanolab.function([x, y], out, mode=py_mode)
            assert any(isinstance(t, CThunk) for t in fc._vm.thunks.values())
            with np.errstate(all="ignore"):
                _compare(f"{label} on {name}", fc(a, b), fp(a, b), False)


def test_a_value_does_not_depend_on_its_position_layout_or_fusion():
    """Vector math differs from scalar math in the last bit: every element must take the same path."""
    def expression(v):
        return T.tanh(T.exp(v) * 0.3) + T.log1p(T.abs_(v))

    x, m = T.dvector("x"), T.dmatrix("m")
    unfused = theanolab.function([x], expression(x), mode=C_MODE)
    fused = theanolab.function([x], expression(x), mode=FAST_C)
    on_matrix = theanolab.function([m], expression(m), mode=FAST_C)
    assert _runs_in_c(unfused) and _runs_in_c(fused) and len(fused.maker.fgraph.apply_nodes) == 1
    values = np.random.default_rng(9).standard_normal(1000)
    whole = unfused(values)
    np.testing.assert_array_equal(fused(values), whole)
    for index in (slice(1, None), slice(None, -3), slice(None, None, -1), slice(5, 22), slice(None, None, 3)):
        np.testing.assert_array_equal(unfused(values[index]), whole[index])
        np.testing.assert_array_equal(fused(values[index]), whole[index])
    np.testing.assert_array_equal(on_matrix(values.reshape(40, 25).T), whole.reshape(40, 25).T)
    np.testing.assert_array_equal(on_matrix(values.reshape(40, 25)[::-2, 3:]), whole.reshape(40, 25)[::-2, 3:])
    # one-byte operands: the loop then takes up to 64 elements per vector iteration
    b = T.bvector("b")
    mixed = theanolab.function([x, b], expression(x) * b, mode=FAST_C)
    counts = np.arange(1000).astype("int8")
    whole = mixed(values, counts)
    for index in (slice(1, None), slice(None, -3), slice(None, None, -1), slice(5, 70)):
        np.testing.assert_array_equal(mixed(values[index], counts[index]), whole[index])


def test_zero_dimensional_and_vector_broadcast():
    s, v = T.dscalar("s"), T.dvector("v")
    for out, values in [(s * 2.5 + s, [np.float64(1.25)]), (T.exp(s) + v, [np.float64(0.3), np.arange(5.0)])]:
        inputs = [s] if len(values) == 1 else [s, v]
        fc, got, expected = _run_both(inputs, out, values)
        _compare(str(out), got, expected, True)
        assert fc._vm.thunks


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16"])
def test_one_element_inputs_are_read_once_and_give_the_repeated_values(dtype):
    """An input broadcastable on every axis is read before the loop, not repeated into a buffer."""
    one, m = TensorType(dtype, (True, True))("one"), TensorType(dtype, (False, False))("m")
    scalar = T.scalar("s", dtype=dtype)
    def expression(other):
        return T.maximum(m * other - scalar, other // 3)

    fc = theanolab.function([m, one, scalar], expression(one), mode=FAST_C)
    fp = theanolab.function([m, one, scalar], expression(one), mode=PY_MODE)
    full = T.matrix("full", dtype=dtype)
    repeated = theanolab.function([m, full, scalar], expression(full), mode=FAST_C)
    matrix_input = fc.maker.fgraph.inputs[0]
    [node] = [n for n in fc.maker.fgraph.apply_nodes if matrix_input in n.inputs]   # the fused loop over m
    assert single_inputs(node) == tuple(k for k, v in enumerate(node.inputs) if v is not matrix_input)
    assert len(single_inputs(node)) == 3 and _runs_in_c(fc)
    name, code = elemwise_source(node.op.scalar_op, tuple(v.dtype for v in node.inputs),
                                 (node.outputs[0].dtype,), False, 0, single_inputs(node))
    for k, var in enumerate(node.inputs):
        assert f"x{k} = p{k}[{'i' if var is matrix_input else '0'}];" in code
    rng = np.random.default_rng(4)
    big = rng.integers(-50, 50, size=(90, 2100)).astype(dtype)
    corner = rng.integers(1, 9, size=(3, 5)).astype(dtype)[1:2, 3:4]   # a strided view of one element
    for matrix in (big[:7, :1300], big[::-3, ::-2], big[:0], big[:1, :1], big[:5, :61].T):
        two = np.asarray(2, dtype=dtype)
        got = fc(matrix, corner, two)
        np.testing.assert_array_equal(got, fp(matrix, corner, two))
        np.testing.assert_array_equal(got, repeated(matrix, np.broadcast_to(corner, matrix.shape).copy(), two))


def test_length_mismatch_raises_reference_message():
    x, y = T.dmatrices("x", "y")
    fc, fp = (theanolab.function([x, y], x + y, mode=mode) for mode in (C_MODE, PY_MODE))
    a, b = np.ones((2, 3)), np.ones((2, 4))
    with pytest.raises(ValueError) as c_error:
        fc(a, b)
    with pytest.raises(ValueError) as py_error:
        fp(a, b)
    assert str(c_error.value).splitlines()[0] == str(py_error.value).splitlines()[0]
    assert "Input dimension mismatch" in str(c_error.value)


def test_unsupported_dtypes_run_perform():
    for dtype in ("float16", "complex128"):
        x = T.TensorType(dtype, (False,))("x")
        fc, got, expected = _run_both([x], x * x + x, [np.arange(4).astype(dtype)])
        assert not fc._vm.thunks
        np.testing.assert_array_equal(got, expected)


def test_no_c_where_c_cannot_follow_the_reference():
    a, b = ScalarType("float64")(), ScalarType("float64")()
    half = Composite([a, b], [sb.add(sb.Cast("float16")(a), b)])  # a float16 intermediate
    assert elemwise_source(half, ("float64", "float64"), ("float64",), 0, 0) is None

    class Halved(sb.Add):  # a subclass computing something else is not mistaken for add
        def impl(self, *values):
            return sum(values) / 2

    assert elemwise_source(Halved(), ("float64", "float64"), ("float64",), 0, 0) is None
    assert elemwise_source(sb.add, ("float64", "float64"), ("float64",), 0, 0) is not None


def test_integer_pow_of_an_intermediate_exponent_runs_perform():
    # The float64 switch depends on the whole exponent array, unknown inside a fused loop.
    a, b = ScalarType("int32")(), ScalarType("int32")()
    inner = Composite([a, b], [sb.pow(a, sb.sub(b, a))])
    assert elemwise_source(inner, ("int32", "int32"), ("int32",), 0, 0) is None
    constant = Composite([a], [sb.pow(a, sb.as_scalar(np.int32(-1)))])
    assert elemwise_source(constant, ("int32",), ("int32",), 0, 0) is not None


# ----------------------------------------------------------------------------- in place, composites, threads


def _thunk(op, *types):
    node = op.make_node(*[t() for t in types])
    kernel = elemwise_kernel(node.op, node)
    return node, CThunk(node, kernel)


def test_in_place_writes_into_the_destroyed_input():
    matrix = T.TensorType("float64", (False, False))
    node, thunk = _thunk(Elemwise(sb.add, {0: 0}), matrix, matrix)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 30)), rng.standard_normal((40, 30))
    expected = x + y
    cell = [None]
    thunk(node, [x, y], [cell])
    assert cell[0] is x
    np.testing.assert_array_equal(x, expected)
    # the other input overlapping in another order: a new array, the input untouched
    x = rng.standard_normal((40, 30))
    original = x.copy()
    thunk(node, [x, x[::-1]], [cell])
    assert cell[0] is not x
    np.testing.assert_array_equal(cell[0], original + original[::-1])
    np.testing.assert_array_equal(x, original)
    # a read-only or broadcast input is never written
    x.flags.writeable = False
    thunk(node, [x, y], [cell])
    assert cell[0] is not x


def test_multi_output_composite_in_place():
    a, b = ScalarType("float64")(), ScalarType("float64")()
    composite = Composite([a, b], [sb.mul(a, b), sb.sub(a, b), sm.exp(b)])
    vector = T.TensorType("float64", (False,))
    node, thunk = _thunk(Elemwise(composite, {0: 1, 1: 0}), vector, vector)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(5000), rng.standard_normal(5000)
    expected = [x * y, x - y, np.exp(y)]
    cells = [[None], [None], [None]]
    thunk(node, [x, y], cells)
    assert cells[0][0] is y and cells[1][0] is x
    for cell, want in zip(cells, expected):
        np.testing.assert_allclose(cell[0], want, rtol=1e-15)


def _logistic_regression(mode, rng):
    feats = 30
    x, y = T.dmatrix("x"), T.dvector("y")
    w = theanolab.shared(rng.standard_normal(feats), name="w")
    b = theanolab.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = theanolab.grad(cost, [w, b])
    train = theanolab.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                               mode=mode)
    return train, w


def test_fused_fast_run_graph_matches_reference():
    data = np.random.default_rng(4)
    x, y = data.standard_normal((100, 30)), (data.random(100) > 0.5).astype("float64")
    c_train, c_w = _logistic_regression(theanolab.Mode(linker="cvm", optimizer="fast_run"),
                                        np.random.default_rng(5))
    py_train, py_w = _logistic_regression(theanolab.Mode(linker="py", optimizer="fast_run"),
                                          np.random.default_rng(5))
    elemwise_nodes = [n for n in c_train.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]
    assert any(isinstance(n.op.scalar_op, Composite) for n in elemwise_nodes)
    assert all(isinstance(c_train._vm.thunks.get(n), CThunk) for n in elemwise_nodes)
    for _ in range(3):
        for got, expected in zip(c_train(x, y), py_train(x, y)):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_w.get_value(), py_w.get_value(), rtol=1e-12)


def test_openmp_gives_the_same_values():
    x, y, row, col = T.dmatrix("x"), T.dmatrix("y"), T.drow("row"), T.dcol("col")
    broadcast = T.nnet.sigmoid(x * row) + T.log1p(T.abs_(x)) - row + col
    rng = np.random.default_rng(6)
    cases = [
        ([x, y], x * y - T.exp(y), (rng.standard_normal((300, 70)), rng.standard_normal((300, 70)))),
        ([x, row, col], broadcast, (rng.standard_normal((300, 70)), rng.standard_normal((1, 70)),
                                    rng.standard_normal((300, 1)))),  # a column buffered along rows
        ([x, row, col], broadcast, (rng.standard_normal((70, 300)).T, rng.standard_normal((1, 70)),
                                    rng.standard_normal((300, 1)))),  # strided
        ([x, row, col], broadcast, (rng.standard_normal((3, 9000)), rng.standard_normal((1, 9000)),
                                    rng.standard_normal((3, 1)))),  # long rows
    ]
    results = {}
    for openmp in (False, True):
        with change_flags(openmp=openmp, openmp_elemwise_minsize=1000):
            results[openmp] = []
            for inputs, out, values in cases:
                fc = theanolab.function(inputs, out, mode=FAST_C)
                assert fc._vm.thunks
                results[openmp].append(fc(*values))
    for serial, threaded in zip(results[False], results[True]):
        np.testing.assert_array_equal(serial, threaded)


def test_kernel_name_depends_on_thread_settings():
    args = (sb.add, ("float64", "float64"), ("float64",))
    names = {elemwise_source(*args, 0, 0)[0], elemwise_source(*args, 1, 1000)[0],
             elemwise_source(*args, 1, 2000)[0]}
    assert len(names) == 3
