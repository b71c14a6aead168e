"""The BLAS ops (Gemm, Gemv, Ger, Dot22, Dot22Scalar) and the rewrites that make them.

Ops: values vs NumPy per dtype, shape inference, gradients, the in-place
variants, errors.  Rules: each one fires (its op is in ``f.maker.fgraph`` and
the ops it replaces are gone) and the compiled values equal the unrewritten
graph's (``Mode(optimizer=None)``) on float32 and float64, with transposed and
strided inputs, broadcastable and empty operands; it stays away where it must
(a product used twice, integers, mixed dtypes, a broadcast z); updates write
in place only over a temporary nothing else reads; the tutorial's logistic
regression and the slides' MLP train through Gemv/Gemm as in Theano.  The forms
chosen were checked against Theano 1.0.5 (``z + dot(x, y)`` -> Gemm, ``w -
a*dot(A, v)`` -> Gemv, ``a*dot(x, y)`` -> Dot22Scalar, ``row + dot`` -> add of Dot22).
"""

import numpy as np
import pytest
from helpers import FLOAT_DTYPES, check_infer_shape, random_array

import theanolab
import theanolab.tensor as T
from theanolab.compile.mode import Mode
from theanolab.gradient import verify_grad
from theanolab.tensor import blas
from theanolab.tensor.blas import Dot, Dot22, Dot22Scalar, Gemm, Gemv, Ger
from theanolab.tensor.reduce import Sum

FAST_RUN = Mode(linker="py", optimizer="fast_run")
NO_REWRITES = Mode(linker="py", optimizer=None)
TOLERANCE = {"float32": 2e-4, "float64": 1e-10}


def compile_both(inputs, outputs):
    """The outputs compiled with every rewrite and with none (rewrite errors raise)."""
    with theanolab.config.change_flags(on_opt_error="raise"):
        fast = theanolab.function(inputs, outputs, mode=FAST_RUN, on_unused_input="ignore")
    return fast, theanolab.function(inputs, outputs, mode=NO_REWRITES, on_unused_input="ignore")


def op_types(f):
    return {type(node.op) for node in f.maker.fgraph.apply_nodes}


def assert_close(got, expected, dtype):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def variable(kind, dtype, name):
    """A symbolic input: ``kind`` is 'scalar', 'vector', 'matrix', 'row' or 'col'."""
    pattern = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
               "col": (False, True)}[kind]
    return T.TensorType(dtype, pattern)(name)


# --------------------------------------------------------------------------- the ops

# (op, the kinds of its inputs, their shapes, the NumPy meaning)
OPS = [
    (blas.gemm_no_inplace, ("matrix", "scalar", "matrix", "matrix", "scalar"),
     [(3, 2), (), (3, 4), (4, 2), ()], lambda z, a, x, y, b: b * z + a * (x @ y)),
    (blas.gemv_no_inplace, ("vector", "scalar", "matrix", "vector", "scalar"),
     [(3,), (), (3, 4), (4,), ()], lambda z, a, x, y, b: b * z + a * (x @ y)),
    (blas.ger, ("matrix", "scalar", "vector", "vector"),
     [(3, 4), (), (3,), (4,)], lambda z, a, x, y: z + a * np.outer(x, y)),
    (blas.dot22, ("matrix", "matrix"), [(3, 4), (4, 2)], lambda x, y: x @ y),
    (blas.dot22scalar, ("matrix", "matrix", "scalar"), [(3, 4), (4, 2), ()], lambda x, y, a: a * (x @ y)),
]
OP_IDS = [str(case[0]) for case in OPS]


def with_empty_dims(shapes):
    """The same shapes with every non-scalar dimension of length 0."""
    return [tuple(0 for _ in shape) for shape in shapes]


