"""Scan rewrites that move work out of the loop into a few large operations.

A loop's body runs once per step on one slice of each sequence.  Two kinds
of its work need no step-by-step loop at all, and done over the whole
sequence they become one large BLAS call or one elementwise pass instead of
``n_steps`` small ones:

- ``scan_pushout_seqs`` (canonicalize): a product the body computes from
  sequence slices, non-sequences and constants alone (``dot(x[t], W)``, with
  the elementwise work feeding it) is computed before the loop over the whole
  sequence (``dot(X.reshape((T*B, I)), W)`` reshaped to ``(T, B, H)``: one
  Gemm) and enters the body as a new sequence;
- ``scan_pushout_elemwise`` (canonicalize, not in fast_run): the same for
  elementwise results (``1 - y[t] ** 2``): one pass over the whole sequence.
  The C loop runs the body's elementwise work fused and in cache, and an
  extra pass over a ``(T, ...)`` temporary measured slower there (the tanh RNN
  benchmark: about 0.2 ms of 9.5), so only ``mode.including(...)`` turns it on;
- ``scan_pushout_accumulators`` (canonicalize): a state that only accumulates,
  ``acc[t] = acc[t-1] + dot(a[t].T, b[t])`` or ``acc[t-1] + g[t].sum(0)`` (the
  non-sequences' gradients a backward scan sums, :mod:`theanolab.scan.grad`),
  or a sum of such terms, and whose intermediate values nobody reads (only
  ``acc[-1]``) leaves the loop: the body emits ``a[t]`` and ``b[t]`` as
  per-step outputs (unless they are sequences already) and after the loop one
  product ``acc[0] + dot(A.reshape((T*K, I)).T, B.reshape((T*K, H)))`` (or one
  sum over the stacked values) gives the final value.  When the sequences it
  pairs them with are reversed views (a backward scan reads ``x[::-1]``),
  the new per-step outputs are stored last step first
  (``ScanInfo.reversed_rows``) and the product reads the sequences un-reversed:
  both factors are then contiguous and their reshapes are views, not copies.

Both build a new Scan node and go through ``fgraph.replace_all`` like the
rules of :mod:`theanolab.scan.rewrites`; the sequences and per-step outputs
they leave unused are then dropped by ``scan_remove_unused``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from theanolab.graph.basic import Constant, ancestors, clone_replace
from theanolab.graph.fgraph import OUTPUT
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.scalar.basic import Add
from theanolab.scan import rewrites as scan_rules  # its helpers are read when a rule runs (import cycle)
from theanolab.scan.op import Scan
from theanolab.tensor.blas import Dot
from theanolab.tensor.elemwise import DimShuffle, Elemwise
from theanolab.tensor.reduce import Sum

__all__ = ["scan_pushout_accumulators", "scan_pushout_elemwise", "scan_pushout_seqs"]


# --------------------------------------------------------------------------- whole-sequence versions of body nodes


def _lead(x):
    """``x`` with a leading broadcastable axis: a loop-invariant value as a "sequence" of one row for every step."""
    return x.dimshuffle(["x"] + list(range(x.ndim)))


def _whole_elemwise(node, whole):
    return node.op.make_node(*[whole(v) for v in node.inputs]).outputs


def _whole_dimshuffle(node, whole):
    order = [0] + ["x" if d == "x" else d + 1 for d in node.op.new_order]
    return [whole(node.inputs[0]).dimshuffle(order)]


def _whole_dot(node, whole):
    """``dot(x[t], W)`` for every ``t``: one product of the steps' rows stacked, reshaped back."""
    from theanolab.tensor.blas import dot

    xs, w = whole(node.inputs[0]), node.inputs[1]
    if xs.ndim == 2:
        return [dot(xs, whole.fixed(w))]
    rows = xs.reshape((xs.shape[0] * xs.shape[1], xs.shape[2]))
    product = dot(rows, whole.fixed(w))
    return [product.reshape([xs.shape[0], xs.shape[1]] + [product.shape[1]] * (w.ndim - 1))]


def _dot_fits(node, per_step):
    a, b = node.inputs
    return a in per_step and b not in per_step and a.ndim in (1, 2)


