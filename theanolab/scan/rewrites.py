"""Scan rewrites: loops that compute less, store less, and run once where they were built twice.

A Scan node (:mod:`theanolab.scan.op`) is opaque to the tensor rules: they see
one node with a body inside.  These rules look at the loop as a whole:

- ``scan_merge`` (canonicalize, tried first): two loops with the same inputs and the
  same body become one (two ``T.grad`` calls through one scan build two
  identical backward scans), before the rules below make their bodies differ;
- ``scan_hoist_invariants`` (canonicalize): what the body computes from the
  non-sequences alone (``W.T``, ``W.dimshuffle(...)``, ``b * 2``) is the same
  at every step, so it is computed once outside and enters as a new
  non-sequence (loop-invariant code motion);
- ``scan_remove_unused`` (canonicalize): states and per-step outputs nobody
  reads after the loop, and which no kept output needs, leave the node, with
  the sequences and non-sequences only they read;
- ``scan_keep_last_rows`` (specialize): when the graph reads only the last
  rows of an output (``result[-1]``), the node keeps only those rows
  (``ScanInfo.kept_rows``), in a circular buffer: memory O(1) in
  ``n_steps``.  It runs after differentiation (``T.grad`` works on the graph
  the user built), and a node keeping last rows refuses to be differentiated.

The body itself is optimized when the loop first runs: ``Scan.runner``
compiles it with the mode of the function containing the node (its
FunctionMaker runs that mode's rewrites, these rules included for nested
loops).

Every rule builds a new Scan node (ops own their body, so nodes are never
edited in place) and goes through ``fgraph.replace_all``, so each step is in
``f.maker.rewrite_history``.
"""

from __future__ import annotations

import dataclasses

from theanolab.graph.basic import Constant, clone_get_equiv, clone_replace, graph_inputs
from theanolab.graph.fgraph import OUTPUT, FunctionGraph
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.scan.op import Scan
from theanolab.tensor.rewriting.utils import scalar_constant_value
from theanolab.tensor.subtensor import SliceSpec, Subtensor

__all__ = ["scan_hoist_invariants", "scan_remove_unused", "scan_merge", "scan_keep_last_rows"]


def _rebuild(node, info, inner_inputs, inner_outputs, outer_inputs):
    """A new Scan node like ``node`` (name, mode, truncate_gradient) with this layout and body."""
    op = node.op
    body = FunctionGraph(inner_inputs, inner_outputs, clone=True)
    new_op = Scan(body, info, name=op.name, mode=op.mode, truncate_gradient=op.truncate_gradient)
    return new_op.make_node(*outer_inputs)


def _read_outside(fgraph, var):
    return bool(fgraph.clients.get(var))


# --------------------------------------------------------------------------- merging identical loops


def _numbering(body, table):
    """The body's outputs as value numbers: equal numbers compute equal values from equal inputs.

    ``table`` maps ``(op, numbers of the inputs)`` to a number; sharing it
    between two bodies numbers their common computations alike.
    """
    numbers = {v: ("input", i) for i, v in enumerate(body.inputs)}

    def number(var):
        if var in numbers:
            return numbers[var]
        return ("constant", var.signature())

    for node in body.toposort():
        key = (node.op, tuple(number(v) for v in node.inputs))
        value = table.setdefault(key, len(table))
        for i, out in enumerate(node.outputs):
            numbers[out] = ("node", value, i)
    return [number(v) for v in body.outputs]


def _same_loop(a, b):
    """True if Scan ops ``a`` and ``b`` run the same body with the same layout and options."""
    if (a.info != b.info or a.truncate_gradient != b.truncate_gradient or a.mode != b.mode
            or [v.type for v in a.fgraph.inputs] != [v.type for v in b.fgraph.inputs]):
        return False
    table = {}
    try:
        return _numbering(a.fgraph, table) == _numbering(b.fgraph, table)
    except TypeError:  # an op that cannot be hashed: never merged
        return False


