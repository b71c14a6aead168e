"""Iteration records: what every step of a scan read and computed, for stepping through a loop.

Recording is off by default (it copies every step's values).  Turn it on
with the ``scan_trace`` flag while calling a compiled function; the records
are then read from the function::

    >>> import numpy as np, theanolab, theanolab.tensor as T
    >>> k = T.iscalar('k'); A = T.dvector('A')
    >>> result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
    ...                                  non_sequences=A, n_steps=k)
    >>> power = theanolab.function([A, k], result[-1], updates=updates)
    >>> with theanolab.change_flags(scan_trace=True):
    ...     _ = power(np.array([1., 2., 3.]), 2)
    >>> trace = power.scan_traces[0]
    >>> [step.outputs['state 0'].tolist() for step in trace.steps]
    [[1.0, 2.0, 3.0], [1.0, 4.0, 9.0]]
    >>> sorted(trace.steps[1].states), sorted(trace.steps[1].non_sequences)
    (['state 0[t-1]'], ['A_copy'])

``f.scan_traces`` lists one :class:`ScanTrace` per scan of ``f`` (in the
order they run; ``f.scan_traces['name']`` finds one by its ``name``).  Each
keeps its last calls (:attr:`ScanTrace.calls`, newest last); ``.steps`` are
the steps of the newest.  A step's values are keyed by the inner graph's
variable names (``x[t]``, ``h0[t-1]``, ``W_copy``; a new state ``h0[t]``,
a per-step output ``y_t``), or by role where a variable has no name
(``sequence 0[t]``, ``state 1[t-2]``, ``non_sequence 0``, ``state 0``,
``output 1``, ``shared 0``, ``until``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from theanolab.graph.op import base_op

__all__ = ["ScanStep", "ScanCall", "ScanTrace", "ScanTraces", "traces_of", "recorder_for", "MAX_CALLS"]

#: how many calls of one scan node are kept (the oldest are dropped).
MAX_CALLS = 16


@dataclass
class ScanStep:
    """One iteration: what it read (by role) and what it computed."""

    index: int
    sequences: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    shared: dict = field(default_factory=dict)
    non_sequences: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)


@dataclass
class ScanCall:
    """One run of the loop: its steps, in order."""

    steps: list = field(default_factory=list)

    @property
    def n_steps(self):
        return len(self.steps)


class ScanTrace:
    """The recorded calls of one scan node of a compiled function."""

    def __init__(self, node):
        self.node = node
        self.name = base_op(node.op).name
        self.calls = deque(maxlen=MAX_CALLS)

    @property
    def steps(self):
        """The steps of the newest call (empty before any recorded call)."""
        return self.calls[-1].steps if self.calls else []

    def __repr__(self):
        return f"<ScanTrace {self.name}: {len(self.calls)} call(s), last with {len(self.steps)} step(s)>"


class ScanTraces(list):
    """The traces of a function's scans; index by position or by scan ``name``."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for trace in self:
                if trace.name == key:
                    return trace
            raise KeyError(f"no scan named {key!r}; the scans are {[t.name for t in self]}")
        return super().__getitem__(key)


def _labels(op):
    """Labels of the body's inputs (grouped by role) and outputs: names, or roles where unnamed."""
    info = op.info
    sequences, taps, shared, non_sequences = info.split_inner_inputs(op.fgraph.inputs)
    inputs = {
        "sequences": [v.name or f"sequence {i}[t]" for i, v in enumerate(sequences)],
        "states": [v.name or f"state {j}[t{k:+d}]" for j, (state, ks) in enumerate(zip(taps, info.state_taps))
                   for v, k in zip(state, ks)],
        "shared": [v.name or f"shared {i}" for i, v in enumerate(shared)],
        "non_sequences": [v.name or f"non_sequence {i}" for i, v in enumerate(non_sequences)],
    }
    states = [_state_label(j, state[0].name) for j, state in enumerate(taps)]
    per_step = op.fgraph.outputs[info.n_states:info.n_states + info.n_per_step]
    outputs = (states + _per_step_labels(per_step, set(states))
               + [f"shared {i}" for i in range(info.n_shared)] + (["until"] if info.as_while else []))
    return inputs, outputs


def _per_step_labels(outputs, taken):
    """The per-step outputs' names (``y_t``), ``output m`` where unnamed or the name is already a label.

    Labels key a step's values, so two outputs never share one.
    """
    labels = []
    for m, var in enumerate(outputs):
        label = var.name if var.name and var.name not in taken else f"output {m}"
        taken.add(label)
        labels.append(label)
    return labels


def _state_label(j, tap_name):
    """``h0[t]`` for the state whose taps read ``h0[t-1]``..., ``state j`` when unnamed."""
    return f"{tap_name.rsplit('[', 1)[0]}[t]" if tap_name and "[" in tap_name else f"state {j}"


class _Recorder:
    """Collects one call's steps into the node's :class:`ScanTrace`."""

    def __init__(self, op, trace):
        self.input_labels, self.output_labels = _labels(op)
        self.call = ScanCall()
        self.trace = trace
        self.step = None

    def before(self, t, input_values):
        step = ScanStep(t)
        values = iter(input_values)
        for role, labels in self.input_labels.items():
            getattr(step, role).update((label, _snapshot(next(values))) for label in labels)
        self.step = step

    def after(self, output_values):
        self.step.outputs.update((label, _snapshot(v)) for label, v in zip(self.output_labels, output_values))
        self.call.steps.append(self.step)

    def finish(self):
        self.trace.calls.append(self.call)


def _snapshot(value):
    return np.array(value, copy=True) if isinstance(value, (np.ndarray, np.generic)) else value


def recorder_for(op, node):
    """A recorder for this call of ``node`` when ``config.scan_trace`` is on, else None."""
    from theanolab.config import config

    if not config.scan_trace:
        return None
    trace = node.tag.get("scan_trace")
    if trace is None:
        trace = node.tag.scan_trace = ScanTrace(node)
    return _Recorder(op, trace)


def traces_of(function):
    """The :class:`ScanTraces` of a compiled function (one per scan node, in the order they run)."""
    from theanolab.scan.op import Scan

    traces = ScanTraces()
    for node in function.maker.fgraph.toposort():
        if isinstance(base_op(node.op), Scan):
            if node.tag.get("scan_trace") is None:
                node.tag.scan_trace = ScanTrace(node)
            traces.append(node.tag.scan_trace)
    return traces