#: body op class -> (does this node fit, given the per-step variables; its outputs over the whole sequence).
_WHOLE = {
    Elemwise: (lambda node, per_step: True, _whole_elemwise),
    DimShuffle: (lambda node, per_step: True, _whole_dimshuffle),
    Dot: (_dot_fits, _whole_dot),
}


class _Whole:
    """Builds, outside the loop, each pushed-out body variable over the whole sequence (memoized)."""

    def __init__(self, per_step_outer, fixed_outer, per_step):
        self.memo = dict(per_step_outer)
        self.fixed_outer = fixed_outer
        self.per_step = per_step

    def fixed(self, var):
        """A loop-invariant body variable (from non-sequences and constants), in outer terms."""
        if isinstance(var, Constant):
            return var
        if var not in self.fixed_outer:
            node = var.owner
            outer = node.clone_with_new_inputs([self.fixed(v) for v in node.inputs], strict=False)
            self.fixed_outer.update(zip(node.outputs, outer.outputs))
        return self.fixed_outer[var]

    def __call__(self, var):
        """A body variable as an outer one with a leading time axis (invariants broadcast along it)."""
        if var not in self.memo:
            if var not in self.per_step:
                return _lead(self.fixed(var))
            node = var.owner
            for out, value in zip(node.outputs, _WHOLE[type(node.op)][1](node, self)):
                self.memo[out] = value
        return self.memo[var]


def _sequence_only(body, seq_in, non_seq_in):
    """The body variables computed from sequence slices (at least one), non-sequences and constants,
    by nodes :data:`_WHOLE` can rebuild over the whole sequence."""
    fixed = set(non_seq_in)
    per_step = set(seq_in)
    for node in body.toposort():
        inputs = node.inputs
        if not all(v in per_step or v in fixed or isinstance(v, Constant) for v in inputs):
            continue
        if not any(v in per_step for v in inputs):
            fixed.update(node.outputs)  # loop-invariant (scan_hoist_invariants moves it out on its own)
            continue
        rule = _WHOLE.get(type(node.op))
        if rule is not None and rule[0](node, per_step):
            per_step.update(node.outputs)
    return per_step


def _read_in_loop(body, var, moved):
    """True if the loop itself needs ``var``: a body output, or read by a node not ``moved`` out."""
    return any(client == OUTPUT or not set(client.outputs) <= moved for client, _ in body.clients[var])


def _products(body, per_step):
    """The sequence-only ``dot`` results (or views of them) the loop reads; what they are computed
    from moves out with them."""
    products = set()
    for n in body.toposort():
        if n.outputs[0] in per_step and (isinstance(n.op, Dot)
                                         or (isinstance(n.op, DimShuffle) and n.inputs[0] in products)):
            products.update(n.outputs)
    return [out for n in body.toposort() for out in n.outputs
            if out in products and _read_in_loop(body, out, products)]


def _elementwise(body, per_step):
    """The sequence-only elementwise results the loop reads."""
    return [out for n in body.toposort() if isinstance(n.op, Elemwise)
            for out in n.outputs if out in per_step and _read_in_loop(body, out, per_step)]


def _push_out(node, select):
    """``node`` with the body variables ``select(body, per_step)`` computed before the loop, as new sequences."""
    op, info = node.op, node.op.info
    body = op.fgraph
    seq_in, _, _, non_seq_in = info.split_inner_inputs(body.inputs)
    per_step = _sequence_only(body, seq_in, non_seq_in)
    n_steps, sequences, _, _, non_seqs = info.split_outer_inputs(node.inputs)
    whole = _Whole({v: s[:n_steps] for v, s in zip(seq_in, sequences)}, dict(zip(non_seq_in, non_seqs)), per_step)
    replace, new_outer = {}, []
    for v in select(body, per_step):
        outer = whole(v)
        if outer.broadcastable[1:] == v.broadcastable and outer.dtype == v.dtype:
            replace[v] = v.type(v.name)
            new_outer.append(outer)
    if not replace:
        return None
    inner_outputs = clone_replace(body.outputs, replace, strict=False)
    new_info = dataclasses.replace(info, n_sequences=info.n_sequences + len(replace))
    inner_inputs = list(seq_in) + list(replace.values()) + list(body.inputs[info.n_sequences:])
    outer_inputs = [n_steps] + list(sequences) + new_outer + list(node.inputs[1 + info.n_sequences:])
    return scan_rules._rebuild(node, new_info, inner_inputs, inner_outputs, outer_inputs).outputs