@register("canonicalize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_merge(fgraph, node):
    """for(body; x, W) twice -> for(body; x, W) once: identical loops on identical inputs are one

    Why: scan ops own their body, so the generic merge never sees two loops as equal; two
    T.grad calls through one scan build two identical backward loops, each as costly as the forward one.
    """
    for client, _ in fgraph.clients[node.inputs[0]]:
        if (client == OUTPUT or client is node or not isinstance(client.op, Scan)
                or client.inputs != node.inputs):
            continue
        if _same_loop(node.op, client.op):
            return client.outputs
    return None


# --------------------------------------------------------------------------- loop-invariant code motion


def _invariants(body, non_seq_in):
    """The body's variables computed from non-sequences (and constants) only: ``(variables, order)``."""
    invariant, from_non_seqs = set(non_seq_in), set(non_seq_in)
    order = []
    for node in body.toposort():
        if all(v in invariant or isinstance(v, Constant) for v in node.inputs):
            invariant.update(node.outputs)
            if any(v in from_non_seqs for v in node.inputs):
                from_non_seqs.update(node.outputs)
                order.extend(node.outputs)
    return invariant, order


@register("canonicalize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_hoist_invariants(fgraph, node):
    """for(h[t] = tanh(dot(h[t-1], W.T)); W) -> for(h[t] = tanh(dot(h[t-1], W')); W' = W.T)

    Why: what the body computes from the non-sequences alone is the same at every step;
    computed once before the loop, it costs one evaluation instead of n_steps.
    """
    op, info = node.op, node.op.info
    body = op.fgraph
    seq_in, taps_in, shared_in, non_seq_in = info.split_inner_inputs(body.inputs)
    invariant, candidates = _invariants(body, non_seq_in)
    # hoist what a step-dependent node (or the loop's output) reads; the rest of the invariant part goes with it
    hoisted = [v for v in candidates
               if any(client == OUTPUT or client.outputs[0] not in invariant for client, _ in body.clients[v])]
    if not hoisted:
        return None
    outer_non_seqs = info.split_outer_inputs(node.inputs)[4]
    outer = clone_get_equiv(non_seq_in, hoisted, copy_inputs=False, memo=dict(zip(non_seq_in, outer_non_seqs)))
    new_in = [v.type(v.name) for v in hoisted]
    inner_outputs = clone_replace(body.outputs, dict(zip(hoisted, new_in)), strict=False)
    new_info = dataclasses.replace(info, n_non_sequences=info.n_non_sequences + len(hoisted))
    new_node = _rebuild(node, new_info, list(body.inputs) + new_in, inner_outputs,
                        list(node.inputs) + [outer[v] for v in hoisted])
    return new_node.outputs


# --------------------------------------------------------------------------- unused outputs


def _kept_states(info, body, keep_states, always):
    """``keep_states`` closed under "a kept output reads the taps of this state"."""
    states_out, per_step_out, _, _ = info.split_inner_outputs(body.outputs)
    _, taps_in, _, _ = info.split_inner_inputs(body.inputs)
    while True:
        read = set(graph_inputs([o for o, k in zip(states_out, keep_states) if k] + always))
        grown = [k or any(tap in read for tap in taps_in[j]) for j, k in enumerate(keep_states)]
        if grown == keep_states:
            return keep_states, read
        keep_states = grown


@register("canonicalize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_remove_unused(fgraph, node):
    """for(s[t], y[t], z[t]) with z never read -> for(s[t], y[t]); unread sequences and non-sequences go too

    Why: a loop output nobody reads after the loop (and that no kept output needs) costs a
    computation and a buffer of n_steps rows at every call; the inputs only it read go with it.
    """
    op, info = node.op, node.op.info
    body = op.fgraph
    buffers, ys, _ = info.split_outer_outputs(node.outputs)
    states_out, per_step_out, shared_out, condition = info.split_inner_outputs(body.outputs)
    seq_in, taps_in, shared_in, non_seq_in = info.split_inner_inputs(body.inputs)
    keep_ys = [_read_outside(fgraph, y) for y in ys]
    always = ([y for y, k in zip(per_step_out, keep_ys) if k] + list(shared_out)
              + ([condition] if condition is not None else []))
    keep_states, read = _kept_states(info, body, [_read_outside(fgraph, b) for b in buffers], always)
    keep_seqs = [v in read for v in seq_in]
    keep_non_seqs = [v in read for v in non_seq_in]
    if all(keep_ys + keep_states + keep_seqs + keep_non_seqs):
        return None
    if not any(keep_ys + keep_states) and not info.n_shared:
        return None  # nothing of the loop is read: the node goes away with its last client

    def kept(values, keep):
        return [v for v, k in zip(values, keep) if k]

    n, sequences, initials, shared, non_seqs = info.split_outer_inputs(node.inputs)
    kept_rows = info.kept_rows and tuple(kept(info.kept_rows, keep_states + keep_ys))
    reversed_rows = info.reversed_rows and tuple(kept(info.reversed_rows, keep_ys))
    new_info = dataclasses.replace(
        info, n_sequences=sum(keep_seqs), state_taps=tuple(kept(info.state_taps, keep_states)),
        n_per_step=sum(keep_ys), n_non_sequences=sum(keep_non_seqs), kept_rows=kept_rows,
        reversed_rows=reversed_rows or None)
    inner_inputs = (kept(seq_in, keep_seqs) + [v for taps in kept(taps_in, keep_states) for v in taps]
                    + list(shared_in) + kept(non_seq_in, keep_non_seqs))
    inner_outputs = (kept(states_out, keep_states) + kept(per_step_out, keep_ys) + list(shared_out)
                     + ([condition] if condition is not None else []))
    outer_inputs = ([n] + kept(sequences, keep_seqs) + kept(initials, keep_states) + list(shared)
                    + kept(non_seqs, keep_non_seqs))
    new_node = _rebuild(node, new_info, inner_inputs, inner_outputs, outer_inputs)
    old_outputs = kept(buffers, keep_states) + kept(ys, keep_ys) + info.split_outer_outputs(node.outputs)[2]
    return dict(zip(old_outputs, new_node.outputs))


# --------------------------------------------------------------------------- keeping only the last rows


def _negative_index(node):
    """``c`` if ``node`` is ``x[-c, ...]`` (a Subtensor whose first index is a negative constant), else None."""
    if not isinstance(node.op, Subtensor) or isinstance(node.op.idx_list[0], SliceSpec):
        return None
    value = scalar_constant_value(node.inputs[1])
    return -int(value) if value is not None and int(value) < 0 else None


def _is_tail(node):
    """True if ``node`` is ``x[s:]`` with a constant ``s >= 0`` (how scan shows a state without its initial rows)."""
    idx_list = getattr(node.op, "idx_list", ())
    if not isinstance(node.op, Subtensor) or len(idx_list) != 1 or not isinstance(idx_list[0], SliceSpec):
        return False
    if idx_list[0].start is None or idx_list[0].stop is not None or idx_list[0].step is not None:
        return False
    start = scalar_constant_value(node.inputs[1])
    return start is not None and int(start) >= 0


def _last_row_reads(fgraph, var):
    """``[(node, c)]``: every read of ``var`` is ``x[-c, ...]``, directly or through ``x[s:]``.

    None if some read needs more than the last rows (a graph output, a slice, ``x[0]``...).
    """
    reads = []
    for client, i in fgraph.clients[var]:
        if client == OUTPUT or i != 0:
            return None
        if _negative_index(client) is not None:
            reads.append((client, _negative_index(client)))
        elif _is_tail(client):
            for reader, k in fgraph.clients[client.outputs[0]]:
                if reader == OUTPUT or k != 0 or _negative_index(reader) is None:
                    return None
                reads.append((reader, _negative_index(reader)))
        else:
            return None
    return reads


@register("specialize", "fast_run", "scan")
@node_rewriter([Scan])
def scan_keep_last_rows(fgraph, node):
    """for(...)[lag:][-1] -> for(..., kept_rows=lag+1)[-1]: only the rows read are stored

    Why: when only result[-1] is read, the n_steps other rows are never used; a circular buffer
    of lag + 1 rows (1 for a per-step output) makes the loop's memory O(1) in n_steps.
    """
    info = node.op.info
    buffers, ys, _ = info.split_outer_outputs(node.outputs)
    kept_rows = list(info.kept_rows or [None] * (info.n_states + info.n_per_step))
    plans = {}
    for i, var in enumerate(buffers + ys):
        reads = _last_row_reads(fgraph, var)
        if reads is None or (i >= info.n_states and info.is_reversed(i - info.n_states)):
            continue
        needed = max([c for _, c in reads], default=1)
        if i < info.n_states:
            needed = max(needed, info.lags[i] + 1)
        if kept_rows[i] is not None and kept_rows[i] <= needed:
            continue
        kept_rows[i] = needed
        plans[i] = reads
    if not plans:
        return None
    body = node.op.fgraph
    new_node = _rebuild(node, dataclasses.replace(info, kept_rows=tuple(kept_rows)), body.inputs, body.outputs,
                        node.inputs)
    replacements = {}
    for i, (old, new) in enumerate(zip(node.outputs, new_node.outputs)):
        if i not in plans:
            replacements[old] = new
            continue
        for reader, _ in plans[i]:  # x[-c, ...] reads the same row of the last rows kept
            replacements[reader.outputs[0]] = reader.op(new, *reader.inputs[1:])
    return replacements