@pytest.mark.parametrize("empty", [False, True], ids=["full", "empty"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op, kinds, shapes, meaning", OPS, ids=OP_IDS)
def test_op_values_dtype_and_shape(op, kinds, shapes, meaning, dtype, empty):
    inputs = [variable(kind, dtype, f"i{k}") for k, kind in enumerate(kinds)]
    values = [random_array(s, dtype, np.random.default_rng(k))
              for k, s in enumerate(with_empty_dims(shapes) if empty else shapes)]
    out = op(*inputs)
    assert out.dtype == dtype
    got = theanolab.function(inputs, out, mode=NO_REWRITES)(*values)
    assert_close(got, np.asarray(meaning(*values), dtype=dtype), dtype)
    check_infer_shape(out, inputs, values, mode=NO_REWRITES)


@pytest.mark.parametrize("op, kinds, shapes, meaning", OPS, ids=OP_IDS)
def test_op_gradients(op, kinds, shapes, meaning):
    values = [random_array(s, "float64", np.random.default_rng(k)) for k, s in enumerate(shapes)]
    verify_grad(op, values, rng=np.random.default_rng(0))


def test_gradients_through_constant_coefficients():
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in [(3, 2), (3, 4), (4, 2)]]
    verify_grad(lambda z, x, y: blas.gemm_no_inplace(z, 0.5, x, y, 2.0), values, rng=rng)
    verify_grad(lambda z, x, y: blas.dot22scalar(x, y, -3), values, rng=rng)


@pytest.mark.parametrize("op, name", [
    (blas.gemm_no_inplace, "Gemm{no_inplace}"), (blas.gemm_inplace, "Gemm{inplace}"),
    (blas.gemv_no_inplace, "Gemv{no_inplace}"), (blas.gemv_inplace, "Gemv{inplace}"),
    (blas.ger, "Ger{non-destructive}"), (blas.ger_destructive, "Ger{destructive}"),
    (blas.dot22, "Dot22"), (blas.dot22scalar, "Dot22Scalar"),
])
def test_ops_print_as_theano_names_them(op, name):
    assert str(op) == name


@pytest.mark.parametrize("op, kinds, shapes, meaning", OPS[:3], ids=OP_IDS[:3])
def test_inplace_variant_writes_into_z_and_plain_one_does_not(op, kinds, shapes, meaning):
    values = [random_array(s, "float64", np.random.default_rng(k)) for k, s in enumerate(shapes)]
    expected = meaning(*values)
    for inplace in (False, True):
        variant = type(op)(inplace=inplace)
        assert variant.destroy_map == ({0: [0]} if inplace else {})
        node = variant(*[variable(kind, "float64", "v") for kind in kinds]).owner
        z = values[0].copy()
        storage = [[None]]
        variant.perform(node, [z] + values[1:], storage)
        np.testing.assert_allclose(storage[0][0], expected)
        assert (storage[0][0] is z) == inplace
        np.testing.assert_allclose(z, expected if inplace else values[0])


def test_beta_zero_does_not_read_z_as_in_blas():
    z, x, y = T.dmatrices("z", "x", "y")
    f = theanolab.function([z, x, y], blas.gemm_no_inplace(z, 1.0, x, y, 0.0), mode=NO_REWRITES)
    x_value, y_value = np.ones((2, 3)), np.ones((3, 2))
    np.testing.assert_array_equal(f(np.full((2, 2), np.nan), x_value, y_value), np.full((2, 2), 3.0))


def test_python_number_coefficients_take_the_arrays_dtype():
    z, x, y = T.fmatrices("z", "x", "y")
    node = blas.gemm_no_inplace(z, 0.5, x, y, 2).owner
    assert [node.inputs[1].dtype, node.inputs[4].dtype] == ["float32", "float32"]
    assert node.outputs[0].dtype == "float32"


@pytest.mark.parametrize("build, message", [
    (lambda: blas.gemm_no_inplace(T.dmatrix(), 1.0, T.fmatrix(), T.dmatrix(), 1.0), "dtype float32"),
    (lambda: blas.gemm_no_inplace(T.imatrix(), 1, T.imatrix(), T.imatrix(), 1), "computes in float32"),
    (lambda: blas.gemm_no_inplace(T.fmatrix(), T.dscalar(), T.fmatrix(), T.fmatrix(), 1.0), "dtype float64"),
    (lambda: blas.gemv_no_inplace(T.dmatrix(), 1.0, T.dmatrix(), T.dvector(), 1.0), "must have 1 dimensions"),
    (lambda: blas.dot22(T.dmatrix(), T.dvector()), "must have 2 dimensions"),
    (lambda: blas.ger(T.dmatrix(), 1.0, T.dvector()), "takes 4 inputs"),
])
def test_make_node_errors_name_the_input(build, message):
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("op, shapes, message", [
    (blas.gemm_no_inplace, [(2, 2), (), (2, 3), (4, 2), ()], "not aligned"),
    (blas.gemm_no_inplace, [(3, 2), (), (2, 3), (3, 2), ()], r"has shape \(2, 2\), but the updated input"),
    (blas.gemv_no_inplace, [(3,), (), (2, 3), (3,), ()], "updated input has shape"),
    (blas.dot22scalar, [(2, 3), (2, 3), ()], "Dot22Scalar: shapes"),
])
def test_perform_shape_errors_name_the_op(op, shapes, message):
    values = [np.ones(s) for s in shapes]
    node = op(*[T.TensorType("float64", (False,) * len(s))() for s in shapes]).owner
    with pytest.raises(ValueError, match=message):
        op.perform(node, values, [[None]])


# --------------------------------------------------------------------------- rules firing

# (case, input names, expression, the op class it becomes, NumPy meaning): one letter per
# input, with the shapes below (x @ y and z are 3 x 5; p is 5 x 4; u, w have 3 entries, v 4, t 5).
SHAPES = {"x": (3, 4), "y": (4, 5), "z": (3, 5), "u": (3,), "v": (4,), "w": (3,), "t": (5,), "a": (),
          "b": (), "p": (5, 4), "s": (3, 5)}
KINDS = {"x": "matrix", "y": "matrix", "z": "matrix", "u": "vector", "v": "vector", "w": "vector",
         "t": "vector", "a": "scalar", "b": "scalar", "p": "matrix", "s": "matrix"}

FIRING = [
    ("z + dot", "zxy", lambda z, x, y: z + T.dot(x, y), Gemm, lambda z, x, y: z + x @ y),
    ("dot + z", "zxy", lambda z, x, y: T.dot(x, y) + z, Gemm, lambda z, x, y: z + x @ y),
    ("z - dot", "zxy", lambda z, x, y: z - T.dot(x, y), Gemm, lambda z, x, y: z - x @ y),
    ("b*z + a*dot", "zxyab", lambda z, x, y, a, b: b * z + a * T.dot(x, y), Gemm,
     lambda z, x, y, a, b: b * z + a * (x @ y)),
    ("z - a*dot", "zxya", lambda z, x, y, a: z - a * T.dot(x, y), Gemm, lambda z, x, y, a: z - a * (x @ y)),
    ("constants", "zxy", lambda z, x, y: 2 * z - 3 * T.dot(x, y), Gemm, lambda z, x, y: 2 * z - 3 * (x @ y)),
    ("divided", "zxy", lambda z, x, y: z + T.dot(x, y) / 4, Gemm, lambda z, x, y: z + (x @ y) / 4),
    ("neg dot", "zxy", lambda z, x, y: -T.dot(x, y) + z, Gemm, lambda z, x, y: z - x @ y),
    ("broadcast scalar", "zxya", lambda z, x, y, a: z + a.dimshuffle("x", "x") * T.dot(x, y), Gemm,
     lambda z, x, y, a: z + a * (x @ y)),
    ("nested scale", "zxy", lambda z, x, y: z - 0.5 * (T.dot(x, y) + 0.25 * z), Gemm,
     lambda z, x, y: z - 0.5 * (x @ y + 0.25 * z)),
    ("scaled sum", "zxya", lambda z, x, y, a: a * (z + T.dot(x, y)), Gemm,
     lambda z, x, y, a: a * (z + x @ y)),
    ("extra terms", "zxys", lambda z, x, y, s: z + T.dot(x, y) - s * 2, Gemm,
     lambda z, x, y, s: z + x @ y - 2 * s),
    ("transposed", "zxp", lambda z, x, p: z + T.dot(x, p.T), Gemm, lambda z, x, p: z + x @ p.T),
    ("two dots", "zxyp", lambda z, x, y, p: z + T.dot(x, y) + T.dot(x, p.T), Gemm,
     lambda z, x, y, p: z + x @ y + x @ p.T),
    ("gemv", "wxv", lambda w, x, v: w + T.dot(x, v), Gemv, lambda w, x, v: w + x @ v),
    ("gemv scaled", "wxva", lambda w, x, v, a: w - a * T.dot(x, v), Gemv, lambda w, x, v, a: w - a * (x @ v)),
    ("gemv vector.matrix", "vyt", lambda v, y, t: t + T.dot(v, y), Gemv, lambda v, y, t: t + v @ y),
    ("ger", "xuv", lambda x, u, v: x + T.outer(u, v), Ger, lambda x, u, v: x + np.outer(u, v)),
    ("ger scaled", "xuva", lambda x, u, v, a: x - a * T.outer(u, v), Ger,
     lambda x, u, v, a: x - a * np.outer(u, v)),
    ("outer with scaled z", "xuv", lambda x, u, v: 2 * x + T.outer(u, v), Gemm,
     lambda x, u, v: 2 * x + np.outer(u, v)),
    ("dot22", "xy", lambda x, y: T.dot(x, y), Dot22, lambda x, y: x @ y),
    ("dot22scalar", "xya", lambda x, y, a: a * T.dot(x, y), Dot22Scalar, lambda x, y, a: a * (x @ y)),
    ("dot22 times constant", "xy", lambda x, y: T.dot(x, y) * 2, Dot22Scalar, lambda x, y: 2 * (x @ y)),
    ("dot22 negated", "xy", lambda x, y: -T.dot(x, y), Dot22Scalar, lambda x, y: -(x @ y)),
]
FIRING_IDS = [case[0] for case in FIRING]


def inputs_for(names, dtype, rng, shapes=SHAPES, layout="contiguous"):
    """Symbolic inputs and values for the named inputs; ``layout`` makes the arrays views."""
    symbols = [variable(KINDS[n], dtype, n) for n in names]
    values = []
    for n in names:
        shape = shapes[n]
        if layout == "transposed" and len(shape) == 2:
            value = random_array(shape[::-1], dtype, rng).T
        elif layout == "strided" and shape:
            every_other = (slice(None, None, 2),) * len(shape)
            value = random_array(tuple(2 * d for d in shape), dtype, rng)[every_other]
        else:
            value = random_array(shape, dtype, rng)
        values.append(value)
    return symbols, values


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case, names, build, op_class, meaning", FIRING, ids=FIRING_IDS)
def test_rule_fires_and_values_match(case, names, build, op_class, meaning, dtype, layout):
    symbols, values = inputs_for(names, dtype, np.random.default_rng(0), layout=layout)
    out = build(*symbols)
    fast, reference = compile_both(symbols, out)
    found = op_types(fast)
    assert op_class in found, f"{case}: expected {op_class.__name__} in {sorted(t.__name__ for t in found)}"
    assert Dot not in found
    expected = reference(*values)
    assert_close(fast(*values), expected, dtype)
    np.testing.assert_allclose(expected, meaning(*values), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("case, names, build, op_class, meaning", FIRING, ids=FIRING_IDS)
def test_rule_fires_on_empty_operands(case, names, build, op_class, meaning):
    empty = {name: tuple(0 for _ in shape) for name, shape in SHAPES.items()}
    symbols, values = inputs_for(names, "float64", np.random.default_rng(0), shapes=empty)
    fast, reference = compile_both(symbols, build(*symbols))
    assert op_class in op_types(fast)
    assert_close(fast(*values), reference(*values), "float64")


@pytest.mark.parametrize("case, names, build, op_class, meaning", FIRING[:5], ids=FIRING_IDS[:5])
def test_gemm_absorbs_the_add_and_the_scaling(case, names, build, op_class, meaning):
    symbols, _ = inputs_for(names, "float64", np.random.default_rng(0))
    fast, _ = compile_both(symbols, build(*symbols))
    others = [node for node in fast.maker.fgraph.apply_nodes if node.op != blas.gemm_no_inplace]
    assert all(node.outputs[0].ndim == 0 for node in others), "only scalar work besides the Gemm"
    assert "dot_to_blas_update" in fast.maker.rewrite_history.rewrites_used()


def test_nested_scales_fold_into_the_coefficients():
    z, x, y = T.dmatrices("z", "x", "y")
    fast, _ = compile_both([z, x, y], z - 0.1 * (T.dot(x, y) + 0.02 * z))
    (node,) = fast.maker.fgraph.apply_nodes
    assert node.op == blas.gemm_no_inplace
    assert float(node.inputs[1].data) == pytest.approx(-0.1)
    assert float(node.inputs[4].data) == pytest.approx(0.998)


# --------------------------------------------------------------------------- rules staying away

# (case, build(x, y, z, r, c, a) -> outputs, the op classes that must not appear)
STAYING = [
    ("product used twice", lambda x, y, z, r, c, a: [z + T.dot(x, y), T.dot(x, y)], {Gemm}),
    ("row z broadcast over the product", lambda x, y, z, r, c, a: r + T.dot(x, y), {Gemm}),
    ("col z broadcast over the product", lambda x, y, z, r, c, a: c + T.dot(x, y), {Gemm}),
    ("scalar z", lambda x, y, z, r, c, a: a + T.dot(x, y), {Gemm}),
    ("matrix-vector product alone", lambda x, y, z, r, c, a: T.dot(x, y[:, 0]), {Gemv}),
    ("scaled product used twice", lambda x, y, z, r, c, a: [a * T.dot(x, y), T.dot(x, y)], {Dot22Scalar}),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case, build, absent", STAYING, ids=[c[0] for c in STAYING])
def test_rule_stays_away_and_values_match(case, build, absent, dtype):
    x, y, z, r, c = (variable(k, dtype, n) for k, n in
                     [("matrix", "x"), ("matrix", "y"), ("matrix", "z"), ("row", "r"), ("col", "c")])
    a = variable("scalar", dtype, "a")
    rng = np.random.default_rng(0)
    values = [random_array(s, dtype, rng) for s in [(3, 4), (4, 5), (3, 5), (1, 5), (3, 1), ()]]
    outputs = build(x, y, z, r, c, a)
    fast, reference = compile_both([x, y, z, r, c, a], outputs if isinstance(outputs, list) else [outputs])
    assert not absent & op_types(fast)
    for got, expected in zip(fast(*values), reference(*values)):
        assert_close(got, expected, dtype)


def test_row_z_matching_the_product_pattern_is_absorbed():
    """A row z is fine when the product is a row too (its first input is a row)."""
    z, x = T.drow("z"), T.drow("x")
    y = T.dmatrix("y")
    fast, reference = compile_both([z, x, y], z + T.dot(x, y))
    assert Gemm in op_types(fast)
    values = [np.ones((1, 3)), np.arange(4.0).reshape(1, 4), np.ones((4, 3))]
    assert_close(fast(*values), reference(*values), "float64")


@pytest.mark.parametrize("dtypes", [("int32", "int32", "int32"), ("float32", "float32", "float64"),
                                    ("float64", "float32", "float32")], ids="-".join)
def test_integer_and_mixed_dtypes_keep_dot(dtypes):
    x, y, z = (variable("matrix", d, n) for d, n in zip(dtypes, "xyz"))
    out = z + T.dot(x, y)
    fast, reference = compile_both([x, y, z], out)
    assert not {Gemm, Dot22Scalar} & op_types(fast)
    rng = np.random.default_rng(0)
    values = [random_array(s, d, rng) for s, d in zip([(3, 4), (4, 5), (3, 5)], dtypes)]
    got, expected = fast(*values), reference(*values)
    assert got.dtype == expected.dtype == out.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5)


# --------------------------------------------------------------------------- sums of products

# (case, input kinds, expression, NumPy meaning)
SUMS = [
    ("(u*w).sum()", "uw", lambda u, w: (u * w).sum(), lambda u, w: (u * w).sum()),
    ("(x*v).sum(axis=1)", "xv", lambda x, v: (x * v).sum(axis=1), lambda x, v: x @ v),
    ("(x*v[None,:]).sum(axis=1)", "xv", lambda x, v: (x * v.dimshuffle("x", 0)).sum(axis=1),
     lambda x, v: x @ v),
    ("(x*u[:,None]).sum(axis=0)", "xu", lambda x, u: (u.dimshuffle(0, "x") * x).sum(axis=0),
     lambda x, u: u @ x),
    ("(x*u[:,None]).sum(axis=-2)", "xu", lambda x, u: (x * u[:, None]).sum(axis=-2), lambda x, u: u @ x),
    ("three factors", "xv", lambda x, v: (x * (x + 1) * v).sum(axis=1), lambda x, v: (x * (x + 1)) @ v),
]


@pytest.mark.parametrize("empty", [False, True], ids=["full", "empty"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case, names, build, meaning", SUMS, ids=[c[0] for c in SUMS])
def test_sum_of_products_becomes_dot(case, names, build, meaning, dtype, empty):
    shapes = {n: tuple(0 for _ in s) for n, s in SHAPES.items()} if empty else SHAPES
    symbols, values = inputs_for(names, dtype, np.random.default_rng(0), shapes=shapes)
    fast, reference = compile_both(symbols, build(*symbols))
    found = op_types(fast)
    assert Dot in found and Sum not in found
    assert "sum_of_products_to_dot" in fast.maker.rewrite_history.rewrites_used()
    assert_close(fast(*values), reference(*values), dtype)
    np.testing.assert_allclose(reference(*values), meaning(*values), rtol=TOLERANCE[dtype], atol=1e-5)


@pytest.mark.parametrize("case, build", [
    ("rows of x times a row, summed over rows", lambda x, v, m: (x * v.dimshuffle("x", 0)).sum(axis=0)),
    ("two full matrices", lambda x, v, m: (x * m).sum(axis=1)),
    ("everything summed", lambda x, v, m: (x * v.dimshuffle("x", 0)).sum()),
])
def test_other_sums_of_products_stay(case, build):
    x, m, v = T.dmatrix("x"), T.dmatrix("m"), T.dvector("v")
    out = build(x, v, m)
    fast, reference = compile_both([x, v, m], out)
    assert Dot not in op_types(fast)
    values = [np.arange(12.0).reshape(3, 4), np.arange(4.0), np.ones((3, 4))]
    assert_close(fast(*values), reference(*values), "float64")


def test_integer_sum_of_products_keeps_its_wider_dtype():
    u, w = T.bvector("u"), T.bvector("w")
    fast, reference = compile_both([u, w], (u * w).sum())
    assert Dot not in op_types(fast)
    values = [np.full(3, 100, dtype="int8"), np.full(3, 100, dtype="int8")]
    assert fast(*values).dtype == reference(*values).dtype


# --------------------------------------------------------------------------- the tutorial's models


def logistic_regression(mode, features=7, samples=5):
    """The tutorial's training function (seeds 001, 004), small."""
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.dvector("y")
    w = theanolab.shared(rng.standard_normal(features), name="w")
    b = theanolab.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    with theanolab.config.change_flags(on_opt_error="raise"):
        train = theanolab.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                                   mode=mode)
    data = (rng.standard_normal((samples, features)), rng.integers(0, 2, samples).astype("float64"))
    return train, data, [w, b]


def mlp(mode, features=6, hidden=4, samples=5):
    """The slides' multi-layer perceptron training step (seed 004), small."""
    rng = np.random.default_rng(1)
    x, y = T.dmatrix("x"), T.dvector("y")
    w1 = theanolab.shared(rng.standard_normal((features, hidden)), name="w1")
    b1 = theanolab.shared(np.zeros(hidden), name="b1")
    w2 = theanolab.shared(rng.standard_normal(hidden), name="w2")
    b2 = theanolab.shared(0.0, name="b2")
    p_1 = T.nnet.sigmoid(T.dot(T.nnet.sigmoid(-T.dot(x, w1) - b1), w2) - b2)
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w2 ** 2).sum()
    params = [w1, b1, w2, b2]
    grads = T.grad(cost, params)
    with theanolab.config.change_flags(on_opt_error="raise"):
        train = theanolab.function([x, y], [p_1 > 0.5, xent],
                                   updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)], mode=mode)
    data = (rng.standard_normal((samples, features)), rng.integers(0, 2, samples).astype("float64"))
    return train, data, params