@register("canonicalize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_pushout_seqs(fgraph, node):
    """for(h[t] = tanh(dot(x[t], W) + dot(h[t-1], U)); x) -> for(h[t] = tanh(xW[t] + dot(h[t-1], U)); xW = dot(X, W))

    Why: a product reading only sequence slices and non-sequences runs as n_steps small BLAS
    calls; over the whole sequence it is one large Gemm (dot(X.reshape((T*B, I)), W) reshaped
    to (T, B, H)) fed to the loop as a new sequence.
    """
    return _push_out(node, _products)


@register("canonicalize", "scan")
@node_rewriter([Scan])
def scan_pushout_elemwise(fgraph, node):
    """for(d[t] = 1 - y[t] ** 2; y) -> for(d[t] = e[t]; e = 1 - Y ** 2): elementwise on the whole sequence

    Why: one elementwise pass over the whole sequence replaces n_steps small ones, which saves
    the Python loop a node per step.  Not in fast_run: the C loop runs the body's elementwise
    work fused, in cache, and an extra pass over a (T, ...) temporary measured slower there;
    mode.including('scan_pushout_elemwise') turns it on.
    """
    return _push_out(node, _elementwise)


# --------------------------------------------------------------------------- accumulations moved after the loop


def _summed_base(term):
    """``(g, axes, order)``: ``term`` is ``g`` summed over ``axes`` (of ``g``) through Sum and DimShuffle
    nodes (``g`` is ``term`` itself when there are none); ``order`` says which axis of ``g`` each axis
    of ``term`` is (``'x'``: a new broadcastable one)."""
    var, chain = term, []
    while var.owner is not None and isinstance(var.owner.op, (Sum, DimShuffle)):
        chain.append(var.owner)
        var = var.owner.inputs[0]
    dims = list(range(var.ndim))  # per axis of the current value: the axis of g it is, or 'x'
    summed = []
    for step in reversed(chain):
        if isinstance(step.op, Sum):
            axes = step.op.axis if step.op.axis is not None else tuple(range(len(dims)))
            summed += [dims[a] for a in axes if dims[a] != "x"]
            dims = [d for a, d in enumerate(dims) if a not in axes]
        else:
            summed += [dims[d] for d in step.op.dropped if dims[d] != "x"]
            dims = ["x" if d == "x" else dims[d] for d in step.op.new_order]
    return var, sorted(summed), dims


def _accumulator(body, info, j):
    """``(tap, term)`` if state ``j`` is only ``acc[t] = acc[t-1] + term`` (term not reading acc), else None."""
    taps = info.split_inner_inputs(body.inputs)[1][j]
    out = info.split_inner_outputs(body.outputs)[0][j]
    if info.state_taps[j] != (-1,) or out.owner is None:
        return None
    add = out.owner
    if not (isinstance(add.op, Elemwise) and isinstance(add.op.scalar_op, Add) and len(add.inputs) == 2):
        return None
    tap = taps[0]
    if tap not in add.inputs or len(body.clients[tap]) != 1 or out.type != tap.type:
        return None
    if any(client != OUTPUT for client, _ in body.clients[out]):
        return None
    term = add.inputs[1] if add.inputs[0] is tap else add.inputs[0]
    return tap, term


class _Stacked:
    """Per-step body variables as outer ones with a leading time axis: a sequence's outer value, an
    existing per-step output, or a new per-step output (collected in ``new``)."""

    def __init__(self, node, body, info):
        self.n_steps = node.inputs[0]
        seq_in = info.split_inner_inputs(body.inputs)[0]
        self.sequence = dict(zip(seq_in, info.split_outer_inputs(node.inputs)[1]))
        self.outer = {v: s[:self.n_steps] for v, s in self.sequence.items()}
        self.refs = []  # every placeholder handed out
        self.existing = info.split_inner_outputs(body.outputs)[1]
        self.new = []  # body variables that become per-step outputs, in order
        self.varying = set(seq_in) | {v for taps in info.split_inner_inputs(body.inputs)[1] for v in taps}
        self.varying |= set(info.split_inner_inputs(body.inputs)[2])

    def varies(self, var):
        """True if ``var`` changes from step to step (it reads a sequence, a state or a shared value)."""
        return any(v in self.varying for v in ancestors([var]))

    def __call__(self, var):
        """A placeholder for the outer value of ``var`` over every step; resolved by :meth:`resolve`."""
        ref = ("outer", var) if var in self.outer else ("output", var)
        if ref[0] == "output" and var not in self.new:
            self.new.append(var)
        self.refs.append(ref)
        return ref

    def flips(self, info):
        """True if the new per-step outputs should be stored in reversed rows: every sequence the
        sums read is a reversed view (``x[::-1]``, as a backward scan reads the forward values), so
        reading them and the new outputs both last step first pairs the same rows, as contiguous views."""
        outer = [var for kind, var in self.refs if kind == "outer"]
        return (not info.as_while and bool(self.new) and bool(outer)
                and all(_reversed_view(self.sequence[var]) for var in outer))

    def resolve(self, ref, new_node, n_states, n_old_per_step, flip=False):
        """The outer value of ``ref`` over every step; with ``flip``, last step first (sums over the
        steps pair the same rows either way)."""
        kind, var = ref
        if kind == "outer":
            return self.outer[var][::-1] if flip else self.outer[var]
        return new_node.outputs[n_states + n_old_per_step + self.new.index(var)]


def _reversed_view(var):
    """True if ``var`` is, through basic slices of its first axis, a reversed view (an odd number of
    negative constant steps) of another value."""
    from theanolab.tensor.subtensor import SliceSpec, Subtensor, _group

    flips = 0
    while var.owner is not None and isinstance(var.owner.op, Subtensor):
        idx_list = var.owner.op.idx_list
        if not idx_list or not isinstance(idx_list[0], SliceSpec):
            return False
        step = _group(idx_list, var.owner.inputs[1:])[0][2]
        if step is not None:
            if not isinstance(step, Constant) or np.ndim(step.data) != 0:
                return False
            flips += int(step.data) < 0
        var = var.owner.inputs[0]
    return flips % 2 == 1


def _rows(x):
    """A stacked ``(T, K, ...)`` value as ``(T*K, ...)``."""
    return x.reshape([x.shape[0] * x.shape[1]] + [x.shape[d] for d in range(2, x.ndim)])


def _dot_plan(term, stacked):
    """For ``term = dot(a[t], b[t])`` of matrices: a function of the outer values building sum_t a[t] b[t]."""
    from theanolab.tensor.blas import dot

    a, b = term.owner.inputs
    if a.ndim != 2 or b.ndim != 2 or not (stacked.varies(a) and stacked.varies(b)):
        return None
    a_op = a.owner.op if a.owner is not None else None
    transposed = isinstance(a_op, DimShuffle) and a_op.new_order == (1, 0)
    ref_a = stacked(a.owner.inputs[0] if transposed else a)
    ref_b = stacked(b)

    def build(resolve):
        a_all, b_all = resolve(ref_a), resolve(ref_b)
        left = _rows(a_all).T if transposed else _rows(a_all.dimshuffle(0, 2, 1)).T
        return dot(left, _rows(b_all))

    return build


def _sum_plan(term, stacked):
    """For ``term = g[t]`` summed over some axes: a function of the outer values building sum_t term."""
    base, axes, order = _summed_base(term)
    if not stacked.varies(base):
        return None
    ref = stacked(base)
    kept = sorted(d for d in order if d != "x")  # the axes of g left after summing, in g's order

    def build(resolve):
        total = resolve(ref).sum(axis=[0] + [a + 1 for a in axes])
        return total.dimshuffle(["x" if d == "x" else kept.index(d) for d in order])

    return build


def _plan(term, stacked):
    """A function of the outer values building sum_t term[t]: a sum of terms term by term, a product
    as one product, anything else as one sum of its per-step values (None if term never varies)."""
    node = term.owner
    if node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Add):
        plans = [_plan(v, stacked) for v in node.inputs]
        if all(plans):
            return lambda resolve: sum((p(resolve) for p in plans[1:]), plans[0](resolve))
        return None
    if node is not None and isinstance(node.op, Dot):
        plan = _dot_plan(term, stacked)
        if plan is not None:
            return plan
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0):
        inner = node.inputs[0]
        plan = _dot_plan(inner, stacked) if inner.owner is not None and isinstance(inner.owner.op, Dot) else None
        if plan is not None:  # sum_t (a[t] b[t]).T = (sum_t a[t] b[t]).T
            return lambda resolve: plan(resolve).T
    return _sum_plan(term, stacked)


