"""Elementwise fusion and the Composite scalar op it builds.

Values of a fused function are compared bit for bit with the same rewrites
minus fusion (fusing must not change a single digit), and within tolerance
with the unrewritten graph.  Arrays are small; the ``blocked`` fixture shrinks
``composite.BLOCK`` so the block-by-block evaluation runs on them too.
"""

import pickle

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.graph.basic import io_toposort
from helpers import random_array
from theanolab import scalar as ts
from theanolab.compile.mode import Mode, get_mode
from theanolab.gradient import verify_grad
from theanolab.printing import debugprint, pp, to_dot
from theanolab.scalar.composite import Composite
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.rewriting.fusion import MAX_GROUP_NODES, MAX_INPUTS, chain_length

FUSED = get_mode("FAST_RUN")
SINGLE_OUTPUT = get_mode("FAST_RUN").excluding("multi_output_fusion")
UNFUSED = get_mode("FAST_RUN").excluding("fusion")
NO_REWRITES = Mode(linker="py", optimizer=None)  # NumPy semantics: compared bit for bit




def scalars(*dtypes):
    return [ts.ScalarType(dtype)() for dtype in dtypes]


def elemwise_nodes(f):
    return [node for node in f.maker.fgraph.apply_nodes if isinstance(node.op, Elemwise)]


def composites(f):
    return [node for node in elemwise_nodes(f) if isinstance(node.op.scalar_op, Composite)]


def compile_three(inputs, output):
    return [theanolab.function(inputs, output, mode=mode) for mode in (FUSED, UNFUSED, NO_REWRITES)]


def assert_same_as_unfused(inputs, output, values):
    """One fused node; bit-identical to the same graph unfused; close to the unrewritten one."""
    fused, unfused, plain = compile_three(inputs, output)
    assert len(elemwise_nodes(fused)) == 1 < len(elemwise_nodes(unfused)), fused.maker.fgraph
    assert "elemwise_fusion" in fused.maker.rewrite_history.rewrites_used()
    with np.errstate(all="ignore"):
        got, exact, reference = fused(*values), unfused(*values), plain(*values)
    assert got.dtype == exact.dtype == reference.dtype and got.shape == exact.shape
    np.testing.assert_array_equal(got, exact)
    # The C backend's vector math may differ by an ulp, which cancellation can make relatively large.
    atol = 50 * np.finfo(got.dtype).eps if got.dtype.kind == "f" else 0
    np.testing.assert_allclose(got, reference, rtol=1e-5 if got.dtype.kind == "f" else 0, atol=atol)
    return fused


# ============================================================================ Composite


NAMES = [
    ("binary", ("float64",) * 3, lambda x, y, z: [ts.mul(ts.add(x, y), z)], "Composite{((i0 + i1) * i2)}"),
    ("n-ary and unary", ("float64",) * 3, lambda x, y, z: [ts.add(x, ts.neg(y), ts.exp(z))],
     "Composite{(i0 + (-i1) + exp(i2))}"),
    ("class-named ops", ("float64",) * 3, lambda x, y, z: [ts.switch(ts.gt(x, y), ts.abs_(z), ts.Cast("float32")(x))],
     "Composite{Switch(GT(i0, i1), Abs(i2), Cast{float32}(i0))}"),
    ("constant", ("int8",), lambda x: [ts.int_div(x, np.int8(3))], "Composite{(i0 // 3)}"),
    ("two outputs", ("float64",) * 2, lambda x, y: [ts.exp(x), ts.pow(x, y)], "Composite{exp(i0), (i0 ** i1)}"),
]


@pytest.mark.parametrize("dtypes, build, expected", [n[1:] for n in NAMES], ids=[n[0] for n in NAMES])
def test_composite_is_named_like_theano(dtypes, build, expected):
    inputs = scalars(*dtypes)
    op = Composite(inputs, build(*inputs))
    assert str(op) == expected
    assert [v.name for v in op.inner_inputs] == [f"i{k}" for k in range(len(dtypes))]
    assert (op.nin, op.nout) == (len(dtypes), len(op.inner_outputs))


