"""Rewrite rules written as data: a pattern and what it becomes.

A pattern is a nested tuple ``(op, sub-pattern, ...)``; a string binds a
variable (the same name must bind the same variable everywhere); a number
matches a constant equal to it in every element.  The replacement uses the
same form, with ops called to build the new graph, or is a function of the
bindings.  So a rule reads like its mathematics::

    PatternRewriter("log1p", (log, (add, 1, "x")), (log1p, "x"))   # log(1 + x) -> log1p(x)

Ops may be given as Op instances or as the user functions that apply them
(anything with an ``.op`` attribute).  Binary commutative ops
(``op.commutative``, or a commutative scalar op inside) also match with their
two inputs swapped.  What counts as "a constant equal to 1" is decided by
``constant_value(variable)``, supplied by the tensor layer so it can look
through broadcasting and casts.
"""

from __future__ import annotations

import numbers

from theanolab.graph.basic import Constant
from theanolab.graph.rewriting.basic import NodeRewriter, _caller_source

__all__ = ["PatternRewriter", "Bind"]


class Bind:
    """A pattern variable with a condition: ``Bind("x", lambda var: var.ndim == 2)``."""

    def __init__(self, name, condition):
        self.name, self.condition = name, condition


def _op_of(item):
    return getattr(item, "op", item)


def _is_commutative(op):
    return getattr(op, "commutative", False) or getattr(getattr(op, "scalar_op", None), "commutative", False)


def _default_constant_value(var):
    if isinstance(var, Constant) and var.data.size >= 1 and (var.data == var.data.reshape(-1)[0]).all():
        return var.data.reshape(-1)[0]
    return None


class PatternRewriter(NodeRewriter):
    """A NodeRewriter from a pattern and a replacement (see the module docstring)."""

    def __init__(self, name, pattern, replacement, constraint=None, constant_value=None, doc=None):
        if not isinstance(pattern, tuple):
            raise TypeError(f"rule {name}: a pattern must start with an op, got {pattern!r}")
        self.pattern = pattern
        self.replacement = replacement
        self.constraint = constraint
        self.constant_value = constant_value or _default_constant_value
        root = _op_of(pattern[0])
        super().__init__(self._apply, tracks=[root], name=name, source=_caller_source(2))
        self.__doc__ = doc or f"{_render(pattern)} -> {_render(replacement)}"

    # ------------------------------------------------------------------ matching

    def match(self, pattern, var, bindings):
        """Extend ``bindings`` so ``pattern`` matches ``var``; return the new bindings or None."""
        if isinstance(pattern, str):
            bound = bindings.get(pattern)
            if bound is None:
                return {**bindings, pattern: var}
            return bindings if bound is var else None
        if isinstance(pattern, Bind):
            if not pattern.condition(var):
                return None
            return self.match(pattern.name, var, bindings)
        if isinstance(pattern, (numbers.Number, bool)):
            value = self.constant_value(var)
            return bindings if value is not None and value == pattern else None
        op, *subpatterns = pattern
        node = var.owner
        if node is None or node.op != _op_of(op) or len(node.inputs) != len(subpatterns):
            return None
        orders = [node.inputs]
        if len(subpatterns) == 2 and _is_commutative(node.op):
            orders.append(node.inputs[::-1])
        for inputs in orders:
            found = bindings
            for sub, inp in zip(subpatterns, inputs):
                found = self.match(sub, inp, found)
                if found is None:
                    break
            if found is not None:
                return found
        return None

    def _apply(self, fgraph, node):
        for out in node.outputs:
            bindings = self.match(self.pattern, out, {})
            if bindings is None:
                continue
            if self.constraint is not None and not self.constraint(bindings):
                continue
            return {out: self.build(self.replacement, bindings)}
        return None

    # ------------------------------------------------------------------ building

    def build(self, replacement, bindings):
        if callable(replacement) and not hasattr(replacement, "op") and not isinstance(replacement, tuple):
            return replacement(bindings)
        if isinstance(replacement, str):
            return bindings[replacement]
        if isinstance(replacement, tuple):
            function, *args = replacement
            return function(*[self.build(a, bindings) for a in args])
        return replacement


def _render(pattern):
    """A pattern as text: ``log(add(1, x))``."""
    if isinstance(pattern, tuple):
        op, *args = pattern
        name = getattr(op, "__name__", None) or str(_op_of(op))
        return f"{name}({', '.join(_render(a) for a in args)})"
    if isinstance(pattern, Bind):
        return pattern.name
    if callable(pattern):
        return getattr(pattern, "__name__", "f")
    return str(pattern)
