"""A Scan's loop in C: every step of a call in one call into C, with no Python between steps.

Design.  The body of a scan (:attr:`Scan.fgraph <theanolab.scan.op.Scan>`) is
compiled by the outer function's mode like any function; on the C backend,
when its every node has C, that gives a whole-function driver
(:mod:`theanolab.backends.c.whole`): one C function running the body once.
The loop here (``kernels/c/scan_loop.h``, built once for every scan into
the drivers' runtime module) takes that compiled body and runs it ``n``
times from C, on the op's own buffer layout (:mod:`theanolab.scan.op`):

- each step binds the body's inputs to *row views* of the sequences and
  state buffers (row ``(L + t + k) mod R`` of a buffer of ``R`` rows: the
  whole history, or the last rows only when a rewrite keeps fewer), so no
  slice is ever copied;
- the driver places its outputs through a hook the loop replaces while it
  runs: a new state is computed straight into its row of the state buffer
  and a per-step output into row ``t`` of its buffer, so nothing is
  allocated per step (a shared value carried between steps and the
  ``until`` condition get new arrays, as a function's outputs do);
- the driver's intermediates keep their buffers from step to step, so a
  step allocates nothing either.

Where it plugs in.  The Scan node stays a node of the outer function's
mixed machine (:mod:`theanolab.backends.c.linker`): its thunk
(:class:`ScanLoopThunk`, made by ``Scan.c_thunk``) does the per-call
Python (checking ``n_steps``, allocating the state buffers, cutting them
after an ``until``) and one C call for the steps.  The outer function is
then not one C function; a call costs the mixed machine's few microseconds
per outer node, nothing per step.  A body that cannot be one C function
(an op without C, a random generator object, a nested scan) gets no thunk:
the node runs ``Scan.perform``'s Python loop, and ``Function.node_backends``
(and ``debugprint``'s ``[C]`` marks) say which.  So do zero-step calls
(nothing to run; the per-step outputs' shapes come from the shape rules)
and calls while ``config.scan_trace`` records iterations.

An error inside the body names the body's node, the step and the scan node
(the outer machine adds the last); a state or per-step output whose shape
changes between steps raises the same error as the Python loop.
"""

from __future__ import annotations

from theanolab.backends.c.whole import WholeFunction, _ERRORS, _failure, _runtime
from theanolab.compile.mode import _WHOLE_FUNCTION_LINKERS

__all__ = ["ScanLoopThunk", "scan_thunk"]

_NEW, _STATE, _STEP = 0, 1, 2  # TL_PLACE_* in scan_loop.h
_MAX_ROW_RANK = 31  # a per-step output's buffer has one more dimension, NumPy allows 32


def _placements(op, node):
    """Per body output, ``(TL_PLACE_*, index)``, or None if an output cannot go into its buffer's rows."""
    info = op.info
    states, per_step, shared, condition = info.split_inner_outputs(op.fgraph.outputs)
    places = []
    for j, out in enumerate(states):
        buffer = node.outputs[j]
        if out.type.dtype != buffer.type.dtype or out.type.ndim != buffer.type.ndim - 1:
            return None
        places.append((_STATE, j))
    for m, out in enumerate(per_step):
        if out.type.ndim > _MAX_ROW_RANK:
            return None
        places.append((_STEP, m))
    places += [(_NEW, i) for i in range(len(shared))] + ([(_NEW, 0)] if condition is not None else [])
    return places


def scan_thunk(node):
    """A :class:`ScanLoopThunk` for the Scan ``node`` if its body compiles into one C function, else None."""
    op = node.op
    mode = op.inner_mode(node)
    if mode.backend != "c" or mode.linker not in _WHOLE_FUNCTION_LINKERS:
        return None
    places = _placements(op, node)
    if places is None:
        return None
    _, runner = op.runner(mode)
    if not isinstance(runner, WholeFunction):
        return None
    info = op.info
    tap_states = tuple(j for j, taps in enumerate(info.state_taps) for _ in taps)
    tap_offsets = tuple(lag + k for lag, taps in zip(info.lags, info.state_taps) for k in taps)
    counts = (info.n_sequences, info.n_states, info.n_per_step, info.n_shared, info.n_non_sequences,
              int(info.as_while))
    spec = (runner._run, _step_failure(op, runner.nodes), counts, tuple(info.lags), tap_states, tap_offsets,
            tuple(kind for kind, _ in places), tuple(index for _, index in places),
            tuple(-1 if info.is_reversed(m) else info.rows_kept(info.n_states + m) or 0
                  for m in range(info.n_per_step)))
    return ScanLoopThunk(op, _runtime("tl_scan_loop_make")(spec))


def _step_failure(op, body_nodes):
    """What the loop calls on an error at a step: raise it naming the body's node (or the output whose
    shape changed) and the step."""
    node_failure = _failure(body_nodes)

    def fail(step, index, message, inputs, status):
        if index < 0:  # inputs: (shape, expected shape) of the output ``message`` names
            op.raise_shape_change(step, message, *inputs)
        try:
            node_failure(index, message, inputs, status)
        except Exception as exc:  # noqa: BLE001  (re-raised with the step)
            op.raise_at_step(exc, step)
        raise _ERRORS.get(status, ValueError)(message)  # node_failure always raises

    return fail


class ScanLoopThunk:
    """Runs a Scan node's steps in C; same call signature as ``Op.perform``."""

    def __init__(self, op, loop):
        self.op, self._loop = op, loop

    def __call__(self, node, inputs, output_storage):
        op, info = self.op, self.op.info
        n_steps, sequences, initials, shared, non_sequences = info.split_outer_inputs(inputs)
        n_steps = op._check_n_steps(node, n_steps, sequences)
        if n_steps == 0 or op.recording(node):
            return op.perform(node, inputs, output_storage)
        buffers = [op._state_buffer(node, j, init, n_steps) for j, init in enumerate(initials)]
        steps_run, per_step, shared = self._loop(n_steps, tuple(sequences), tuple(buffers), tuple(shared),
                                                 tuple(non_sequences))
        op._finish(node, inputs, output_storage, buffers, per_step, shared, steps_run)
