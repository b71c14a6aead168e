"""DebugMode: run the user's graph and the rewritten one side by side, and check every node.

A rewrite is supposed to change how a value is computed, never the value.
DebugMode compiles with the rewrites (``fast_run`` by default) and keeps the
user's graph (``f.maker.rewrite_history.user_graph``, the graph at step 0).
At each call it

1. runs the user's graph on copies of the arguments, node by node on the
   reference backend, remembering every value;
2. runs the rewritten graph node by node, and compares each node output that
   stands for a variable of the user's graph (the rewrite history knows which)
   with that variable's value, within a tolerance per dtype
   (:data:`TOLERANCE`; integers and booleans exactly).  A difference raises
   :class:`BadOptimization` naming the rewrite responsible: the first step
   whose graph (replayed from the history) gives different outputs, and the
   rule that created the differing node;
3. checks, on both runs, that every node keeps its promises: an input it
   modified is declared in ``op.destroy_map`` (else :class:`BadDestroyMap`),
   an output sharing memory with an input is declared in ``op.view_map`` or
   ``op.destroy_map`` (else :class:`BadViewMap`), and each output is a valid
   value of its type: dtype, number of dimensions, length 1 on broadcastable
   axes (else :class:`InvalidValueError`).

The user's graph is the reference, but not an exact one: a stability rewrite
exists precisely because the naive form loses its digits (``log(1 - sigmoid(z))``
is ``-36.04`` instead of ``-36.45`` at ``z = 36.45`` in float64, and ``-inf``
beyond).  So before calling a difference a bug, DebugMode measures how far the
user's graph can be trusted there: it runs it again with every intermediate
result nudged by a few units in the last place (:data:`PROBE_ULPS`, two
differently nudged runs), and accepts any value within the spread this
causes.  Where the user's graph gives NaN or Inf, any value is accepted.  A
well-conditioned graph moves by about 1e-15 under the nudges, so a rewrite
that is wrong by more than the tolerance is still caught.

>>> import theanolab, theanolab.tensor as T
>>> x = T.dvector('x')
>>> f = theanolab.function([x], T.log(1 + x), mode='DebugMode')
>>> f([0.5]).round(6).tolist()
[0.405465]
"""

from __future__ import annotations

import copy

import numpy as np

from theanolab.backends.py.vm import VM, describe_node_failure
from theanolab.compile.mode import Mode
from theanolab.config import config
from theanolab.graph.basic import Constant, format_trace

__all__ = ["DebugMode", "DebugModeError", "BadOptimization", "BadDestroyMap", "BadViewMap",
           "InvalidValueError", "TOLERANCE", "PROBE_ULPS", "value_difference", "node_trace"]

#: relative and absolute tolerance of the comparison, per dtype (integers and booleans: exact).
TOLERANCE = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-8, "complex64": 1e-4, "complex128": 1e-8}

#: how many units in the last place the rounding probes nudge each intermediate result by (at most).
PROBE_ULPS = 4


class DebugModeError(ValueError):
    """A check made by DebugMode failed."""


class BadOptimization(DebugModeError):
    """The rewritten graph computes a value different from the user's graph."""


class BadDestroyMap(DebugModeError):
    """An op modified an input that its ``destroy_map`` does not declare."""


class BadViewMap(DebugModeError):
    """An op returned memory of an input that neither ``view_map`` nor ``destroy_map`` declares."""


class InvalidValueError(DebugModeError, TypeError):
    """An op produced a value that is not valid for its output's type."""


class DebugMode(Mode):
    """Compile with ``optimizer`` (``'fast_run'`` by default) and check every call (see the module doc).

    ``DebugMode(optimizer=SequenceRewriter([...]))`` checks a rewrite of
    your own; ``including``/``excluding`` work as for :class:`Mode`.
    """

    def __init__(self, optimizer="fast_run", linker="py"):
        # The checks need the reference backend; ``linker`` is accepted for Theano's signature.
        super().__init__(linker=linker, optimizer=optimizer)

    def build_runner(self, maker, input_cells):
        return _DebugRunner(maker, input_cells)


# --------------------------------------------------------------------------- comparing values


