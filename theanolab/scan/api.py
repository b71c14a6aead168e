"""``scan`` and its special cases ``map``, ``reduce``, ``foldl``, ``foldr``.

``scan(fn, sequences, outputs_info, non_sequences, n_steps, ...)`` calls
``fn`` once, on symbolic stand-ins for one step, and turns what it returns
into the body of a :class:`~theanolab.scan.op.Scan` node.  ``fn`` receives,
in this order: the slice of every sequence at each of its taps, the past
values of every output that has an initial value (at each of its taps),
then the non-sequences.

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> k = T.iscalar('k'); A = T.dvector('A')
>>> result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
...                                  non_sequences=A, n_steps=k)
>>> theanolab.function([A, k], result[-1], updates=updates)(np.arange(4.), 3).tolist()
[0.0, 1.0, 8.0, 27.0]

Besides the arguments it is given, the body may use any variable of the
outer graph: shared variables and other free variables become implicit
non-sequences (``strict=True`` forbids that), and a shared variable with a
``default_update`` (a random generator) is carried from step to step, its
value after the last step being in the returned ``updates``.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass

from theanolab.compile.sharedvalue import SharedVariable
from theanolab.graph.basic import Constant, Variable, ancestors, clone_replace, graph_inputs
from theanolab.graph.fgraph import FunctionGraph
from theanolab.scan.info import ScanInfo
from theanolab.scan.op import Scan

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "ScanResult"]


class until:
    """Returned by ``fn`` (alone or with outputs and updates): stop after the step where ``condition`` holds.

    >>> import theanolab, theanolab.tensor as T
    >>> from theanolab.scan_module import until
    >>> doubles, _ = theanolab.scan(lambda p: (p * 2, until(p * 2 > 10)), outputs_info=T.constant(1.0),
    ...                             n_steps=100)
    >>> theanolab.function([], doubles)().tolist()
    [2.0, 4.0, 8.0, 16.0]
    """

    def __init__(self, condition):
        from theanolab.tensor.variable import as_tensor_variable

        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition} "
                            f"({self.condition.type})")


# ---------------------------------------------------------------------- arguments


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _tensor(value, what):
    from theanolab.tensor.variable import as_tensor_variable

    try:
        return value if isinstance(value, Variable) else as_tensor_variable(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"scan: {what} must be a tensor, got {value!r} ({exc})") from None


def _taps(taps, what, negative_only):
    taps = [int(k) for k in _as_list(taps)]
    if len(set(taps)) != len(taps):
        raise ValueError(f"scan: {what} has repeated taps {taps}")
    if negative_only and any(k >= 0 for k in taps):
        raise ValueError(f"scan: the taps of {what} must be negative (past values), got {taps}")
    return taps


def _sequence_specs(sequences):
    """``[(variable, taps)]`` from variables or ``dict(input=..., taps=[...])``."""
    specs = []
    for i, seq in enumerate(_as_list(sequences)):
        if isinstance(seq, dict):
            if "input" not in seq:
                raise ValueError(f"scan: sequences[{i}] is a dict without 'input'")
            var, taps = _tensor(seq["input"], f"sequences[{i}]"), seq.get("taps", [0])
        else:
            var, taps = _tensor(seq, f"sequences[{i}]"), [0]
        if var.ndim < 1:
            raise TypeError(f"scan: sequences[{i}] ({var}) is a scalar; a sequence needs an axis to loop over")
        taps = _taps(taps, f"sequences[{i}]", negative_only=False)
        if taps:
            specs.append((var, taps))
    return specs


def _output_specs(outputs_info):
    """``[(initial, taps) or None]``: None for an output with no past (Theano's nit_sot)."""
    specs = []
    for i, info in enumerate(_as_list(outputs_info)):
        if isinstance(info, dict):
            if info.get("initial") is None:
                if info.get("taps"):
                    raise ValueError(f"scan: outputs_info[{i}] has taps but no 'initial' value")
                specs.append(None)
                continue
            initial, taps = _tensor(info["initial"], f"outputs_info[{i}]['initial']"), info.get("taps", [-1])
        elif info is None:
            specs.append(None)
            continue
        else:
            initial, taps = _tensor(info, f"outputs_info[{i}]"), [-1]
        taps = _taps(taps, f"outputs_info[{i}]", negative_only=True)
        if not taps:
            specs.append(None)
        elif taps != [-1] and initial.ndim < 1:
            raise TypeError(f"scan: outputs_info[{i}] has taps {taps}, so its initial value needs a first "
                            f"axis of {-min(taps)} past values, but {initial} is a scalar")
        else:
            specs.append((initial, taps))
    return specs


def _n_steps(n_steps, slices):
    from theanolab.tensor.basic import cast
    from theanolab.tensor.math import minimum

    if n_steps is not None:
        n = _tensor(n_steps, "n_steps")
        if n.ndim != 0 or n.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {n} ({n.type})")
        if isinstance(n, Constant) and int(n.data) < 0:
            raise ValueError(f"scan: n_steps must be >= 0, got {int(n.data)}")
        return cast(n, "int64")
    if not slices:
        raise ValueError("scan: give n_steps when there are no sequences (nothing says how many steps to run)")
    lengths = [outer.shape[0] for outer, _ in slices]
    shortest = lengths[0]
    for length in lengths[1:]:
        shortest = minimum(shortest, length)
    return cast(shortest, "int64")


def _row_type(var):
    from theanolab.tensor.type import TensorType

    return TensorType(var.dtype, var.broadcastable[1:])


def _host_type(var):
    """The type of a state that starts as ``var``: a host tensor even when ``var`` lives on the GPU (the
    placement rewrite decides where the loop runs, after the graph is built)."""
    from theanolab.tensor.type import TensorType

    return TensorType(var.dtype, var.broadcastable)


def _tap_name(name, k):
    if name is None:
        return None
    return f"{name}[t]" if k == 0 else f"{name}[t{k:+d}]"


def _sequence_slices(specs, go_backwards):
    """``[(outer slice, inner variable)]``: tap ``k`` of ``x`` reads ``x[t + k - lo]`` of the original."""
    slices = []
    for var, taps in specs:
        x = var[::-1] if go_backwards else var
        lo, hi = min(0, *taps), max(0, *taps)
        for k in taps:
            end = hi - k
            outer = x[k - lo:x.shape[0] - end] if end else x[k - lo:]
            slices.append((outer, _row_type(x)(_tap_name(var.name, k))))
    return slices


# ---------------------------------------------------------------------- what fn returns


def _is_updates(item):
    if isinstance(item, dict):
        return True
    return (isinstance(item, (list, tuple)) and len(item) > 0
            and all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable)
                    for p in item))


