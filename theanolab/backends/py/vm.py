"""The reference virtual machine: run toposorted nodes through ``Op.perform``.

Every variable gets a one-element storage cell, allocated once when the
function is compiled.  A call runs the nodes in order, then empties the cells
of intermediates whose last client has run (``config.allow_gc``), so a long
chain of large temporaries never holds more than it needs.  An exception
inside a node is re-raised with the node, its inputs' types and shapes, and
the user's line of code that built the node.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Constant, format_trace

__all__ = ["VM", "describe_node_failure", "raise_with_node", "NodeRuntimeError"]


class VM:
    """Callable running ``fgraph`` on the values in ``input_cells``.

    ``input_cells[i]`` is the storage cell of ``fgraph.inputs[i]`` (shared
    variables pass their container's cell).  Calling returns the outputs'
    values in order.

    ``hook``, when given, watches the run node by node, so checking modes
    (DebugMode, NanGuardMode) reuse this VM instead of copying it:
    ``hook.before(index, node, inputs)`` is called just before a node runs
    (``inputs``: the values) and ``hook.after(index, node, inputs,
    output_cells)`` just after (``output_cells[k][0]`` is output k's value,
    which a hook may replace).  What a hook raises propagates unchanged: it is
    a finding about the node, not a failure inside it.
    """

    def __init__(self, fgraph, input_cells, allow_gc=True, hook=None, thunks=None):
        self.fgraph = fgraph
        self.thunks = thunks or {}
        self.nodes = fgraph.toposort()
        self.hook = hook
        cells = dict(zip(fgraph.inputs, input_cells))
        for node in self.nodes:
            for var in node.inputs:
                if var not in cells and isinstance(var, Constant):
                    cells[var] = [var.data]
            for var in node.outputs:
                cells[var] = [None]
        for var in fgraph.outputs:
            if var not in cells and isinstance(var, Constant):
                cells[var] = [var.data]
        self.cells = cells
        # ``thunks[node]`` (a C kernel, say) replaces ``node.op.perform``, with the same signature.
        self.steps = [(node, self.thunks.get(node, node.op.perform), [cells[v] for v in node.inputs],
                       [cells[v] for v in node.outputs]) for node in self.nodes]
        self.output_cells = [cells[v] for v in fgraph.outputs]
        # Emptied after each call: an op may reuse its output buffer, which the caller now owns.
        self.computed_output_cells = [cells[v] for v in fgraph.outputs if v.owner is not None]
        self.free_after = self._plan_frees(cells) if allow_gc else [[] for _ in self.nodes]

    def _plan_frees(self, cells):
        """For each step, the cells no later step (nor the caller) reads."""
        keep = set(self.fgraph.inputs) | set(self.fgraph.outputs)
        last_use = {}
        for index, node in enumerate(self.nodes):
            for var in node.inputs:
                if var.owner is not None and var not in keep:
                    last_use[var] = index
        plan = [[] for _ in self.nodes]
        for var, index in last_use.items():
            plan[index].append(cells[var])
        return plan

    def __call__(self):
        hook = self.hook
        for index, (node, perform, in_cells, out_cells) in enumerate(self.steps):
            inputs = [cell[0] for cell in in_cells]
            if hook is not None:
                hook.before(index, node, inputs)
            try:
                perform(node, inputs, out_cells)
            except Exception as exc:
                raise_with_node(exc, node, index, inputs)
            if hook is not None:
                hook.after(index, node, inputs, out_cells)
            for cell in self.free_after[index]:
                cell[0] = None
        results = [cell[0] for cell in self.output_cells]
        for cell in self.computed_output_cells:
            cell[0] = None
        return results


def describe_node_failure(node, index, inputs, trace=None):
    """The text added to an error raised while running ``node``.

    ``trace`` is the user's stack where the node (or the variable it stands
    for) was built; by default the first one found on the node's outputs.
    """
    lines = [
        f"Apply node that caused the error: {node}",
        f"Toposort index: {index}",
        f"Inputs types: [{', '.join(str(v.type) for v in node.inputs)}]",
        f"Inputs shapes: [{', '.join(str(getattr(v, 'shape', '?')) for v in inputs)}]",
        f"Inputs strides: [{', '.join(str(getattr(v, 'strides', '?')) for v in inputs)}]",
    ]
    from theanolab.config import config

    if config.exception_verbosity == "high" or all(np.size(v) <= 10 for v in inputs if v is not None):
        lines.append(f"Inputs values: [{', '.join(_short(v) for v in inputs)}]")
    else:
        lines.append("Inputs values: (set exception_verbosity=high to see them)")
    if trace is None:
        trace = next((out.tag.get("trace") for out in node.outputs if out.tag.get("trace")), None)
    if trace:
        lines.append("")
        lines.append("Backtrace when the node was created (set traceback.limit=N to see more):")
        lines.append(format_trace(trace))
    else:
        lines.append("(The node was created by theanolab itself, not directly by user code.)")
    return "\n".join(lines)


def _short(value):
    text = np.array2string(np.asarray(value), threshold=10) if value is not None else "None"
    return text.replace("\n", "")


class NodeRuntimeError(RuntimeError):
    """An error inside a node whose original exception type could not carry the message."""


def raise_with_node(exc, node, index, inputs):
    """Re-raise ``exc`` (same type) with a description of the failing node appended."""
    message = f"{exc}\n{describe_node_failure(node, index, inputs)}"
    try:
        new = type(exc)(message)
    except Exception:
        new = NodeRuntimeError(message)
    new.node = node
    new.node_index = index
    new.input_shapes = [getattr(v, "shape", None) for v in inputs]  # what the notebook view shows
    raise new.with_traceback(exc.__traceback__) from None