def _snapshot(value):
    """A copy of a value that a later in-place operation cannot change."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def value_difference(expected, value, spread=None):
    """None when ``value`` matches ``expected``, else what differs (a sentence).

    Floats match within :data:`TOLERANCE` (relative and absolute), or within
    ``spread`` (an array: how far ``expected`` itself is uncertain at each
    position); integers and booleans match exactly, or anywhere ``spread`` is
    not 0.  Positions where ``expected`` is NaN or Inf accept any value.
    """
    reference, got = np.asarray(expected), np.asarray(value)
    if reference.shape != got.shape:
        return f"the shape is {got.shape} instead of {reference.shape}"
    if reference.dtype.kind not in "biufc":
        return None if bool(np.all(reference == got)) else f"the value is {got!r} instead of {reference!r}"
    floating = reference.dtype.kind in "fc"
    with np.errstate(invalid="ignore", over="ignore"):
        if floating:
            tol = TOLERANCE.get(reference.dtype.name, TOLERANCE["float64"])
            close = np.isclose(got, reference, rtol=tol, atol=tol, equal_nan=True) | ~np.isfinite(reference)
            error = np.nan_to_num(np.abs(got - reference), nan=np.inf)
        else:
            close = reference == got
            error = (~close).astype(float)
        if spread is not None:
            close |= error <= spread if floating else spread > 0
    if close.all():
        return None
    worst = np.unravel_index(np.argmax(np.where(close, -1.0, error)), close.shape)
    text = (f"at index {tuple(int(i) for i in worst)} the value is {got[worst].item()!r} instead of "
            f"{reference[worst].item()!r} ({int((~close).sum())} of {close.size} elements differ")
    if floating:
        text += f"; tolerance for {reference.dtype.name}: {tol} relative and absolute"
    if spread is not None:
        text += f"; your graph's own rounding spread there: {spread[worst]:.3g}"
    return text + ")"


def _spread(reference, probes):
    """How far the probes moved from ``reference`` at each position (inf where one failed)."""
    reference = np.asarray(reference)
    spread = np.zeros(reference.shape)
    for probe in probes:
        probe = np.asarray(probe)
        if probe.shape != reference.shape:
            return np.full(reference.shape, np.inf)
        with np.errstate(invalid="ignore", over="ignore"):
            moved = np.abs(probe.astype(complex if probe.dtype.kind == "c" else float) - reference)
        spread = np.maximum(spread, np.nan_to_num(moved, nan=np.inf))
    return spread


def _summary(value):
    if not isinstance(value, np.ndarray):
        return repr(value)
    text = np.array2string(value, threshold=12, edgeitems=3, precision=10).replace("\n", "")
    return f"{text} ({value.dtype}, shape {value.shape})"


def node_trace(maker, node):
    """The user's stack where the expression computed by ``node`` was written, or None.

    A node made by a rewrite was built while compiling; the variable of the
    user's graph it stands for points at the line the user wrote.
    """
    for out in node.outputs:
        original = maker.original_variable(out)
        for var in (original, out):
            if var is not None and var.tag.get("trace"):
                return var.tag.trace
    return None


# --------------------------------------------------------------------------- VM hooks


def _shares_memory(a, b):
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except np.exceptions.TooHardError:
        return True


class _Recorder:
    """Keeps a copy of the value of each variable in ``wanted`` as the run produces it."""

    def __init__(self, wanted):
        self.wanted = wanted
        self.values = {}

    def record(self, node, output_cells):
        for out, cell in zip(node.outputs, output_cells):
            if out in self.wanted:
                self.values[out] = _snapshot(cell[0])


class _NodeChecks:
    """VM hook: each node modifies only what its destroy_map declares, aliases only what it
    declares, and produces values of its outputs' types."""

    def __init__(self, maker):
        self.maker = maker
        self._before = []

    def before(self, index, node, inputs):
        self._before = [value.copy() if isinstance(value, np.ndarray) else None for value in inputs]

    def after(self, index, node, inputs, output_cells):
        outputs = [cell[0] for cell in output_cells]
        self._check_types(index, node, inputs, outputs)
        self._check_destroyed(index, node, inputs)
        self._check_views(index, node, inputs, outputs)

    def fail(self, error_class, message, index, node, inputs):
        details = describe_node_failure(node, index, inputs, node_trace(self.maker, node))
        raise error_class(f"DebugMode: {message}\n{details}")

    def _check_types(self, index, node, inputs, outputs):
        for out, value in zip(node.outputs, outputs):
            try:
                out.type.filter(value, strict=True)
            except (TypeError, ValueError) as exc:
                self.fail(InvalidValueError, f"output {out.index} of {node.op} is not a valid {out.type}: {exc}",
                          index, node, inputs)

    def _check_destroyed(self, index, node, inputs):
        destroyed = {i for positions in node.op.destroy_map.values() for i in positions}
        for i, (before, now) in enumerate(zip(self._before, inputs)):
            if i in destroyed or before is None or np.array_equal(before, now, equal_nan=now.dtype.kind in "fc"):
                continue
            if any(_shares_memory(now, inputs[j]) for j in destroyed):
                continue  # the same memory as a declared destroyed input
            self.fail(BadDestroyMap,
                      f"{node.op} modified its input {i} ({node.inputs[i]}) but its destroy_map "
                      f"{node.op.destroy_map} does not declare it.\n  before: {_summary(before)}\n"
                      f"  after:  {_summary(now)}", index, node, inputs)

    def _check_views(self, index, node, inputs, outputs):
        op = node.op
        for k, value in enumerate(outputs):
            declared = set(op.view_map.get(k, ())) | set(op.destroy_map.get(k, ()))
            for i, inp in enumerate(inputs):
                if i in declared or not _shares_memory(value, inp):
                    continue
                if any(_shares_memory(inp, inputs[j]) for j in declared):
                    continue  # the same memory as a declared input
                self.fail(BadViewMap,
                          f"output {k} of {op} shares memory with its input {i} ({node.inputs[i]}), "
                          f"but neither its view_map {op.view_map} nor its destroy_map {op.destroy_map} "
                          "declares it", index, node, inputs)


