"""Specialization rules: pow with a known exponent, x*x and -1*x become cheaper ops.

Each case checks the new op is in the compiled graph (the pow or mul is
gone), and that values and dtypes equal the unrewritten graph's, for float
and integer inputs and a broadcast exponent.
"""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from helpers import random_array
from theanolab import Mode
from theanolab.config import change_flags
from theanolab.tensor.elemwise import Elemwise

REWRITE = Mode(optimizer="fast_run").excluding("fusion", "inplace")
NONE = Mode(optimizer=None)


def compile_both(inputs, output, mode=REWRITE):
    with change_flags(on_opt_error="raise"):
        rewritten = theanolab.function(inputs, output, mode=mode)
    return rewritten, theanolab.function(inputs, output, mode=NONE)


def scalar_ops(f):
    return [str(n.op.scalar_op) for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


def assert_same(rewritten, plain, values):
    got, want = rewritten(*values), plain(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


# exponent, the ops expected in the graph (pow gone)
POWERS = [(2, ["sqr"]), (0.5, ["sqrt"]), (-1, ["inv"]), (-0.5, ["sqrt", "inv"]), (1, []), (0, [])]
DTYPES = ["float32", "float64", "int8", "int32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent, expected", POWERS, ids=[str(p[0]) for p in POWERS])
def test_pow_with_a_known_exponent(exponent, expected, dtype):
    a = T.matrix("a", dtype=dtype)
    out = a ** exponent
    rewritten, plain = compile_both([a], out)
    assert "pow_specialize" in rewritten.maker.rewrite_history.rewrites_used()
    ops = [op for op in scalar_ops(rewritten) if not op.startswith("Cast")]
    assert ops == expected, scalar_ops(rewritten)
    assert rewritten.maker.fgraph.outputs[0].type == out.type
    value = random_array((3, 4), dtype, low=1, high=5)
    assert_same(rewritten, plain, [value])
    assert_same(rewritten, plain, [np.zeros((0, 4), dtype=dtype)])


def test_pow_zero_keeps_the_shape_of_x():
    a = T.dmatrix("a")
    rewritten, plain = compile_both([a], a ** 0)
    assert rewritten(np.ones((2, 3))).shape == (2, 3)


def test_a_broadcast_exponent_keeps_the_broadcast_shape():
    a = T.drow("a")
    exponent = T.constant(np.full((3, 1), 2.0))
    rewritten, plain = compile_both([a], a ** exponent)
    assert "sqr" in scalar_ops(rewritten)
    assert_same(rewritten, plain, [np.arange(4.0).reshape(1, 4)])
    assert rewritten(np.arange(4.0).reshape(1, 4)).shape == (3, 4)


def test_other_exponents_stay_pow():
    a = T.dvector("a")
    rewritten, plain = compile_both([a], a ** 3.5)
    assert scalar_ops(rewritten) == ["pow"]


@pytest.mark.parametrize("dtype", ["float64", "int8", "uint8", "bool"])
def test_x_times_x_is_sqr(dtype):
    a = T.vector("a", dtype=dtype)
    rewritten, plain = compile_both([a], a * a)
    assert scalar_ops(rewritten) == ["sqr"]
    assert "mul_self_to_sqr" in rewritten.maker.rewrite_history.rewrites_used()
    assert_same(rewritten, plain, [random_array((5,), dtype)])


def test_a_repeated_factor_among_others_is_squared():
    a, c = T.dvectors("a", "c")
    rewritten, plain = compile_both([a, c], a * c * a)
    assert sorted(scalar_ops(rewritten)) == ["mul", "sqr"]
    assert_same(rewritten, plain, [np.arange(3.0), np.arange(3.0) + 1])


@pytest.mark.parametrize("dtype", ["float64", "int32", "uint8"])
def test_minus_one_times_x_is_neg(dtype):
    a = T.vector("a", dtype=dtype)
    rewritten, plain = compile_both([a], -1 * a)
    assert [op for op in scalar_ops(rewritten) if not op.startswith("Cast")] == ["neg"]
    assert "mul_minus_one_to_neg" in rewritten.maker.rewrite_history.rewrites_used()
    assert_same(rewritten, plain, [random_array((5,), dtype)])


def test_minus_one_times_a_product_is_its_negation():
    a, c = T.dvectors("a", "c")
    rewritten, plain = compile_both([a, c], a * -1 * c)
    assert sorted(scalar_ops(rewritten)) == ["mul", "neg"]
    assert_same(rewritten, plain, [np.arange(3.0), np.arange(3.0) + 1])


def test_specialization_is_not_in_fast_compile():
    a = T.dvector("a")
    with change_flags(on_opt_error="raise"):
        f = theanolab.function([a], [a ** 2, a * a, -1 * a], mode="FAST_COMPILE")
    used = f.maker.rewrite_history.rewrites_used()
    assert not {"pow_specialize", "mul_self_to_sqr", "mul_minus_one_to_neg"} & set(used)
    assert sorted(scalar_ops(f)) == ["mul", "mul", "pow"]


def test_the_seed_gradient_runs_in_fast_run():
    """grad(x ** 2) holds x ** (2 - 1): folded to x ** 1, specialized to x."""
    a = T.dscalar("x")
    f, plain = compile_both([a], T.grad(a ** 2, a), mode="FAST_RUN")
    assert "pow" not in scalar_ops(f)
    assert f(4.0) == plain(4.0) == 8.0


def test_negations_cancel_in_pairs():
    a, c, d = T.dvectors("a", "c", "d")
    rewritten, plain = compile_both([a, c, d], (-a) * (-c) * (-d))
    assert "mul_of_negations" in rewritten.maker.rewrite_history.rewrites_used()
    assert sorted(scalar_ops(rewritten)) == ["mul", "neg"]
    assert_same(rewritten, plain, [np.arange(3.0), np.arange(3.0) + 1, np.arange(3.0) - 5])


def test_cleanups_run_again_after_specialization():
    """-1 * -x: the specialization writes neg(neg(x)), which the cleanup in this phase cancels."""
    a = T.dvector("a")
    rewritten, plain = compile_both([a], -1 * (-a))
    assert scalar_ops(rewritten) == []
    steps = [step.rewrite for step in rewritten.maker.rewrite_history]
    assert steps.index("neg_of_neg") > steps.index("mul_minus_one_to_neg")
    assert_same(rewritten, plain, [np.arange(3.0)])
