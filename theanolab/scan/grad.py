"""Derivatives of a scan: backpropagation through time (L_op) and forward mode (R_op).

Backpropagation through time is itself a scan, running the steps backwards.
Processing forward step ``t``, it knows the gradient of the cost with
respect to everything step ``t`` computed: ``g_s[t]``, what the cost
sends to state ``s[t]`` directly, plus what later steps sent back through
their taps.  It differentiates the body (``grad`` with ``known_grads``) to
get the gradient with respect to what step ``t`` read: its sequence slices
(collected per step), its non-sequences (summed over the steps) and its
state taps ``s[t+k]`` (sent back to earlier steps).

What later steps sent back is carried in ``lag`` accumulators per state:
``carry[i]`` holds the gradient already sent to ``s[t - lag + 1 + i]``, so
``carry[-1]`` completes ``g_s[t]``, and after step ``t`` the carries shift
by one (the oldest, for ``s[t - lag]``, starts from the tap ``-lag``).
After step 0 they hold the gradient of the initial values.

The backward step does not recompute what the forward step computed: the
derivatives of the body are written in terms of its outputs (``tanh``'s is
``1 - out ** 2``), and each output is replaced by its forward value, which
the backward scan reads as a sequence (a view of the forward buffers).  So a
step of the backward scan costs only the derivative's own products.

With ``truncate_gradient = k`` only the last ``k`` steps are processed
(Theano's truncated BPTT): earlier sequence slices and the initial values
get no gradient, and the non-sequences only what those ``k`` steps give.
"""

from __future__ import annotations

from theanolab.graph.basic import ancestors, clone_get_equiv, clone_replace

__all__ = ["scan_grad", "scan_rop"]

_FLOATS = ("float16", "float32", "float64", "complex64", "complex128")


def _is_float(var):
    return getattr(var.type, "dtype", None) in _FLOATS


def _is_zeros(var):
    """True for the ``zeros_like`` that ``grad`` gives an output nobody differentiates."""
    from theanolab.scalar.basic import Second
    from theanolab.tensor.elemwise import DimShuffle, Elemwise
    from theanolab.tensor.variable import TensorConstant

    node = var.owner
    if node is None or not (isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Second)):
        return False
    value = node.inputs[1]
    while value.owner is not None and isinstance(value.owner.op, DimShuffle):
        value = value.owner.inputs[0]
    return isinstance(value, TensorConstant) and not value.data.any()


def _body(op, replace):
    """The body's outputs, rebuilt on ``replace`` (``{inner input: variable}``)."""
    equiv = clone_get_equiv(op.fgraph.inputs, op.fgraph.outputs, copy_inputs=False, memo=dict(replace))
    return [equiv[out] for out in op.fgraph.outputs]


def _taker(values):
    """``take(k)`` returns the next ``k`` of ``values``: how a step function unpacks its arguments."""
    rest = list(values)

    def take(count):
        taken = rest[:count]
        del rest[:count]
        return taken

    return take


def _accumulate(mapping, var, value):
    mapping[var] = mapping[var] + value if var in mapping else value


def _not_differentiable(op, inputs, why):
    from theanolab.gradient import grad_not_implemented

    return [None] + [grad_not_implemented(op, i, x, why) if _is_float(x) else None
                     for i, x in enumerate(inputs) if i > 0]