class _CheckedReference(_NodeChecks, _Recorder):
    """The user's graph run: the node checks, and the values the comparison needs."""

    def __init__(self, maker, wanted):
        _NodeChecks.__init__(self, maker)
        _Recorder.__init__(self, wanted)

    def after(self, index, node, inputs, output_cells):
        super().after(index, node, inputs, output_cells)
        self.record(node, output_cells)


class _RoundingProbe(_Recorder):
    """The user's graph run again with every float result nudged by up to PROBE_ULPS units in the
    last place (a fixed pseudo-random amount per node): how much its rounding can move each value."""

    def __init__(self, wanted, n_nodes, seed):
        super().__init__(wanted)
        self.nudges = np.random.default_rng(seed).uniform(-PROBE_ULPS, PROBE_ULPS, size=n_nodes)

    def before(self, index, node, inputs):
        pass  # a probe only changes results

    def after(self, index, node, inputs, output_cells):
        for cell in output_cells:
            value = cell[0]
            if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
                cell[0] = value * value.dtype.type(1 + self.nudges[index] * np.finfo(value.dtype).eps)
        self.record(node, output_cells)


class _Comparing(_NodeChecks):
    """The rewritten graph run: the node checks, plus each output compared with the value it stands for."""

    def __init__(self, maker, runner, expected):
        super().__init__(maker)
        self.runner = runner
        self.expected = expected

    def after(self, index, node, inputs, output_cells):
        super().after(index, node, inputs, output_cells)
        if not self.runner.comparing:
            return
        for out, cell in zip(node.outputs, output_cells):
            original = self.expected.get(out)
            if original is not None:
                self.runner.compare(out, original, cell[0], (index, node, inputs))


# --------------------------------------------------------------------------- the runner


