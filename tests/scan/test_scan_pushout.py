"""The scan rewrites moving work out of loops (theanolab/scan/pushout.py): each fires where it should,
not elsewhere, and changes no value (compared with the same graph compiled without the rule), on
whichever linker THEANOLAB_FLAGS selects (run the file under linker=py and linker=c|py)."""

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.compile.mode import get_mode
from theanolab.scan.op import Scan
from theanolab.tensor.blas import Dot

# These tests check the loops' CPU graphs (which Scan nodes the rewrites leave, the C loop).
pytestmark = pytest.mark.cpu_only

RNG = np.random.default_rng(5)
PUSHOUTS = ("scan_pushout_seqs", "scan_pushout_accumulators")


def scan_ops(f):
    return [node.op for node in f.maker.fgraph.toposort() if isinstance(node.op, Scan)]


def compile_both(inputs, outputs, rules, mode="FAST_RUN"):
    """``(f, reference)``: ``mode``, and ``mode`` without ``rules``."""
    mode = get_mode(mode)
    f = theanolab.function(inputs, outputs, on_unused_input="ignore", mode=mode)
    reference = theanolab.function(inputs, outputs, on_unused_input="ignore", mode=mode.excluding(*rules))
    return f, reference


def assert_same(f, reference, values, rtol=1e-10):
    results, expected = f(*values), reference(*values)
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12)


def fired(f, rule):
    return rule in f.maker.rewrite_history.rewrites_used()


def sequence_products(op):
    """Dot nodes of the body reading a sequence slice."""
    seq_in = set(op.info.split_inner_inputs(op.fgraph.inputs)[0])
    return [n for n in op.fgraph.toposort() if isinstance(n.op, Dot) and n.inputs[0] in seq_in]


# --------------------------------------------------------------------------- sequence-only products


def rnn_inputs(steps=5, batch=3, n_in=4, hidden=6):
    x, h0, W, U, b = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    values = [RNG.normal(size=(steps, batch, n_in)), RNG.normal(size=(batch, hidden)),
              RNG.normal(size=(n_in, hidden)) * 0.5, RNG.normal(size=(hidden, hidden)) * 0.4,
              RNG.normal(size=hidden)]
    return [x, h0, W, U, b], values