def test_composite_equality_hash_and_pickle():
    def build(constant=2.0):
        x, y = scalars("float64", "float32")
        return Composite([x, y], [ts.mul(ts.add(x, y), np.float64(constant))])

    first, second = build(), build()
    assert first == second and hash(first) == hash(second)
    assert Elemwise(first) == Elemwise(second)
    assert first != build(3.0)
    x, y = scalars("float64", "float64")
    assert first != Composite([x, y], [ts.mul(ts.add(x, y), np.float64(2.0))])  # another input dtype
    restored = pickle.loads(pickle.dumps(first))
    assert restored == first and str(restored) == str(first)
    values = (np.arange(5.0), np.ones(5, "float32"))
    np.testing.assert_array_equal(restored.impl(*values), first.impl(*values))


def test_composite_dtypes_come_from_the_inner_graph():
    i, f = scalars("int8", "float32")
    op = Composite([i, f], [ts.add(i, f), ts.lt(i, f), ts.true_div(i, i)])
    assert op.output_types(["int8", "float32"]) == ["float32", "bool", "float64"]
    node = Elemwise(op).make_node(T.bvector(), T.fvector())
    assert [out.dtype for out in node.outputs] == ["float32", "bool", "float64"]
    with pytest.raises(TypeError, match=r"takes inputs of dtypes \(int8, float32\), got \(int8, float64\)"):
        Elemwise(op).make_node(T.bvector(), T.dvector())


@pytest.mark.parametrize("inputs, outputs, error, message", [
    (lambda x, y: [x, T.dscalar()], lambda x, y: [x], TypeError, "input 1 .* must be a scalar variable"),
    (lambda x, y: [x, x], lambda x, y: [x], ValueError, "appears twice"),
    (lambda x, y: [x], lambda x, y: [ts.add(x, y)], ValueError, "neither an input nor a constant"),
    (lambda x, y: [x, y], lambda x, y: [], ValueError, "at least one output"),
], ids=["tensor input", "repeated input", "missing input", "no output"])
def test_composite_rejects_bad_graphs(inputs, outputs, error, message):
    x, y = scalars("float64", "float64")
    with pytest.raises(error, match=message):
        Composite(inputs(x, y), outputs(x, y))


# A table of inner graphs: (id, input dtypes, build).  Each is evaluated by Composite.impl and,
# node by node, by the unfused Elemwise ops; the two must agree exactly, whichever path runs.
GRAPHS = [
    ("arithmetic", ("float64", "float64"), lambda x, y: [ts.sub(ts.mul(ts.add(x, y), y), ts.true_div(x, y))]),
    ("n-ary add of mixed dtypes", ("int8", "int16", "float32"), lambda a, b, c: [ts.add(a, b, c)]),
    ("overflowing int8 add then float", ("int8", "int8", "float64"), lambda a, b, c: [ts.add(ts.add(a, b), c)]),
    ("float ops on ints", ("int16", "int32"), lambda a, b: [ts.mul(ts.exp(ts.true_div(a, b)), ts.sqrt(b))]),
    ("float ops on int8", ("int8", "uint8"), lambda a, b: [ts.add(ts.exp(ts.neg(a)), ts.log1p(b))]),
    ("bool and int logic", ("bool", "int8"), lambda b, i: [ts.add(ts.and_(b, ts.gt(i, np.int8(0))), i)]),
    ("integer division", ("int32", "int8"), lambda i, j: [ts.add(ts.int_div(i, j), ts.mod(i, j))]),
    ("switch and cast", ("float32", "int64"), lambda f, i: [ts.switch(ts.gt(f, np.float32(0)), f,
                                                                    ts.Cast("float32")(i))]),
    ("integer power", ("int16", "int8"), lambda i, j: [ts.add(ts.pow(i, j), i)]),
    ("python-level ops", ("float64",), lambda x: [ts.mul(ts.erf(x), ts.sqr(x)), ts.round_half_away_from_zero(x)]),
    ("fill and identity", ("float64", "float32"), lambda x, y: [ts.identity(ts.second(x, y))]),
]


def unfused_values(inputs, outputs, values):
    """The inner graph run as separate Elemwise ops on whole arrays."""
    fgraph_inputs = [T.TensorType(v.type.dtype, (False,))() for v in inputs]
    op = Composite(inputs, outputs)
    expanded = op.expand(fgraph_inputs)
    return theanolab.function(fgraph_inputs, expanded, mode=NO_REWRITES)(*values)


