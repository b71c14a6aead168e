"""The value every variable of a graph takes for given inputs, and how it is written on a node.

:func:`evaluate` runs the graph node by node through ``Op.perform`` (the
reference semantics) and keeps a copy of every intermediate, so a student sees
what each node computed.  Copies matter: an in-place node of an optimized
graph writes over its input, which would otherwise change a value already
recorded.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Constant, io_toposort

__all__ = ["evaluate", "function_inputs", "describe_value", "shape_text"]

#: arrays up to this many elements are written out in full on a node
SMALL = 6


def evaluate(inputs, outputs, given):
    """``{variable: value}`` for every variable computing ``outputs``.

    ``given`` maps input variables to values; shared variables without a
    value in ``given`` use their current one, constants their data.
    """
    from theanolab.compile.sharedvalue import SharedVariable

    values = {}
    for var, value in given.items():
        values[var] = var.type.filter(value, allow_downcast=True) if hasattr(var.type, "filter") else value
    for node in io_toposort(list(inputs), list(outputs)):
        for var in node.inputs:
            if var in values:
                continue
            if isinstance(var, Constant):
                values[var] = var.data
            elif isinstance(var, SharedVariable):
                values[var] = var.get_value(borrow=False)
            elif var.owner is None:
                raise ValueError(f"a value for the input {var} is needed to show the graph's values")
        storage = [[None] for _ in node.outputs]
        node.op.perform(node, [np.array(values[v], copy=True) if isinstance(values[v], np.ndarray) else values[v]
                               for v in node.inputs], storage)
        for out, (value,) in zip(node.outputs, storage):
            values[out] = np.array(value, copy=True) if isinstance(value, np.ndarray) else value
    return values


def function_inputs(function, args):
    """``{fgraph input: value}`` of a compiled function called with ``args`` (a list or a dict by name)."""
    fgraph = function.maker.fgraph
    explicit = [spec for spec in function.maker.inputs if not spec.implicit]
    if isinstance(args, dict):
        by_name = {spec.name: i for i, spec in enumerate(explicit) if spec.name}
        positional = [None] * len(explicit)
        for key, value in args.items():
            index = by_name.get(key) if isinstance(key, str) else next(
                (i for i, spec in enumerate(explicit) if spec.variable is key), None)
            if index is None:
                raise KeyError(f"{function} has no input {key!r}")
            positional[index] = value
        args = positional
    args = list(args)
    given = {}
    for index, (var, spec) in enumerate(zip(fgraph.inputs, function.maker.inputs)):
        if spec.implicit:
            given[var] = function._containers[index].storage[0]
        elif index < len(args) and args[index] is not None:
            given[var] = args[index]
        elif spec.has_default:
            given[var] = function._defaults[index]
        else:
            raise ValueError(f"a value for input {index} ({spec.name or spec.variable}) is needed")
    return given


def shape_text(value):
    """``(3, 4)`` for an array, ``()`` for a scalar."""
    return str(tuple(np.shape(value)))


def describe_value(value):
    """A short text for a node: the value itself when small, else its shape and a summary."""
    if value is None:
        return "(not computed)"
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        return f"{type(value).__name__}"
    if array.size <= SMALL:
        text = np.array2string(array, precision=4, separator=", ", suppress_small=False)
        return text.replace("\n", "")
    finite = array[np.isfinite(array)] if array.dtype.kind in "fc" else array
    summary = (f"min {np.min(finite):.4g}, mean {np.mean(finite):.4g}, max {np.max(finite):.4g}"
               if finite.size else "no finite value")
    bad = array.size - finite.size
    return f"shape {array.shape}: {summary}" + (f", {bad} nan/inf" if bad else "")
