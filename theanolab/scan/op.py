"""The Scan op: a loop whose body is a self-contained inner FunctionGraph.

Each step of the loop is one run of the inner graph (:attr:`Scan.fgraph`),
whose inputs and outputs are explicit (their order is described in
:mod:`theanolab.scan.info`): the slices of the sequences at step ``t``, the
taps of the states, the values of shared variables the loop updates, and
the non-sequences; it computes the new states, the per-step outputs, the new
shared values and, for an ``until`` loop, the stop condition.  Nothing in
the inner graph refers to the outer graph, so any backend can compile it on
its own.

How ``perform`` runs the loop
-----------------------------
The inner graph is compiled once per mode (cached on the op) by the mode of
the function that contains the node (``prepare_node`` is told that mode when
the outer function is built), or by the ``mode`` given to ``scan``.  Then,
with ``n = n_steps``:

- state ``j`` (lag ``L``) gets one buffer of ``L + n`` rows: rows ``0..L-1``
  are the initial values (row ``i`` is the state at time ``i - L``), row
  ``L + t`` receives the state computed at step ``t``, and step ``t`` reads
  its tap ``k`` from row ``L + t + k``.  The buffer is the node's output, so
  nothing is copied at the end;
- per-step output ``m`` gets a buffer of ``n`` rows, allocated when step 0
  has told its shape;
- a shared variable's value is carried from step to step, and the final one
  is the output;
- an ``until`` loop stops after the step whose condition is true, and its
  buffers are cut to the steps run;
- an output with kept rows (``info.kept_rows``, see :mod:`theanolab.scan.info`)
  gets a buffer of only ``K`` rows (fewer if the loop is shorter), used
  circularly: every row index above is taken modulo the buffer's length
  (which changes nothing for a full buffer), and at the end the rows are
  put back in time order (:func:`_in_time_order`).

A C loop can keep exactly this layout: each step binds its input cells to
row views of the buffers (no copies), calls the inner graph's
whole-function driver (:mod:`theanolab.backends.c.whole`) and writes its
outputs into row ``L + t`` of each state buffer and row ``t`` of each
per-step buffer.
"""

from __future__ import annotations

import copy

import numpy as np

from theanolab.graph.basic import Apply, Constant, ancestors
from theanolab.graph.op import Op
from theanolab.scan.info import ScanInfo
from theanolab.scan.trace import recorder_for

__all__ = ["Scan", "ScanInfo"]