@pytest.mark.parametrize("dtypes, build", [g[1:] for g in GRAPHS], ids=[g[0] for g in GRAPHS])
@pytest.mark.parametrize("size", [0, 1, 150])
def test_composite_values_equal_the_unfused_ops_exactly(dtypes, build, size, blocked):
    inputs = scalars(*dtypes)
    outputs = build(*inputs)
    rng = np.random.default_rng(size)
    values = [random_array((size,), dtype, rng) for dtype in dtypes]
    op = Composite(inputs, outputs)
    with np.errstate(all="ignore"):
        got = op.impl(*values)
        expected = unfused_values(inputs, outputs, values)
    for g, e in zip(got if op.nout > 1 else [got], expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("layout", ["C", "F", "strided", "broadcast", "size-one"])
def test_composite_on_every_array_layout(layout, blocked):
    x, y = scalars("float64", "float64")
    op = Composite([x, y], [ts.add(ts.mul(ts.exp(x), y), x)])
    base = random_array((20, 30), "float64", np.random.default_rng(1))
    other = random_array((20, 30), "float64", np.random.default_rng(2))
    a, b = {"C": (base, other), "F": (np.asfortranarray(base), np.asfortranarray(other)),
            "strided": (base[::2, ::3], other[1::2, ::3]), "broadcast": (base[:1], other[:, :1]),
            "size-one": (base, other[:1, :1])}[layout]
    result = op.impl(a, b)
    np.testing.assert_array_equal(result, np.exp(a) * b + a)
    if layout == "F":
        assert result.flags.f_contiguous


def test_composite_never_returns_its_input_memory():
    x, y = scalars("float64", "float64")
    op = Composite([x, y], [x, ts.exp(y), x])
    a, b = np.arange(3.0), np.zeros(3)
    first, _, third = op.impl(a, b)
    assert not np.shares_memory(first, a) and not np.shares_memory(first, third)
    np.testing.assert_array_equal(first, a)


def test_composite_gradient():
    x, y = scalars("float64", "float64")
    op = Elemwise(Composite([x, y], [ts.mul(ts.exp(ts.neg(x)), ts.add(x, y))]))
    verify_grad(lambda a, b: op(a, b), [np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])],
                rng=np.random.default_rng(0))


# ============================================================================ the fusion rule


def test_fusion_prints_like_theano():
    x, y, z = T.dvectors("x", "y", "z")
    # On the reference backend, so the lines keep Theano's format (no [C] marks).
    f = theanolab.function([x, y, z], (x + y) * z, mode=Mode(linker="py", optimizer="fast_run"))
    text = debugprint(f, file="str")
    assert text.splitlines()[:4] == ["Elemwise{Composite{((i0 + i1) * i2)}} [id A] ''   0",
                                     " |x [id B]", " |y [id C]", " |z [id D]"]
    assert " >mul [id E] ''   " in text.splitlines()  # the inner graph, under "Inner graphs:"
    assert pp(f) == "Composite{((i0 + i1) * i2)}(x, y, z)"
    assert "cluster_n0" in to_dot(f)