@pytest.mark.parametrize("model, expected", [(logistic_regression, {Gemv}), (mlp, {Gemm, Gemv})],
                         ids=["logistic regression", "mlp"])
def test_training_steps_use_blas_updates_and_train_alike(model, expected):
    fast, data, fast_params = model(FAST_RUN)
    reference, _, reference_params = model(NO_REWRITES)
    assert expected <= op_types(fast)
    for _ in range(3):
        for got, want in zip(fast(*data), reference(*data)):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for got, want in zip(fast_params, reference_params):
        np.testing.assert_allclose(got.get_value(), want.get_value(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- in place

# (case, build(z, x, y, u, v, w) -> outputs, the in-place op expected, or None where it must not be)
IN_PLACE = [
    ("Gemm on a temporary", lambda z, x, y, u, v, w: T.exp(z) + T.dot(x, y), blas.gemm_inplace),
    ("Gemv on a temporary", lambda z, x, y, u, v, w: T.exp(w) + T.dot(x, v), blas.gemv_inplace),
    ("Ger on a temporary", lambda z, x, y, u, v, w: T.exp(z) - T.outer(w, u), blas.ger_destructive),
    ("z is a function input", lambda z, x, y, u, v, w: z + T.dot(x, y), None),
    ("z is needed elsewhere", lambda z, x, y, u, v, w: [T.exp(z) + T.dot(x, y), T.exp(z)], None),
    ("z is an operand too", lambda z, x, y, u, v, w: T.exp(x) + T.dot(T.exp(x), T.exp(x)), None),
]


@pytest.mark.parametrize("case, build, inplace_op", IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_updates_write_in_place_only_where_allowed(case, build, inplace_op):
    names = ("z", "x", "y", "u", "v", "w")
    shapes = {"z": (3, 5), "x": (3, 3) if case == "z is an operand too" else (3, 4), "y": (4, 5),
              "u": (5,), "v": (4,), "w": (3,)}
    symbols = [variable(KINDS.get(n, "vector"), "float64", n) for n in names]
    rng = np.random.default_rng(0)
    values = [random_array(shapes[n], "float64", rng) for n in names]
    originals = [v.copy() for v in values]
    outputs = build(*symbols)
    fast, reference = compile_both(symbols, outputs if isinstance(outputs, list) else [outputs])
    ops = {node.op for node in fast.maker.fgraph.apply_nodes}
    if inplace_op is None:
        assert not any(getattr(op, "inplace", False) for op in ops)
        assert {blas.gemm_no_inplace, blas.gemv_no_inplace, blas.ger} & ops, "an update, not in place"
    else:
        assert inplace_op in ops
    for got, expected in zip(fast(*values), reference(*values)):
        assert_close(got, expected, "float64")
    for value, original in zip(values, originals):
        np.testing.assert_array_equal(value, original)


# --------------------------------------------------------------------------- cache order

# (case, build(A, x, g) -> outputs, whether A @ x is read bottom-up)
BOTTOM_UP = [
    ("gradient pass through Gemv", lambda A, x, g: [T.dot(A, x), g - 0.1 * T.dot(A.T, g[:3])], True),
    ("gradient pass through dot(A.T, g)", lambda A, x, g: [T.dot(A, x), T.dot(A.T, g[:3])], True),
    ("gradient pass through dot(g, A)", lambda A, x, g: [T.dot(A, x), T.dot(g[:3], A)], True),
    ("a lone forward pass", lambda A, x, g: [T.dot(A, x)], False),
    ("two forward passes", lambda A, x, g: [T.dot(A, x), T.dot(A, g)], False),
]


@pytest.mark.parametrize("case, build, bottom_up", BOTTOM_UP, ids=[c[0] for c in BOTTOM_UP])
def test_reuse_cached_rows_reads_the_forward_pass_bottom_up(case, build, bottom_up):
    A, x, g = T.dmatrix("A"), T.dvector("x"), T.dvector("g")
    fast, reference = compile_both([A, x, g], build(A, x, g))
    forward = [node.op for node in fast.maker.fgraph.apply_nodes
               if isinstance(node.op, Dot) and node.inputs[0].ndim == 2 and node.inputs[1].ndim == 1
               and node.inputs[0] is fast.maker.fgraph.inputs[0]]
    assert [op.bottom_up for op in forward] == [bottom_up] * len(forward) and forward
    assert ("dot{bottom-up}" in str(forward[0])) == bottom_up
    rng = np.random.default_rng(0)
    values = [random_array((3, 5), "float64", rng), random_array((5,), "float64", rng),
              random_array((5,), "float64", rng)]
    for got, expected in zip(fast(*values), reference(*values)):
        assert_close(got, expected, "float64")


def test_the_tutorial_step_reads_its_inputs_bottom_up_then_top_down():
    train, data, _ = logistic_regression(FAST_RUN)
    products = [str(node.op) for node in train.maker.fgraph.toposort() if isinstance(node.op, (Dot, Gemv))]
    assert products == ["dot{bottom-up}", "Gemv{inplace}"]
    assert Dot(bottom_up=True) != Dot() and Dot(bottom_up=True) == Dot(True)