def _as_outputs(item):
    if item is None:
        return []
    if isinstance(item, (list, tuple)):
        return [_tensor(v, "an output of fn") for v in item]
    return [_tensor(item, "the output of fn")]


def _split_result(result):
    """``(outputs, updates, condition)`` from ``fn``'s result, in any of the forms Theano accepts."""
    if isinstance(result, until):
        return [], OrderedDict(), result.condition
    if _is_updates(result):
        return [], OrderedDict(result), None
    if isinstance(result, (list, tuple)) and 2 <= len(result) <= 3 and any(
            isinstance(item, until) or _is_updates(item) for item in result):
        outputs, updates, condition = [], OrderedDict(), None
        for item in result:
            if isinstance(item, until):
                condition = item.condition
            elif _is_updates(item):
                updates.update(OrderedDict(item))
            else:
                outputs = _as_outputs(item)
        return outputs, updates, condition
    return _as_outputs(result), OrderedDict(), None


def _default_updates(roots, updated, blockers):
    """``[(shared, default_update)]`` for random states (and the like) the body draws from."""
    added = []
    frontier = list(roots)
    while frontier:
        found = []
        for var in ancestors(frontier, blockers):
            if isinstance(var, SharedVariable) and hasattr(var, "default_update") and var not in updated:
                updated.add(var)
                added.append((var, var.default_update))
                found.append(var.default_update)
        frontier = found
    return added


# ---------------------------------------------------------------------- building the node


@dataclass
class ScanResult:
    """What building a scan gives: the user's outputs, the updates, and the node behind them."""

    outputs: list
    updates: OrderedDict
    node: object
    #: for each user output, its position among the node's outputs.
    positions: list

    def buffer(self, i):
        """The full node output of user output ``i`` (a state's buffer keeps its initial rows)."""
        return self.node.outputs[self.positions[i]]


def _call_fn(fn, seq_inner, state_specs, state_types, non_seqs):
    """Call ``fn`` on fresh stand-ins; return them with what it returned."""
    taps_inner = []
    for (initial, taps), state_type in zip(state_specs, state_types):
        taps_inner.append([state_type(_tap_name(initial.name, k)) for k in taps])
    args = list(seq_inner) + [v for taps in taps_inner for v in taps] + list(non_seqs)
    _check_arity(fn, len(seq_inner), [len(taps) for taps in taps_inner], len(non_seqs))
    return taps_inner, _split_result(fn(*args))