class _DebugRunner:
    """What a DebugMode function calls: both graphs, checked (see the module docstring)."""

    def __init__(self, maker, input_cells):
        self.maker = maker
        self.history = history = maker.rewrite_history
        self.input_cells = input_cells
        fgraph = maker.fgraph
        # Nothing was rewritten: the two graphs are the same and one run is enough.
        self.comparing = len(history) > 0
        expected = {}
        for node in fgraph.toposort():
            for out in node.outputs:
                original = maker.original_variable(out)
                if original is not None:
                    expected[out] = original
        self.user = user = history.user_graph
        self.user_inputs = {var: position for position, var in enumerate(user.inputs)}
        self.wanted = set(expected.values())
        self.checked = _CheckedReference(maker, self.wanted)
        self.reference = VM(user, self._fresh_cells(), allow_gc=config.allow_gc, hook=self.checked)
        self.vm = VM(fgraph, input_cells, allow_gc=config.allow_gc, hook=_Comparing(maker, self, expected))
        self.call_inputs = []
        self.reference_outputs = []
        self.probes = None  # the rounding probes' (recorder, outputs), run only once a difference shows

    @property
    def cells(self):
        """The rewritten graph's storage cells (what ``debugprint(print_storage=True)`` shows)."""
        return self.vm.cells

    def _fresh_cells(self):
        return [[None] for _ in self.user.inputs]

    def __call__(self):
        if not self.comparing:
            return self.vm()
        self.call_inputs = [_snapshot(cell[0]) for cell in self.input_cells]
        self.checked.values = {}
        self.probes = None
        self.reference_outputs = self._run(self.reference)
        results = self.vm()
        for position, (out, value) in enumerate(zip(self.maker.fgraph.outputs, results)):
            self.compare(out, self.user.outputs[position], value, position=position)
        return results

    def _run(self, vm):
        """Run a VM over the user's graph on copies of this call's arguments; copies of its outputs."""
        for var, value in zip(self.user.inputs, self.call_inputs):
            vm.cells[var][0] = _snapshot(value)
        return [_snapshot(value) for value in vm()]

    # ------------------------------------------------------------------ comparing

    def _reference_value(self, original):
        """The value the user's graph gave ``original`` in this call."""
        if isinstance(original, Constant):
            return original.data
        if original in self.user_inputs:
            return self.call_inputs[self.user_inputs[original]]
        return self.checked.values[original]

    def _probe_values(self, original, position):
        """``original``'s values (output ``position``'s if given) in the rounding probes.

        The probes run at the first difference of a call, not before.
        """
        if self.probes is None:
            self.probes = []
            for seed in (0, 1):
                probe = _RoundingProbe(self.wanted, len(self.reference.nodes), seed)
                outputs = self._run(VM(self.user, self._fresh_cells(), allow_gc=config.allow_gc, hook=probe))
                self.probes.append((probe, outputs))
        if position is not None:
            return [outputs[position] for _, outputs in self.probes]
        return [probe.values[original] for probe, _ in self.probes]

    def _difference(self, original, reference, value, position=None):
        if not hasattr(original.type, "dtype"):  # a generator...: its type compares the states, not identity
            return None if original.type.values_eq(reference, value) else f"the value is {value!r} instead of {reference!r}"
        difference = value_difference(reference, value)
        if difference is None or isinstance(original, Constant) or original in self.user_inputs:
            return difference  # an argument or a constant is exact
        return value_difference(reference, value, _spread(reference, self._probe_values(original, position)))

    def compare(self, out, original, value, where=None, position=None):
        """Raise BadOptimization if ``value`` (of ``out``) differs from the user's ``original``.

        ``where`` is ``(index, node, inputs)`` for a node output; ``position``
        the output's position for one of the graph's outputs.
        """
        reference = self.reference_outputs[position] if position is not None else self._reference_value(original)
        difference = self._difference(original, reference, value, position)
        if difference is not None:
            self._bad_optimization(out, original, reference, value, difference, where)

    # ------------------------------------------------------------------ reporting a difference

    def _bad_optimization(self, out, original, reference, value, difference, where):
        node = out.owner
        what = f"{out} (output {out.index} of {node})" if node is not None else f"{out}"
        lines = [f"DebugMode: a rewrite changed a value. The rewritten graph's {what} stands for "
                 f"{original} of your graph, but {difference}.",
                 f"  your graph:      {_summary(reference)}",
                 f"  rewritten graph: {_summary(value)}"]
        step = self._first_differing_step()
        if step is not None:
            rule = f"{step.rule}; " if step.rule else ""
            where_defined = f", defined at {step.source[0]}:{step.source[1]}" if step.source else ""
            replaced = "; ".join(f"{old} by {new}" for old, new in step.replacements[:3])
            lines.append(f"Rewrite responsible: {step.rewrite!r} ({rule}step {step.index}{where_defined}), "
                         f"which replaced {replaced or 'nothing'}; from that step on the graph's outputs differ.")
        created_by = node.tag.get("created_by") if node is not None else None
        if created_by is not None and (step is None or created_by != step.rewrite):
            lines.append(f"The differing node was created by rewrite {created_by!r}.")
        elif step is None and created_by is None:
            lines.append("No single rewrite could be singled out: the node was in your graph and its "
                         "inputs were rewritten.")
        trace = original.tag.get("trace")
        if where is not None:
            index, node, inputs = where
            lines.append(describe_node_failure(node, index, inputs, trace or node_trace(self.maker, node)))
        elif trace:
            lines.append(f"Your graph built {original} at:\n{format_trace(trace)}")
        raise BadOptimization("\n".join(lines))

    def _first_differing_step(self):
        """The first rewrite step after which the graph's outputs differ from the user's graph, or None.

        Each intermediate graph is rebuilt from the history and run on this
        call's arguments; only done once a difference was found.
        """
        for step in self.history:
            if not step.committed:
                continue
            graph = self.history.graph_at(step.index)
            try:
                outputs = VM(graph, [[_snapshot(value)] for value in self.call_inputs])()
            except Exception:  # a graph that cannot even run differs too
                return step
            for position, (original, value) in enumerate(zip(self.user.outputs, outputs)):
                if self._difference(original, self.reference_outputs[position], value, position) is not None:
                    return step
        return None