# (id, input types, expression)
EXPRESSIONS = [
    ("chain", (T.dvector,), lambda x: T.exp(-x) * 2 + 1),
    ("tree", (T.dvector,) * 3, lambda x, y, z: (x + y) * z - x / y),
    ("reused subexpression", (T.dvector,) * 3, lambda x, y, z: (x + y) * z + (x + y) ** 2),
    ("benchmark expression", (T.dvector,) * 2, lambda x, y: x * y + T.exp(-x) * T.tanh(y) - 0.5 * y ** 2),
    ("nnet functions", (T.fvector,) * 2, lambda x, y: T.nnet.sigmoid(x) * T.tanh(y) + T.log1p(abs(x))),
    ("float32 and int8", (T.fvector, T.bvector), lambda f, i: f * i + i * 3),
    ("bool and int", (T.bvector, T.ivector), lambda b, i: (b & (i > 0)) * i + b),
    ("integer arithmetic", (T.ivector, T.ivector), lambda i, j: (i // 3) * j + i % 3),
    ("uint8", (T.vector("u", dtype="uint8").type,) * 2, lambda u, v: (u + v) * 2 - v),
    ("switch", (T.dvector, T.lvector), lambda x, i: T.switch(x > 0, x, T.cast(i, "float64")) * 2),
]


@pytest.mark.parametrize("types, expression", [e[1:] for e in EXPRESSIONS], ids=[e[0] for e in EXPRESSIONS])
@pytest.mark.parametrize("size", [0, 200])
def test_fusion_makes_one_node_with_the_unfused_values(types, expression, size, blocked):
    inputs = [make() for make in types]
    rng = np.random.default_rng(size)
    values = [random_array((size,), v.dtype, rng) for v in inputs]
    assert_same_as_unfused(inputs, expression(*inputs), values)


@pytest.mark.parametrize("layout", ["broadcasting", "strided", "fortran", "empty"])
def test_fusion_on_matrices(layout, blocked):
    m, row, col = T.dmatrix("m"), T.drow("r"), T.dcol("c")
    rng = np.random.default_rng(3)
    big = random_array((12, 40), "float64", rng)
    matrix = {"broadcasting": big[:6, :20], "strided": big[::2, ::2], "fortran": np.asfortranarray(big[:6, :20]),
              "empty": big[:0, :20]}[layout]
    values = [matrix, random_array((1, 20), "float64", rng), random_array((matrix.shape[0], 1), "float64", rng)]
    assert_same_as_unfused([m, row, col], T.tanh(m * row + col) - m, values)


def test_fusion_stops_at_shared_values_and_other_ops():
    x, y = T.dvectors("x", "y")
    shared_value = T.exp(x) + y               # read by two nodes: computed once, kept
    total = (x * 2).sum()                     # a reduction ends a region
    outputs = [shared_value * 2, shared_value - 1, T.tanh(y) * total]
    f = theanolab.function([x, y], outputs, mode=SINGLE_OUTPUT)
    names = [str(node.op) for node in f.maker.fgraph.apply_nodes]
    assert sum("exp" in name for name in names) == 1
    assert "Elemwise{Composite{(exp(i0) + i1)}}" in names
    [reduction] = [node for node in f.maker.fgraph.apply_nodes if str(node.op).startswith("Sum")]
    assert isinstance(reduction.inputs[0].owner.op, Elemwise)
    values = [np.arange(4.0), np.ones(4)]
    for got, expected in zip(f(*values), theanolab.function([x, y], outputs, mode=NO_REWRITES)(*values)):
        np.testing.assert_allclose(got, expected)


# ============================================================================ several outputs


def test_nodes_feeding_each_other_become_one_node_with_several_outputs():
    x, y = T.dvectors("x", "y")
    shared_value = T.exp(x) + y               # read by two nodes: one loop computes all three
    outputs = [shared_value * 2, shared_value - 1, T.tanh(y) * (x * 2).sum()]
    f = theanolab.function([x, y], outputs, mode=FUSED)
    [fused] = [node for node in composites(f) if len(node.outputs) == 2]
    inner = fused.op.scalar_op
    exps = [n for n in io_toposort(inner.inner_inputs, inner.inner_outputs) if n.op == ts.exp]
    assert len(exps) == 1 and "multi_output_fusion" in f.maker.rewrite_history.rewrites_used()
    assert {out.owner for out in f.maker.fgraph.outputs[:2]} == {fused}
    values = [np.arange(4.0), np.ones(4)]
    single = theanolab.function([x, y], outputs, mode=SINGLE_OUTPUT)
    for got, exact, reference in zip(f(*values), single(*values),
                                     theanolab.function([x, y], outputs, mode=NO_REWRITES)(*values)):
        np.testing.assert_array_equal(got, exact)
        np.testing.assert_allclose(got, reference)


def test_a_node_that_waits_for_a_reduction_of_the_group_stays_out():
    """tanh(x) feeds a sum, and tanh(x) * sum(tanh(x)) needs both: one node would wait for itself."""
    x = T.dvector("x")
    a = T.tanh(x)
    outputs = [a * a.sum() + 1, a - 3]
    f = theanolab.function([x], outputs, mode=FUSED)
    [total] = [n for n in f.maker.fgraph.apply_nodes if str(n.op).startswith("Sum")]
    [producer] = [n for n in elemwise_nodes(f) if n.outputs[0].ndim == 1 and total in
                  [c for out in n.outputs for c, _ in f.maker.fgraph.clients[out]]]
    assert len(producer.outputs) == 2                          # tanh(x) and tanh(x) - 3: one loop
    assert f.maker.fgraph.outputs[0].owner is not producer     # the product waits for the sum
    values = np.linspace(-1, 1, 7)
    for got, reference in zip(f(values), theanolab.function([x], outputs, mode=NO_REWRITES)(values)):
        np.testing.assert_allclose(got, reference, rtol=1e-12)


def test_groups_keep_one_broadcast_pattern_and_a_bounded_size():
    x, row = T.dmatrix("x"), T.drow("r")
    e = T.exp(row)                                          # a row: a loop of its own shape
    chain = [T.tanh(x) + e]
    for k in range(2 * MAX_GROUP_NODES):
        chain.append(chain[-1] * 0.5 + k)                   # every value an output: each node stays a node
    f = theanolab.function([x, row], [e] + chain, mode=FUSED)
    for node in elemwise_nodes(f):
        assert len({out.broadcastable for out in node.outputs}) == 1
    assert all(len(node.outputs) <= MAX_GROUP_NODES for node in elemwise_nodes(f))
    assert 2 <= len([n for n in elemwise_nodes(f) if n.outputs[0].broadcastable == (False, False)]) <= 6
    values = [np.linspace(0, 1, 6).reshape(2, 3), np.ones((1, 3))]
    for got, reference in zip(f(*values), theanolab.function([x, row], [e] + chain, mode=NO_REWRITES)(*values)):
        np.testing.assert_allclose(got, reference, rtol=1e-9)


def test_a_group_never_chains_two_math_calls():
    x = T.dvector("x")
    first = T.tanh(x)
    second = T.exp(first)                       # reads a math call's result with a math call: stays apart
    scaled = first * 2 - 1                      # cheap work on it joins it
    f = theanolab.function([x], [first, second, scaled], mode=FUSED)
    loops = elemwise_nodes(f)
    assert [chain_length(n.op.scalar_op) for n in loops] == [1, 1] and sorted(len(n.outputs) for n in loops) == [1, 2]
    values = np.linspace(-2, 2, 9)
    for got, reference in zip(f(values), theanolab.function([x], [first, second, scaled], mode=NO_REWRITES)(values)):
        np.testing.assert_allclose(got, reference, rtol=1e-12)


def test_the_tutorial_step_runs_its_elementwise_work_in_one_loop():
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = theanolab.shared(np.linspace(-1, 1, 5), name="w"), theanolab.shared(0.5, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    gw, gb = T.grad(xent.mean() + 0.01 * (w ** 2).sum(), [w, b])
    f = theanolab.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=FUSED)
    vector_loops = [n for n in elemwise_nodes(f) if n.outputs[0].broadcastable == (False,)]
    assert len(vector_loops) == 1 and len(vector_loops[0].outputs) == 3


def test_a_lone_elemwise_is_not_fused():
    x = T.dvector("x")
    f = theanolab.function([x], T.exp(x), mode=FUSED)
    assert composites(f) == [] and "elemwise_fusion" not in f.maker.rewrite_history.rewrites_used()


def test_fusion_respects_the_input_limit():
    xs = T.dvectors(*[f"x{k}" for k in range(MAX_INPUTS + 8)])
    total = xs[0] * 1.5
    for x in xs[1:]:
        total = T.tanh(total) * x  # a chain: each step brings one more input
    f = theanolab.function(xs, total, mode=FUSED)
    assert len(composites(f)) >= 2
    assert all(len(node.inputs) <= MAX_INPUTS for node in composites(f))
    values = [np.full(3, 0.1 * k) for k in range(len(xs))]
    np.testing.assert_allclose(f(*values), theanolab.function(xs, total, mode=NO_REWRITES)(*values))


def test_fused_composites_merge():
    x, y = T.dvectors("x", "y")
    inner = Elemwise(Composite(*(lambda a, b: ([a, b], [ts.mul(ts.add(a, b), a)]))(*scalars("float64", "float64"))))
    expression = T.exp(inner(x, y)) + inner(y, x) * 2
    f = assert_same_as_unfused([x, y], expression, [np.arange(5.0), np.ones(5)])
    [node] = composites(f)
    name = str(node.op)  # both composites opened into one: no Composite inside the Composite
    assert name.count("Composite") == 1 and "exp(((i0 + i1) * i0))" in name and "((i1 + i0) * i1)" in name


def test_fused_graph_is_replayed_by_the_history():
    x, y = T.dvectors("x", "y")
    f = theanolab.function([x, y], T.exp(x * y) + y, mode=FUSED)
    history = f.maker.rewrite_history
    last = history.graph_at(len(history))
    assert sorted(str(n.op) for n in last.apply_nodes) == sorted(str(n.op) for n in f.maker.fgraph.apply_nodes)
    same_backend = Mode(linker=f.maker.mode.linker, optimizer=None)  # C and NumPy exp may differ by an ulp
    replayed = theanolab.function(last.inputs, last.outputs, mode=same_backend)
    np.testing.assert_array_equal(replayed(np.arange(3.0), np.ones(3))[0], f(np.arange(3.0), np.ones(3)))