class Scan(Op):
    """Run ``fgraph`` (the body) ``n_steps`` times; see the module docstring for the layout.

    Each instance owns its inner graph, so instances compare by identity.
    ``truncate_gradient`` (-1: none) limits backpropagation through time to
    the last steps; ``mode`` (None: the outer function's) compiles the body.
    """

    def __init__(self, fgraph, info: ScanInfo, name=None, mode=None, truncate_gradient=-1):
        if len(fgraph.inputs) != len(info.inner_input_sources()):
            raise ValueError(f"the inner graph has {len(fgraph.inputs)} inputs, the layout "
                             f"{info} expects {len(info.inner_input_sources())}")
        self.fgraph = fgraph
        self.info = info
        self.name = name or "scan_fn"
        self.mode = mode
        self.truncate_gradient = truncate_gradient
        self._runners = {}
        self._row_shapes = None

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return f"{'while' if self.info.as_while else 'for'}{{cpu,{self.name}}}"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_runners"] = {}
        state["_row_shapes"] = None
        return state

    # ------------------------------------------------------------------ inner graph (printing)

    @property
    def inner_inputs(self):
        return list(self.fgraph.inputs)

    @property
    def inner_outputs(self):
        return list(self.fgraph.outputs)

    @property
    def inner_input_sources(self):
        """Position of the outer input each inner input reads (several taps read one buffer)."""
        return self.info.inner_input_sources()

    # ------------------------------------------------------------------ building

    def make_node(self, *inputs):
        from theanolab.tensor.type import TensorType
        from theanolab.tensor.variable import as_tensor_variable

        info = self.info
        if len(inputs) != info.n_outer_inputs:
            raise ValueError(f"{self} takes {info.n_outer_inputs} inputs, got {len(inputs)}")
        inputs = [as_tensor_variable(v) if i == 0 else v for i, v in enumerate(inputs)]
        n_steps = inputs[0]
        if n_steps.ndim != 0 or n_steps.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps} ({n_steps.type})")
        sources = info.inner_input_sources()
        for inner, position in zip(self.fgraph.inputs, sources):
            outer = inputs[position]
            expected = outer.type
            if position < 1 + info.n_sequences + info.n_states:  # a row of a sequence or a buffer
                if not isinstance(expected, TensorType) or expected.ndim < 1:
                    raise TypeError(f"{self}: input {position} ({outer}) must have a leading time axis, "
                                    f"but its type is {expected}")
                expected = TensorType(expected.dtype, expected.broadcastable[1:])
            if inner.type != expected and not inner.type.is_compatible(expected):
                raise TypeError(f"{self}: input {position} ({outer}, {outer.type}) does not fit the inner "
                                f"input {inner} of type {inner.type}")
        _, per_step, _, _ = info.split_inner_outputs(self.fgraph.outputs)
        _, taps, _, _ = info.split_inner_inputs(self.fgraph.inputs)
        outputs = [TensorType(t[0].type.dtype, (False,) + t[0].type.broadcastable)() for t in taps]
        outputs += [TensorType(y.type.dtype, (False,) + y.type.broadcastable)() for y in per_step]
        outputs += [v.type() for v in info.split_outer_inputs(inputs)[3]]
        return Apply(self, inputs, outputs)

    def prepare_node(self, node, mode):
        """Called when a function containing ``node`` is built: its mode compiles the body."""
        node.tag.scan_mode = mode

    # ------------------------------------------------------------------ running

    def inner_mode(self, node):
        """The mode compiling the body: scan's ``mode``, else the outer function's, else the default."""
        from theanolab.compile.mode import get_mode

        if self.mode is not None:
            return get_mode(self.mode)
        return node.tag.get("scan_mode") or get_mode(None)

    def runner(self, mode):
        """``(input cells, run)``: the body compiled by ``mode`` (once), run by ``run()``."""
        if mode not in self._runners:
            from theanolab.compile.function import FunctionMaker

            maker = FunctionMaker(list(self.fgraph.inputs), list(self.fgraph.outputs), mode=mode,
                                  on_unused_input="ignore")
            cells = [[None] for _ in self.fgraph.inputs]
            self._runners[mode] = (cells, maker.mode.build_runner(maker, cells))
        return self._runners[mode]

    def perform(self, node, inputs, output_storage):
        self.loop(node, inputs, output_storage, self.runner(self.inner_mode(node)), np)

    def loop(self, node, inputs, output_storage, body, xp):
        """The Python loop: ``body`` (``(input cells, run)``, the compiled body) runs once per step,
        on arrays of the module ``xp`` (NumPy; CuPy when the loop runs on a GPU)."""
        info = self.info
        n_steps, sequences, initials, shared, non_sequences = info.split_outer_inputs(inputs)
        n_steps = self._check_n_steps(node, n_steps, sequences)
        cells, run = body
        seq_cells, tap_cells, shared_cells, non_seq_cells = info.split_inner_inputs(cells)
        buffers = [self._state_buffer(node, j, init, n_steps, xp) for j, init in enumerate(initials)]
        # (cell, buffer, row offset): tap k of a state of lag L is row L + t + k at step t
        # (modulo the buffer's length, for a circular buffer of kept rows).
        tap_plan = [(cell, buffers[j], lag + k)
                    for j, (lag, taps) in enumerate(zip(info.lags, info.state_taps))
                    for cell, k in zip(tap_cells[j], taps)]
        per_step = [None] * info.n_per_step
        shared = list(shared)
        for cell, value in zip(non_seq_cells, non_sequences):
            cell[0] = value
        recorder = recorder_for(self, node)
        steps_run = n_steps
        for t in range(n_steps):
            for cell, sequence in zip(seq_cells, sequences):
                cell[0] = sequence[t, ...]
            for cell, buffer, offset in tap_plan:
                cell[0] = buffer[(t + offset) % len(buffer), ...]
            for cell, value in zip(shared_cells, shared):
                cell[0] = value
            if recorder is not None:
                recorder.before(t, [cell[0] for cell in cells])
            try:
                outputs = run()
            except Exception as exc:  # noqa: BLE001  (re-raised, same type, with the step)
                self.raise_at_step(exc, t)
            new_states, new_per_step, new_shared, condition = info.split_inner_outputs(outputs)
            for j, (buffer, lag, value) in enumerate(zip(buffers, info.lags, new_states)):
                self._store(buffer, (lag + t) % len(buffer), value, f"state {j}", t)
            for m, value in enumerate(new_per_step):
                if per_step[m] is None:
                    dtype = node.outputs[info.n_states + m].dtype
                    rows = _rows(n_steps, info.rows_kept(info.n_states + m))
                    per_step[m] = xp.empty((rows,) + np.shape(value), dtype=dtype)
                row = n_steps - 1 - t if info.is_reversed(m) else t % len(per_step[m])
                self._store(per_step[m], row, value, f"per-step output {m}", t)
            shared = list(new_shared)
            if recorder is not None:
                recorder.after(outputs)
            if condition is not None and bool(condition):
                steps_run = t + 1
                break
        if recorder is not None:
            recorder.finish()
        self._finish(node, inputs, output_storage, buffers, per_step, shared, steps_run, xp)

    def _finish(self, node, inputs, output_storage, buffers, per_step, shared, steps_run, xp=np):
        """Store the outputs of a loop that ran ``steps_run`` steps (the Python loop's or the C one's)."""
        info = self.info
        # an until loop that stopped early keeps only the steps run; circular buffers are unrolled
        buffers = [_in_time_order(b, lag + steps_run, xp) for b, lag in zip(buffers, info.lags)]
        per_step = [None if p is None else _in_time_order(p, steps_run, xp) for p in per_step]
        if any(p is None for p in per_step):  # no step ran: the body's shape rules give the rows' shapes
            rows = self._per_step_row_shapes(node, inputs)
            per_step = [xp.empty((0,) + rows[m], dtype=node.outputs[info.n_states + m].dtype) if p is None else p
                        for m, p in enumerate(per_step)]
        results = buffers + per_step
        results += [_own(value, list(inputs) + results, xp) for value in shared]
        for storage, value in zip(output_storage, results):
            storage[0] = value

    def _check_n_steps(self, node, n_steps, sequences):
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"{self}: n_steps must be >= 0, got {n_steps}")
        for i, sequence in enumerate(sequences):
            if len(sequence) < n_steps:
                raise ValueError(
                    f"{self}: n_steps is {n_steps} but sequence {i} ({node.inputs[1 + i]}) has only "
                    f"{len(sequence)} step(s); the sequences must be at least n_steps long "
                    "(leave n_steps out to loop over the shortest sequence)")
        return n_steps

    def _state_buffer(self, node, j, initial, n_steps, xp=np):
        lag = self.info.lags[j]
        initial = xp.asarray(initial)
        if initial.shape[0] != lag:
            raise ValueError(f"{self}: state {j} has taps {list(self.info.state_taps[j])}, so its initial "
                             f"value needs {lag} row(s) along its first axis, but it has {initial.shape[0]}")
        rows = _rows(lag + n_steps, self.info.rows_kept(j))
        buffer = xp.empty((rows,) + initial.shape[1:], dtype=node.outputs[j].dtype)
        buffer[:lag] = initial
        return buffer

    def _store(self, buffer, row, value, what, step):
        if np.shape(value) != buffer.shape[1:]:
            self.raise_shape_change(step, what, np.shape(value), buffer.shape[1:])
        buffer[row] = value

    def raise_shape_change(self, step, what, shape, expected):
        raise ValueError(f"{self}: at step {step}, {what} has shape {tuple(shape)} but the loop "
                         f"expects {tuple(expected)} (the shape of its initial value or of step 0); "
                         "a value carried or collected by scan must keep its shape")

    def raise_at_step(self, exc, step):
        """Re-raise ``exc``, an error inside the body (naming the body's node), with the step it ran."""
        message = f"{exc}\n(at step {step} of the loop of {self})"
        try:
            new = type(exc)(message)
        except Exception:  # noqa: BLE001  (an exception type taking other arguments)
            raise exc from None
        new.__dict__.update(exc.__dict__)
        new.step = step
        raise new.with_traceback(exc.__traceback__) from None

    def recording(self, node):
        """True while ``config.scan_trace`` records this node's iterations (the Python loop does that)."""
        from theanolab.config import config

        return bool(config.scan_trace)

    def c_thunk(self, node):
        """The C loop running ``node`` on the C backend, or None: the body is no one C function, and
        ``perform`` (the Python loop) runs it (:mod:`theanolab.backends.c.scan_loop`)."""
        from theanolab.backends.c.scan_loop import scan_thunk

        return scan_thunk(node)

    def _per_step_row_shapes(self, node, inputs):
        """The shape of one step of each per-step output, computed from the outer inputs' values by
        the body's shape rules (compiled once); 0 where they do not tell (1 where broadcastable)."""
        from theanolab.compile.function import function
        from theanolab.tensor.shape import shape_i
        from theanolab.tensor.type import TensorType

        if self._row_shapes is None:
            stand_ins = [v.type() for v in node.inputs]
            shapes = [tuple(shape_i(v, d) for d in range(v.type.ndim)) if isinstance(v.type, TensorType) else None
                      for v in stand_ins]
            known = _inner_shapes(self, shapes)
            _, per_step, _, _ = self.info.split_inner_outputs(self.fgraph.outputs)
            known_rows = [known.get(y) for y in per_step]
            entries = [e for row in known_rows if row is not None for e in row]
            compute = function(stand_ins, entries, mode="FAST_COMPILE", on_unused_input="ignore") if entries else None
            self._row_shapes = (compute, known_rows)
        compute, known_rows = self._row_shapes
        values = iter(compute(*inputs) if compute is not None else [])
        rows = []
        for y, row in zip(self.info.split_inner_outputs(self.fgraph.outputs)[1], known_rows):
            fallback = tuple(1 if b else 0 for b in y.type.broadcastable)
            rows.append(fallback if row is None else tuple(int(next(values)) for _ in row))
        return rows

    # ------------------------------------------------------------------ shapes

    def infer_shape(self, node, input_shapes):
        from theanolab.tensor.variable import constant

        info = self.info
        n_steps = None if info.as_while else node.inputs[0]
        _, _, initial_shapes, shared_shapes, _ = info.split_outer_inputs(input_shapes)
        shapes = []
        for j, (lag, shape) in enumerate(zip(info.lags, initial_shapes)):
            length = None if n_steps is None else n_steps + constant(lag, dtype="int64")
            shapes.append((_kept_length(length, info.rows_kept(j)),) + tuple(shape[1:]))
        inner = _inner_shapes(self, input_shapes)
        _, per_step, _, _ = info.split_inner_outputs(self.fgraph.outputs)
        for m, y in enumerate(per_step):
            length = _kept_length(n_steps, info.rows_kept(info.n_states + m))
            shapes.append((length,) + tuple(inner.get(y) or (None,) * y.type.ndim))
        shapes += list(shared_shapes)
        return shapes

    # ------------------------------------------------------------------ calculus

    def L_op(self, inputs, outputs, output_grads):
        from theanolab.scan.grad import scan_grad

        self._check_all_rows_kept("its gradient")
        return scan_grad(self, inputs, outputs, output_grads)

    def R_op(self, inputs, eval_points):
        from theanolab.scan.grad import scan_rop

        self._check_all_rows_kept("R_op")
        return scan_rop(self, inputs, eval_points)

    def _check_all_rows_kept(self, what):
        """Derivatives need every step's values: a node keeping only the last rows has none."""
        if self.info.kept_rows is not None and any(k is not None for k in self.info.kept_rows):
            raise NotImplementedError(
                f"{what} of {self}: this node keeps only the last rows of some outputs (kept_rows "
                f"{self.info.kept_rows}, set by the scan_keep_last_rows rewrite, which runs after "
                "differentiation); differentiate the graph scan built, not a compiled one")
        if self.info.reversed_rows is not None and any(self.info.reversed_rows):
            raise NotImplementedError(
                f"{what} of {self}: this node stores some per-step outputs in reversed rows (reversed_rows "
                f"{self.info.reversed_rows}, set by the scan_pushout_accumulators rewrite); differentiate "
                "the graph scan built, not a compiled one")