def _check_arity(fn, n_sequences, state_taps, n_non_sequences):
    """A TypeError saying what scan passes, in order, when ``fn`` cannot take that many arguments."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or C function: its own error will do
        return
    count = n_sequences + sum(state_taps) + n_non_sequences
    try:
        signature.bind(*range(count))
    except TypeError as exc:
        name = getattr(fn, "__name__", "fn")
        raise TypeError(
            f"scan calls fn with {count} argument(s), in this order: {n_sequences} sequence slice(s), "
            f"{sum(state_taps)} previous value(s) of the {len(state_taps)} output(s) in outputs_info (one per "
            f"tap), then {n_non_sequences} non-sequence(s); but {name}{signature} cannot take them ({exc}). "
            "Give fn one parameter for each, or change sequences/outputs_info/non_sequences "
            "(an output that fn does not read back has None in outputs_info).") from None


def _check_state(i, state_type, out):
    if not isinstance(out.type, type(state_type)) or out.ndim != state_type.ndim or out.dtype != state_type.dtype:
        raise TypeError(
            f"scan: the initial value of output {i} (outputs_info[{i}]) is {state_type} but fn returns "
            f"{out} of type {out.type} for it. The initial value must have the same dtype and number of "
            "dimensions as what fn computes; this happens when fn upcasts or downcasts its result: cast "
            "the initial value (or the result) with T.cast(..., dtype).")
    return state_type.is_compatible(out.type)


def _scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
          go_backwards=False, mode=None, name=None, strict=False) -> ScanResult:
    """Build the Scan node for ``scan``'s arguments (see :func:`scan`)."""
    from theanolab.compile.function import _check_update
    from theanolab.tensor.shape import shape_padleft

    slices = _sequence_slices(_sequence_specs(sequences), go_backwards)
    n = _n_steps(n_steps, slices)
    out_specs = _output_specs(outputs_info)
    state_specs = [spec for spec in out_specs if spec is not None]
    non_seqs = []
    for i, v in enumerate(_as_list(non_sequences)):
        v = _tensor(v, f"non_sequences[{i}]") if not isinstance(v, Variable) else v
        if v not in non_seqs:
            non_seqs.append(v)
    seq_inner = [inner for _, inner in slices]
    state_types = [_host_type(initial) if taps == [-1] else _row_type(initial) for initial, taps in state_specs]
    for _ in range(2):  # a second call only when a state must be less broadcastable than its initial value
        taps_inner, (outputs, updates, condition) = _call_fn(fn, seq_inner, state_specs, state_types, non_seqs)
        if not out_specs:
            out_specs = [None] * len(outputs)
        if len(outputs) != len(out_specs):
            raise ValueError(f"scan: fn returned {len(outputs)} output(s) but outputs_info has {len(out_specs)} "
                             "entries (one per output: None for an output that is not fed back)")
        states = [out for out, spec in zip(outputs, out_specs) if spec is not None]
        fits = [_check_state(i, t, out) for i, (t, out) in enumerate(zip(state_types, states))]
        if all(fits):
            break
        state_types = [t if ok else t.clone(broadcastable=tuple(a and b for a, b in zip(t.broadcastable,
                                                                                          out.broadcastable)))
                       for t, ok, out in zip(state_types, fits, states)]
    else:
        raise TypeError("scan: the states' broadcastable patterns do not settle between calls of fn")
    per_step = [out for out, spec in zip(outputs, out_specs) if spec is None]

    updates = OrderedDict((target, _check_update(target, value)) for target, value in updates.items())
    placeholders = set(seq_inner) | {v for taps in taps_inner for v in taps}
    blockers = placeholders | set(non_seqs)
    roots = outputs + list(updates.values()) + ([condition] if condition is not None else [])
    for target, value in _default_updates(roots, set(updates), blockers):
        updates[target] = _check_update(target, value)
    roots = outputs + list(updates.values()) + ([condition] if condition is not None else [])
    free = [v for v in graph_inputs(roots, blockers)
            if v.owner is None and v not in blockers and not isinstance(v, Constant)]
    implicit = [v for v in free if v not in updates]
    if strict and implicit:
        raise ValueError(f"scan (strict=True): fn uses {', '.join(str(v) for v in implicit)}, which are not in "
                         "non_sequences; pass every variable fn uses besides its arguments as a non-sequence")
    outer_non_seqs = [v for v in non_seqs + implicit if v not in updates and not isinstance(v, Constant)]
    replace = {}
    for v in list(updates) + outer_non_seqs:
        replace[v] = v.type(f"{v.name}_copy" if v.name else None)
    inner_outputs = clone_replace(states + per_step + list(updates.values())
                                  + ([condition] if condition is not None else []), replace)
    inner_inputs = (seq_inner + [v for taps in taps_inner for v in taps] + [replace[s] for s in updates]
                    + [replace[v] for v in outer_non_seqs])
    info = ScanInfo(n_sequences=len(slices), state_taps=tuple(tuple(taps) for _, taps in state_specs),
                    n_per_step=len(per_step), n_shared=len(updates), n_non_sequences=len(outer_non_seqs),
                    as_while=condition is not None)
    op = Scan(FunctionGraph(inner_inputs, inner_outputs, clone=True), info, name=name, mode=mode,
              truncate_gradient=truncate_gradient)
    buffers = [shape_padleft(initial) if taps == [-1] else initial[:-min(taps)] for initial, taps in state_specs]
    node = op.make_node(n, *[outer for outer, _ in slices], *buffers, *updates, *outer_non_seqs)
    from theanolab.graph.basic import user_trace

    trace = user_trace()
    for out in node.outputs:
        out.tag.trace = trace
    positions, user_outputs = [], []
    state_index, step_index = 0, info.n_states
    for spec in out_specs:
        if spec is None:
            positions.append(step_index)
            user_outputs.append(node.outputs[step_index])
            step_index += 1
        else:
            positions.append(state_index)
            user_outputs.append(node.outputs[state_index][info.lags[state_index]:])
            state_index += 1
    shared_outputs = node.outputs[info.n_states + info.n_per_step:]
    return ScanResult(user_outputs, OrderedDict(zip(updates, shared_outputs)), node, positions)