@register("canonicalize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_pushout_accumulators(fgraph, node):
    """for(acc[t] = acc[t-1] + dot(x[t].T, g[t]))[-1] -> acc[0] + dot(X_rows.T, for(g[t])_rows) after the loop

    Why: a state that only sums per-step products and whose intermediate values nobody reads
    costs n_steps small products; emitting the factors per step and multiplying once after the
    loop is one large Gemm (a sum g[t].sum(0) becomes one sum over the stacked g).
    """
    from theanolab.tensor.basic import cast

    op, info = node.op, node.op.info
    if info.as_while:
        return None
    body = op.fgraph
    buffers = info.split_outer_outputs(node.outputs)[0]
    stacked = _Stacked(node, body, info)
    plans = {}
    for j in range(info.n_states):
        found = _accumulator(body, info, j)
        reads = scan_rules._last_row_reads(fgraph, buffers[j])
        if found is None or not reads or any(c != 1 for _, c in reads):
            continue
        plan = _plan(found[1], stacked)
        if plan is not None:
            plans[j] = (plan, reads)
    if not plans:
        return None
    seq_in, taps_in, shared_in, non_seq_in = info.split_inner_inputs(body.inputs)
    states_out, per_step_out, shared_out, condition = info.split_inner_outputs(body.outputs)
    n_steps, sequences, initials, shared, non_seqs = info.split_outer_inputs(node.inputs)
    keep = [j not in plans for j in range(info.n_states)]

    def kept(values):
        return [v for v, k in zip(values, keep) if k]

    kept_rows = info.kept_rows and tuple(kept(info.kept_rows[:info.n_states]) + list(info.kept_rows[info.n_states:])
                                         + [None] * len(stacked.new))
    flip = stacked.flips(info)
    reversed_rows = (info.reversed_rows or (False,) * info.n_per_step) + (flip,) * len(stacked.new)
    new_info = dataclasses.replace(info, state_taps=tuple(kept(info.state_taps)),
                                   n_per_step=info.n_per_step + len(stacked.new), kept_rows=kept_rows,
                                   reversed_rows=reversed_rows if any(reversed_rows) else None)
    inner_inputs = list(seq_in) + [v for taps in kept(taps_in) for v in taps] + list(shared_in) + list(non_seq_in)
    inner_outputs = (kept(states_out) + list(per_step_out) + stacked.new + list(shared_out)
                     + ([condition] if condition is not None else []))
    outer_inputs = [n_steps] + list(sequences) + kept(initials) + list(shared) + list(non_seqs)
    new_node = scan_rules._rebuild(node, new_info, inner_inputs, inner_outputs, outer_inputs)
    n_states = new_info.n_states
    old_buffers, old_ys, old_shared = info.split_outer_outputs(node.outputs)
    new_buffers, new_ys, new_shared = new_info.split_outer_outputs(new_node.outputs)
    replacements = dict(zip(kept(old_buffers), new_buffers))
    replacements.update(zip(old_ys, new_ys))
    replacements.update(zip(old_shared, new_shared))

    def resolve(ref):
        return stacked.resolve(ref, new_node, n_states, info.n_per_step, flip)

    for j, (plan, reads) in plans.items():
        final = initials[j][0] + plan(resolve)
        for reader, _ in reads:
            old = reader.outputs[0]
            replacements[old] = cast(final, old.dtype)
    return replacements
