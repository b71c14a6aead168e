"""NanGuardMode: stop at the first node that produces NaN, Inf or a huge value, and name it.

A NaN met in a cost after hours of training says nothing about where it was
born.  NanGuardMode runs FAST_RUN's graph on the reference backend with a
check after every node (without elementwise fusion, so the node named is one
operation of the user's expression rather than a fused loop; the values are
the same): the first output holding NaN (``nan_is_error``), Inf
(``inf_is_error``) or a value above :data:`BIG` in absolute value
(``big_is_error``) raises :class:`NanGuardError` naming the node (its op and
inputs, with their values), which output, the expression of the user's graph
it computes, and the line of user code that built it.  The function's
arguments are checked before the first node reads them.

>>> import theanolab, theanolab.tensor as T
>>> from theanolab.compile.nanguardmode import NanGuardMode
>>> x = T.dvector('x')
>>> f = theanolab.function([x], T.log(x) * 2, mode=NanGuardMode(nan_is_error=True))
>>> f([-1.0])                                       # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
theanolab.compile.nanguardmode.NanGuardError: NaN detected in output 0 of Elemwise{log...
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.py.vm import VM, describe_node_failure
from theanolab.compile.debugmode import node_trace
from theanolab.compile.mode import Mode
from theanolab.config import config

__all__ = ["NanGuardMode", "NanGuardError", "BIG"]

#: what ``big_is_error`` calls big (Theano's threshold).
BIG = 1e10


class NanGuardError(ValueError):
    """A node produced (or an argument holds) NaN, Inf or a huge value."""


class NanGuardMode(Mode):
    """FAST_RUN's graph, checked after every node: ``NanGuardMode(nan_is_error=True, inf_is_error=True)``.

    ``optimizer`` and ``linker`` are Theano's arguments; the checks always
    run on the reference backend.
    """

    def __init__(self, nan_is_error=True, inf_is_error=True, big_is_error=False, optimizer="default",
                 linker=None):
        super().__init__(linker="py" if linker is None else linker, optimizer=optimizer, excluding=("fusion",))
        self.nan_is_error = bool(nan_is_error)
        self.inf_is_error = bool(inf_is_error)
        self.big_is_error = bool(big_is_error)

    def _key(self):
        return super()._key() + (self.nan_is_error, self.inf_is_error, self.big_is_error)

    def __repr__(self):
        flags = (f"nan_is_error={self.nan_is_error}, inf_is_error={self.inf_is_error}, "
                 f"big_is_error={self.big_is_error}")
        return f"NanGuardMode({flags}, optimizer={self.optimizer!r})"

    def problem(self, value):
        """What is wrong with ``value`` (``'NaN'``, ``'Inf'``, ``'a big value'``), or None."""
        if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "fc" or value.size == 0:
            return None
        if self.nan_is_error and np.isnan(value).any():
            return "NaN"
        if self.inf_is_error and np.isinf(value).any():
            return "Inf"
        if self.big_is_error:
            with np.errstate(invalid="ignore"):
                largest = np.nanmax(np.where(np.isinf(value), np.nan, np.abs(value)), initial=0)
            if largest > BIG:
                return f"a big value ({largest:g}, above {BIG:g} in absolute value)"
        return None

    def build_runner(self, maker, input_cells):
        return VM(maker.fgraph, input_cells, allow_gc=config.allow_gc, hook=_Guard(self, maker))


def _expression(var):
    """The user's expression for ``var``, shortened (pp of its graph)."""
    from theanolab.printing import pp

    try:
        text = pp(var)
    except Exception:  # a printer that does not know some op: the variable's name will do
        return str(var)
    return text if len(text) <= 200 else text[:197] + "..."


class _Guard:
    """VM hook: the mode's checks on each argument (before its first reader) and each node's outputs."""

    def __init__(self, mode, maker):
        self.mode = mode
        self.maker = maker
        fgraph = maker.fgraph
        position = {var: i for i, var in enumerate(fgraph.inputs)}
        self.first_reader = {}  # {toposort index: [(input position in the node, function input position)]}
        seen = set()
        for index, node in enumerate(fgraph.toposort()):
            for i, var in enumerate(node.inputs):
                if var in position and var not in seen:
                    seen.add(var)
                    self.first_reader.setdefault(index, []).append((i, position[var]))

    def before(self, index, node, inputs):
        for i, argument in self.first_reader.get(index, ()):
            problem = self.mode.problem(inputs[i])
            if problem is not None:
                var = node.inputs[i]
                self._fail(f"{problem} detected in the function's input {argument} ({var}), "
                           f"read by {node}", index, node, inputs)

    def after(self, index, node, inputs, output_cells):
        for out, cell in zip(node.outputs, output_cells):
            problem = self.mode.problem(cell[0])
            if problem is not None:
                original = self.maker.original_variable(out)
                computes = f"\nIt computes, in your graph: {_expression(original)}" if original is not None else ""
                self._fail(f"{problem} detected in output {out.index} of {node}{computes}", index, node, inputs)

    def _fail(self, message, index, node, inputs):
        details = describe_node_failure(node, index, inputs, node_trace(self.maker, node))
        raise NanGuardError(f"{message}\nNanGuardMode found it in this node:\n{details}")