def scan_grad(op, inputs, outputs, output_grads):
    """``Scan.L_op``: the gradients of the outer inputs, computed by a backward scan."""
    import theanolab.tensor as T
    from theanolab.gradient import grad
    from theanolab.scan.api import _scan

    info = op.info
    if info.as_while:
        return _not_differentiable(op, inputs, "Scan with an until condition has no gradient "
                                               "(the number of steps is decided at run time).")
    n, sequences, initials, _, non_seqs = info.split_outer_inputs(inputs)
    buffers, per_step_values, _ = info.split_outer_outputs(outputs)
    g_buffers, g_per_step, _ = info.split_outer_outputs(output_grads)
    seq_in, taps_in, shared_in, non_seq_in = info.split_inner_inputs(op.fgraph.inputs)
    _, per_step_out, _, _ = info.split_inner_outputs(op.fgraph.outputs)
    steps = n if op.truncate_gradient < 0 else T.minimum(n, T.constant(op.truncate_gradient, dtype="int64"))
    start = n - steps

    diff_seqs = [i for i, s in enumerate(sequences) if _is_float(s)]
    diff_states = [j for j, b in enumerate(buffers) if _is_float(b)]
    diff_non_seqs = [i for i, v in enumerate(non_seqs) if _is_float(v)]
    diff_per_step = [m for m, y in enumerate(per_step_out) if _is_float(y) and not _is_zeros(g_per_step[m])]
    lags = info.lags
    # What the backward scan loops over (backwards): the forward values of the steps it processes.
    tap_values = [buffers[j][lags[j] + k + start:lags[j] + k + n]
                  for j in range(info.n_states) for k in info.state_taps[j]]
    # The forward values of the outputs (state j at step t is row lag + t), read instead of recomputed.
    forward_values = ([buffers[j][lags[j] + start:lags[j] + n] for j in range(info.n_states)]
                      + [per_step_values[m][start:n] for m in diff_per_step])
    loop_sequences = ([s[start:n] for s in sequences] + tap_values
                      + [g_buffers[j][lags[j] + start:lags[j] + n] for j in diff_states]
                      + [g_per_step[m][start:n] for m in diff_per_step] + forward_values)
    carries = [T.zeros_like(initials[j][0]) for j in diff_states for _ in range(lags[j])]
    sums = [T.zeros_like(non_seqs[i]) for i in diff_non_seqs]
    shared_set = set(shared_in)

    def backward_step(*args):
        take = _taker(args)
        seq_values = take(len(sequences))
        tap_args = take(info.n_taps)
        g_states = take(len(diff_states))
        g_steps = take(len(diff_per_step))
        forward_rows = take(len(forward_values))
        carry_args = take(len(carries))
        sum_args = take(len(sums))
        non_seq_values = take(len(non_seqs))
        tap_groups, position = [], 0
        for taps in info.state_taps:
            tap_groups.append(tap_args[position:position + len(taps)])
            position += len(taps)
        replace = dict(zip(seq_in, seq_values))
        replace.update(zip([v for group in taps_in for v in group], tap_args))
        replace.update(zip(non_seq_in, non_seq_values))
        body = _body(op, replace)
        states_out, steps_out, _, _ = info.split_inner_outputs(body)
        known, carry_of = {}, {}
        position = 0
        for j, g in zip(diff_states, g_states):
            carry_of[j] = carry_args[position:position + lags[j]]
            position += lags[j]
            _accumulate(known, states_out[j], g + carry_of[j][-1])
        for m, g in zip(diff_per_step, g_steps):
            _accumulate(known, steps_out[m], g)
        wrt = ([seq_values[i] for i in diff_seqs] + [v for j in diff_states for v in tap_groups[j]]
               + [non_seq_values[i] for i in diff_non_seqs])
        if known:
            grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore")
        else:
            grads = [T.zeros_like(v) for v in wrt]
        computed = list(states_out) + [steps_out[m] for m in diff_per_step]
        grads = clone_replace(grads, {out: row for out, row in zip(computed, forward_rows) if out.type == row.type})
        needed = [v for v in ancestors(grads) if v in shared_set]
        if needed:
            raise NotImplementedError(
                f"the gradient through {op} needs the values that {', '.join(map(str, needed))} takes "
                "inside the loop, which the loop updates (a shared variable in updates, or a random "
                "generator drawn from inside fn); such gradients are not supported: carry the value "
                "through outputs_info instead")
        g_seqs = grads[:len(diff_seqs)]
        g_taps = grads[len(diff_seqs):len(grads) - len(diff_non_seqs)]
        g_non_seqs = grads[len(grads) - len(diff_non_seqs):]
        new_carries, position = [], 0
        for j in diff_states:
            by_tap = dict(zip(info.state_taps[j], g_taps[position:position + len(info.state_taps[j])]))
            position += len(info.state_taps[j])
            lag, carry = lags[j], carry_of[j]
            for i in range(lag):
                sent = by_tap.get(i - lag)
                older = carry[i - 1] if i > 0 else None
                total = sent if older is None else (older if sent is None else older + sent)
                new_carries.append(T.cast(total, carry[i].dtype) if total is not None else T.zeros_like(carry[i]))
        new_sums = [s + T.cast(g, s.dtype) for s, g in zip(sum_args, g_non_seqs)]
        return new_carries + new_sums + list(g_seqs)

    result = _scan(backward_step, sequences=loop_sequences,
                   outputs_info=carries + sums + [None] * len(diff_seqs), non_sequences=non_seqs,
                   n_steps=steps, go_backwards=True, mode=op.mode, name=f"grad_of_{op.name}")
    finals = [result.buffer(i)[-1] for i in range(len(carries) + len(sums))]
    carry_finals, sum_finals = finals[:len(carries)], finals[len(carries):]
    g_seq_steps = result.outputs[len(carries) + len(sums):]

    input_grads = [None] * len(inputs)
    for i, g in zip(diff_seqs, g_seq_steps):
        input_grads[1 + i] = T.set_subtensor(T.zeros_like(sequences[i])[start:n], g[::-1])
    position = 0
    for j in diff_states:
        lag = lags[j]
        carried = T.stack(carry_finals[position:position + lag])
        position += lag
        if op.truncate_gradient >= 0:  # cut short, the backward pass never reached the initial values
            carried = carried * T.cast(T.eq(steps, n), carried.dtype)
        input_grads[1 + info.n_sequences + j] = g_buffers[j][:lag] + carried
    first_non_seq = 1 + info.n_sequences + info.n_states + info.n_shared
    for i, g in zip(diff_non_seqs, sum_finals):
        input_grads[first_non_seq + i] = g
    return input_grads