def test_seqs_moves_the_input_product_out_as_one_gemm():
    (x, h0, W, U, b), values = rnn_inputs()
    h, _ = theanolab.scan(lambda xt, hp, W, U, b: T.tanh(T.dot(xt, W) + T.dot(hp, U) + b),
                          sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    f, reference = compile_both([x, h0, W, U, b], [h], ["scan_pushout_seqs"])
    assert fired(f, "scan_pushout_seqs") and not fired(reference, "scan_pushout_seqs")
    (op,) = scan_ops(f)
    assert not sequence_products(op) and sequence_products(scan_ops(reference)[0])
    assert op.info.n_sequences == 1  # x itself left the loop: only the product x[t] W is read
    assert_same(f, reference, values)


@pytest.mark.parametrize("name, step, rows", [
    ("vector slices", lambda xt, hp, W: T.tanh(T.dot(xt, W) + hp), lambda x: x[:, 0]),
    ("elementwise before the product", lambda xt, hp, W: T.tanh(T.dot(T.exp(xt) * 2 - 1, W) + hp), None),
    ("invariant computed in the body", lambda xt, hp, W: T.tanh(T.dot(xt, W.T.T * 3) + hp), None),
    ("product read twice", lambda xt, hp, W: T.tanh(T.dot(xt, W) + hp) + T.dot(xt, W) ** 2, None),
    ("transposed slice", lambda xt, hp, W: T.tanh(T.dot(xt.T, W) + hp), None),
])
def test_seqs_variants_fire_and_keep_values(name, step, rows):
    (x, h0, W, _, _), values = rnn_inputs(n_in=6, batch=6)
    h, _ = theanolab.scan(step, sequences=rows(x) if rows else x, outputs_info=h0, non_sequences=[W])
    f, reference = compile_both([x, h0, W], [h, h.sum() * 2], ["scan_pushout_seqs"])
    assert fired(f, "scan_pushout_seqs"), name
    assert not sequence_products(scan_ops(f)[0])
    assert_same(f, reference, values[:2] + [RNG.normal(size=(6, 6)) * 0.3])


@pytest.mark.parametrize("name, step", [
    ("product of the state", lambda xt, hp, W: T.tanh(xt + T.dot(hp, W))),
    ("product of two sequences", lambda xt, hp, W: T.tanh(T.dot(xt, xt.T)[:, :1] + hp)),
    ("invariant on the left", lambda xt, hp, W: T.tanh(T.dot(W, xt) + hp)),
])
def test_seqs_does_not_fire(name, step):
    x, h0, W = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W")
    h, _ = theanolab.scan(step, sequences=x, outputs_info=h0, non_sequences=[W])
    f = theanolab.function([x, h0, W], h)
    assert not fired(f, "scan_pushout_seqs"), name


def test_seqs_with_sequence_taps_and_n_steps_shorter_than_the_sequence():
    (x, h0, W, _, _), values = rnn_inputs(steps=7)
    n = T.iscalar("n")
    h, _ = theanolab.scan(lambda x1, x0, hp, W: T.tanh(T.dot(x1, W) - T.dot(x0, W) + hp),
                          sequences={"input": x, "taps": [1, 0]}, outputs_info=h0, non_sequences=[W],
                          n_steps=n)
    f, reference = compile_both([x, h0, W, n], [h], ["scan_pushout_seqs"])
    assert fired(f, "scan_pushout_seqs")
    for steps in (4, 0):
        assert_same(f, reference, values[:3] + [steps])


def test_elemwise_is_opt_in():
    y = T.dtensor3("y")
    d, _ = theanolab.scan(lambda yt, acc: acc + (1 - yt ** 2) * 3, sequences=y, outputs_info=T.zeros_like(y[0]))
    values = [RNG.normal(size=(5, 2, 3))]
    f = theanolab.function([y], d)
    assert not fired(f, "scan_pushout_elemwise")
    f, reference = compile_both([y], [d], ["scan_pushout_elemwise"],
                                mode=get_mode("FAST_RUN").including("scan_pushout_elemwise"))
    assert fired(f, "scan_pushout_elemwise")
    (op,) = scan_ops(f)
    assert [type(n.op).__name__ for n in op.fgraph.toposort()] == ["Elemwise"]  # only acc + e[t] is left
    assert_same(f, reference, values)


# --------------------------------------------------------------------------- accumulations


def accumulate(term, last=True, **kwargs):
    """``acc[t] = acc[t-1] + term(a[t], b[t])`` over sequences a (T, 3, 4) and b (T, 3, 5)."""
    a, b, acc0 = T.dtensor3("a"), T.dtensor3("b"), T.dmatrix("acc0")
    acc, _ = theanolab.scan(lambda at, bt, acc: acc + term(at, bt), sequences=[a, b], outputs_info=acc0, **kwargs)
    values = [RNG.normal(size=(6, 3, 4)), RNG.normal(size=(6, 3, 5)), RNG.normal(size=(4, 5))]
    return [a, b, acc0], (acc[-1] if last else acc), values


@pytest.mark.parametrize("name, term", [
    ("x.T g", lambda at, bt: T.dot(at.T, bt)),
    ("x.T tanh(g)", lambda at, bt: T.dot(at.T, T.tanh(bt))),
    ("a b with a computed", lambda at, bt: T.dot(T.exp(at).T[:, ::-1], bt)),
])
def test_accumulators_products_become_one_product_after(name, term):
    inputs, final, values = accumulate(term)
    f, reference = compile_both(inputs, [final, final * 2], ["scan_pushout_accumulators"])
    assert fired(f, "scan_pushout_accumulators"), name
    assert all(op.info.n_states == 0 for op in scan_ops(f))
    assert_same(f, reference, values)


def test_accumulators_of_sums():
    g, acc0, c0 = T.dtensor3("g"), T.dvector("acc0"), T.dmatrix("c0")
    (acc, c), _ = theanolab.scan(lambda gt, acc, c: [acc + gt.sum(0), c + T.tanh(gt)[:, ::-1]],
                                 sequences=g, outputs_info=[acc0, c0])
    values = [RNG.normal(size=(7, 3, 4)), RNG.normal(size=4), RNG.normal(size=(3, 4))]
    f, reference = compile_both([g, acc0, c0], [acc[-1], c[-1]], ["scan_pushout_accumulators"])
    assert fired(f, "scan_pushout_accumulators")
    assert not scan_ops(f) or all(op.info.n_states == 0 for op in scan_ops(f))
    assert_same(f, reference, values)


@pytest.mark.parametrize("name, step, last", [
    ("every step read", lambda at, bt, acc: acc + T.dot(at.T, bt), False),
    ("a state that is not a sum", lambda at, bt, acc: acc * 0.5 + T.dot(at.T, bt), True),
    ("the state read twice", lambda at, bt, acc: acc + T.dot(at.T, bt) * acc, True),
])
def test_accumulators_need_a_sum_read_only_at_the_end(name, step, last):
    a, b, acc0 = T.dtensor3("a"), T.dtensor3("b"), T.dmatrix("acc0")
    acc, _ = theanolab.scan(step, sequences=[a, b], outputs_info=acc0)
    f = theanolab.function([a, b, acc0], acc[-1] if last else acc)
    assert not fired(f, "scan_pushout_accumulators"), name


def test_accumulator_read_by_the_body_stays():
    a, b, acc0 = T.dtensor3("a"), T.dtensor3("b"), T.dmatrix("acc0")
    (acc, y), _ = theanolab.scan(lambda at, bt, acc: [acc + T.dot(at.T, bt), acc.sum()], sequences=[a, b],
                                 outputs_info=[acc0, None])
    f = theanolab.function([a, b, acc0], [acc[-1], y])
    assert not fired(f, "scan_pushout_accumulators")


def test_accumulators_with_zero_steps_give_the_initial_value():
    a, b, acc0 = T.dtensor3("a"), T.dtensor3("b"), T.dmatrix("acc0")
    n = T.iscalar("n")
    acc, _ = theanolab.scan(lambda at, bt, acc: acc + T.dot(at.T, bt), sequences=[a, b], outputs_info=acc0,
                            n_steps=n)
    f, reference = compile_both([a, b, acc0, n], [acc[-1]], ["scan_pushout_accumulators"])
    assert fired(f, "scan_pushout_accumulators")
    values = [RNG.normal(size=(6, 3, 4)), RNG.normal(size=(6, 3, 5)), RNG.normal(size=(4, 5))]
    for steps in (0, 1, 4):
        assert_same(f, reference, values + [steps])
    np.testing.assert_allclose(f(*values, 0)[0], values[2])


@pytest.mark.parametrize("go_backwards", [False, True])
def test_accumulators_over_reversed_sequences_store_new_outputs_reversed(go_backwards):
    """A loop reading its sequences backwards (x[::-1]) stores the factors it now emits last step first
    (ScanInfo.reversed_rows) and pairs them with the sequences un-reversed: same values, no copy."""
    inputs, final, values = accumulate(lambda at, bt: T.dot(at.T, T.tanh(bt)) + T.tanh(bt).sum(0),
                                       go_backwards=go_backwards)
    f, reference = compile_both(inputs, [final], ["scan_pushout_accumulators"])
    assert fired(f, "scan_pushout_accumulators")
    (op,) = scan_ops(f)
    assert op.info.n_states == 0
    flags = op.info.reversed_rows or (False,) * op.info.n_per_step
    assert any(flags) == go_backwards and all(flags) == go_backwards
    assert_same(f, reference, values)


def test_reversed_rows_layout_is_checked():
    from theanolab.scan.info import ScanInfo

    with pytest.raises(ValueError, match="one entry per"):
        ScanInfo(1, (), 2, 0, 0, reversed_rows=(True,))
    with pytest.raises(ValueError, match="until"):
        ScanInfo(1, (), 1, 0, 0, as_while=True, reversed_rows=(True,))
    with pytest.raises(ValueError, match="keep rows"):
        ScanInfo(1, (), 1, 0, 0, kept_rows=(1,), reversed_rows=(True,))
    assert ScanInfo(1, (), 2, 0, 0, reversed_rows=(False, True)).is_reversed(1)


# --------------------------------------------------------------------------- the RNN gradient (backward scans)


def rnn_gradient(**scan_kwargs):
    (x, h0, W, U, b), values = rnn_inputs()
    taps = scan_kwargs.pop("taps", False)
    if taps:
        def step(xt, h2, h1, W, U, b):
            return T.tanh(T.dot(xt, W) + T.dot(h1, U) + 0.5 * T.dot(h2, U.T) + b)
        h0_full = T.dtensor3("h0")
        outputs_info = {"initial": h0_full, "taps": [-2, -1]}
        inputs = [x, h0_full, W, U, b]
        values = [values[0], RNG.normal(size=(2,) + values[1].shape)] + values[2:]
    else:
        def step(xt, h1, W, U, b):
            return T.tanh(T.dot(xt, W) + T.dot(h1, U) + b)
        outputs_info, inputs = h0, [x, h0, W, U, b]
    h, _ = theanolab.scan(step, sequences=x, outputs_info=outputs_info, non_sequences=[W, U, b], **scan_kwargs)
    cost = (h ** 2).sum() + h[-1].sum()
    return inputs, T.grad(cost, inputs), values


@pytest.mark.parametrize("kwargs", [{}, {"taps": True}, {"go_backwards": True}, {"truncate_gradient": 2}],
                         ids=["plain", "taps", "go_backwards", "truncate_gradient"])
def test_rnn_gradients_unchanged(kwargs):
    inputs, grads, values = rnn_gradient(**kwargs)
    f, reference = compile_both(inputs, grads, PUSHOUTS)
    assert fired(f, "scan_pushout_seqs") and fired(f, "scan_pushout_accumulators")
    backward = [op for op in scan_ops(f) if op.name.startswith("grad_of")]
    reference_backward = [op for op in scan_ops(reference) if op.name.startswith("grad_of")]
    # the sums of W, U and b's gradients left the backward loop: only the carried state gradients remain
    assert sum(op.info.n_states for op in backward) < sum(op.info.n_states for op in reference_backward)
    assert not any(isinstance(n.op, Dot) and n.inputs[0].owner is not None
                   and type(n.inputs[0].owner.op).__name__ == "DimShuffle"
                   for op in backward for n in op.fgraph.toposort())
    if not kwargs:  # the backward loop reads the forward values reversed: its new factors are stored reversed
        assert any(any(op.info.reversed_rows or ()) for op in backward)
    assert_same(f, reference, values, rtol=1e-9)


def test_rnn_float32_gradient_matches_numpy():
    """The benchmark's model (benchmarks/models.py rnn) at a small size, against its hand-written backward."""
    steps, batch, n_in, hidden = 6, 4, 3, 5
    xs = RNG.standard_normal((steps, batch, n_in)).astype("float32")
    h0 = np.zeros((batch, hidden), "float32")
    w_in, w_h = (RNG.standard_normal((n_in, hidden)) * 0.5).astype("float32"), \
        (RNG.standard_normal((hidden, hidden)) * 0.4).astype("float32")
    bias = RNG.standard_normal(hidden).astype("float32")
    x, h, W, U, b = T.ftensor3(), T.fmatrix(), T.fmatrix(), T.fmatrix(), T.fvector()
    states, _ = theanolab.scan(lambda xt, hp, W, U, b: T.tanh(T.dot(xt, W) + T.dot(hp, U) + b),
                               sequences=x, outputs_info=h, non_sequences=[W, U, b])
    grads = T.grad(0.5 * (states ** 2).sum(), [W, U, b])
    f = theanolab.function([x, h, W, U, b], grads)
    assert fired(f, "scan_pushout_accumulators")
    hs = [h0]
    for x_t in xs:
        hs.append(np.tanh(x_t @ w_in + hs[-1] @ w_h + bias))
    d_in, d_h, d_b, carried = 0, 0, 0, np.zeros_like(h0)
    for t in range(steps, 0, -1):
        pre = (hs[t] + carried) * (1 - hs[t] ** 2)
        d_in, d_h, d_b = d_in + xs[t - 1].T @ pre, d_h + hs[t - 1].T @ pre, d_b + pre.sum(0)
        carried = pre @ w_h.T
    for got, want in zip(f(xs, h0, w_in, w_h, bias), [d_in, d_h, d_b]):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