def _rows(full, kept):
    """The rows a buffer allocates: ``full``, or at most the ``kept`` last ones."""
    return full if kept is None else min(full, kept)


def _kept_length(length, kept):
    """The symbolic length of an output keeping ``kept`` rows (None: all ``length`` of them)."""
    from theanolab.tensor.math import minimum
    from theanolab.tensor.variable import constant

    if kept is None or length is None:
        return length
    return minimum(length, constant(kept, dtype="int64"))


def _in_time_order(buffer, written, xp):
    """The last rows of a buffer into which ``written`` rows went (circularly when more than fit),
    oldest first; a buffer with rows never written is cut to the rows written."""
    rows = len(buffer)
    if written > rows:
        return xp.roll(buffer, -(written % rows), axis=0)
    return buffer if written == rows else buffer[:written].copy()


def _own(value, others, xp):
    """A final shared value that is no view of an input or another output (a copy if it was)."""
    if isinstance(value, xp.ndarray):
        if any(isinstance(v, xp.ndarray) and xp.may_share_memory(value, v) for v in others):
            return value.copy()
        return value
    return copy.deepcopy(value) if any(value is v for v in others) else value


def _inner_shapes(op, outer_shapes):
    """``{inner variable: shape in outer terms}`` for the body's variables whose shape is known.

    The body's inputs take the shapes of what they read (a row of a sequence
    or buffer, or a whole non-sequence); each node's ``infer_shape`` carries
    them forward.  A shape that still mentions an inner variable is dropped.
    """
    from theanolab.tensor.type import TensorType
    from theanolab.tensor.variable import as_tensor_variable, constant

    info = op.info
    fgraph = op.fgraph
    known = {}
    rows = 1 + info.n_sequences + info.n_states
    for inner, position in zip(fgraph.inputs, info.inner_input_sources()):
        shape = outer_shapes[position]
        if shape is not None:
            known[inner] = tuple(shape[1:]) if position < rows else tuple(shape)
    inner_variables = fgraph.variables
    for node in fgraph.toposort():
        in_shapes = []
        for var in node.inputs:
            if isinstance(var, Constant) and isinstance(var.type, TensorType):
                known.setdefault(var, tuple(constant(n, dtype="int64") for n in np.shape(var.data)))
            in_shapes.append(known.get(var))
        if any(s is None and isinstance(v.type, TensorType) for s, v in zip(in_shapes, node.inputs)):
            continue
        try:
            shapes = node.op.infer_shape(node, in_shapes)
        except (NotImplementedError, TypeError, ValueError, AttributeError, IndexError):
            continue
        for out, shape in zip(node.outputs, shapes):
            if shape is None or any(e is None for e in shape):
                continue
            shape = tuple(as_tensor_variable(e) for e in shape)
            if not any(v in inner_variables for v in ancestors(shape)):
                known[out] = shape
    return known