def scan_rop(op, inputs, eval_points):
    """``Scan.R_op``: a scan computing the body and its Jacobian-vector product side by side."""
    import theanolab.tensor as T
    from theanolab.gradient import Rop
    from theanolab.scan.api import _scan

    info = op.info
    if info.as_while or info.n_shared:
        raise NotImplementedError(f"R_op of {op}: not defined for loops with an until condition "
                                  "or with shared variables updated inside")
    n, sequences, initials, _, non_seqs = info.split_outer_inputs(inputs)
    _, seq_points, initial_points, _, non_seq_points = info.split_outer_inputs(eval_points)
    seq_points = [p if p is not None else T.zeros_like(s) for s, p in zip(sequences, seq_points)]
    initial_points = [p if p is not None else T.zeros_like(b) for b, p in zip(initials, initial_points)]
    non_seq_points = [p if p is not None else T.zeros_like(v) for v, p in zip(non_seqs, non_seq_points)]
    seq_in, taps_in, _, non_seq_in = info.split_inner_inputs(op.fgraph.inputs)
    state_in = [v for group in taps_in for v in group]

    def state_info(buffer, taps):
        return {"initial": buffer[0] if taps == (-1,) else buffer, "taps": list(taps)}

    outputs_info = ([state_info(b, taps) for b, taps in zip(initials, info.state_taps)]
                    + [state_info(p, taps) for p, taps in zip(initial_points, info.state_taps)]
                    + [None] * (2 * info.n_per_step))

    def step(*args):
        take = _taker(args)
        seq_values, seq_dirs = take(len(sequences)), take(len(sequences))
        state_values, state_dirs = take(info.n_taps), take(info.n_taps)
        non_seq_values, non_seq_dirs = take(len(non_seqs)), take(len(non_seqs))
        replace = dict(zip(seq_in, seq_values))
        replace.update(zip(state_in, state_values))
        replace.update(zip(non_seq_in, non_seq_values))
        body = _body(op, replace)
        states_out, steps_out, _, _ = info.split_inner_outputs(body)
        wrt = seq_values + state_values + non_seq_values
        points = seq_dirs + state_dirs + non_seq_dirs
        pairs = [(w, p) for w, p in zip(wrt, points) if _is_float(w)]
        directions = Rop(states_out + steps_out, [w for w, _ in pairs], [p for _, p in pairs],
                         disconnected_outputs="zero") if pairs else [T.zeros_like(o) for o in body]
        d_states, d_steps = directions[:info.n_states], directions[info.n_states:]
        d_states = [T.cast(d, s.dtype) for d, s in zip(d_states, states_out)]
        return states_out + d_states + steps_out + list(d_steps)

    result = _scan(step, sequences=sequences + seq_points, outputs_info=outputs_info,
                   non_sequences=non_seqs + non_seq_points, n_steps=n, mode=op.mode, name=f"rop_of_{op.name}")
    state_dirs = [result.buffer(info.n_states + j) for j in range(info.n_states)]
    step_dirs = result.outputs[2 * info.n_states + info.n_per_step:]
    return state_dirs + step_dirs