# ---------------------------------------------------------------------- the public functions


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """Loop ``fn`` over ``sequences`` and/or for ``n_steps``; return ``(outputs, updates)``.

    - ``sequences``: variables looped over along their first axis, or
      ``dict(input=x, taps=[-1, 0, 1])`` to receive several slices of ``x``
      (``x[t-1], x[t], x[t+1]``); several sequences are cut to the shortest.
    - ``outputs_info``: per output of ``fn``, None (not fed back), its
      initial value (``fn`` receives the previous value), or
      ``dict(initial=x0, taps=[-2, -1])`` (``x0`` then holds the 2 values
      before the first step, oldest first).
    - ``non_sequences``: passed unchanged to every step.
    - ``n_steps``: number of steps (symbolic or constant, >= 0); by default
      the length of the shortest sequence.
    - ``go_backwards``: loop over the sequences from their end.
    - ``truncate_gradient``: backpropagate through the last this many steps
      only (-1: all of them).
    - ``fn`` returns outputs, and optionally updates of shared variables
      (a dict or pairs) and an :class:`until` condition, in any order.

    ``outputs`` is one variable per output of ``fn`` with the steps along
    its first axis (one variable, not a list, when ``fn`` has a single
    output and ``return_list`` is False); ``updates`` is an OrderedDict
    to give to ``theanolab.function`` (shared variables updated by ``fn``
    and random generators used inside it, mapped to their value after the
    last step).  ``profile`` and ``allow_gc`` are accepted for Theano
    code and have no effect.
    """
    result = _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards,
                   mode, name, strict)
    outputs = result.outputs
    if len(outputs) == 1 and not return_list:
        return outputs[0], result.updates
    return outputs, result.updates


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None):
    """``fn`` applied to every step of ``sequences``: ``scan`` with no output fed back.

    >>> import numpy as np, theanolab, theanolab.tensor as T
    >>> x = T.dvector('x')
    >>> squares, _ = theanolab.map(lambda v: v ** 2, x)
    >>> theanolab.function([x], squares)(np.arange(4.)).tolist()
    [0.0, 1.0, 4.0, 9.0]
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """The last step of ``scan`` (the initial value itself when there is no step).

    >>> import numpy as np, theanolab, theanolab.tensor as T
    >>> x = T.dvector('x')
    >>> total, _ = theanolab.reduce(lambda v, acc: acc + v, x, T.zeros_like(x[0]))
    >>> float(theanolab.function([x], total)(np.arange(5.)))
    10.0
    """
    result = _scan(fn, sequences, outputs_info, non_sequences, None, -1, go_backwards, mode, name, False)
    outputs = [result.buffer(i)[-1] for i in range(len(result.outputs))]
    if len(outputs) == 1:
        return outputs[0], result.updates
    return outputs, result.updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the first step to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the last step to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
