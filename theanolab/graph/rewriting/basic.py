"""Rewriters: functions that turn part of a graph into an equivalent, better one.

Two kinds, as in every graph compiler since Theano:

- a :class:`NodeRewriter` looks at one Apply node and returns replacements
  for its outputs (or nothing).  Most rules are node rewriters, written
  either as a decorated function (:func:`node_rewriter`) or as a pattern
  (:mod:`theanolab.graph.rewriting.pattern`);
- a :class:`GraphRewriter` transforms a whole FunctionGraph: the
  :class:`EquilibriumRewriter` applies node rewriters until none fires (a
  fixed point), :class:`WalkingRewriter` applies them in one pass, and
  :class:`SequenceRewriter` runs graph rewriters in order.

Every change goes through ``fgraph.replace_all(pairs, reason=rewriter)``, so
the rewrite history (:mod:`.history`) sees each step with the rule's name and
source line.  This module knows nothing about tensors.

>>> from theanolab.graph.rewriting.basic import node_rewriter
>>> @node_rewriter([SomeOp])                        # doctest: +SKIP
... def remove_double_negation(fgraph, node):
...     '''neg(neg(x)) -> x'''
"""

from __future__ import annotations

import collections
import inspect
import os
import sys
import warnings

from theanolab.config import config
from theanolab.graph.basic import Constant, Variable
from theanolab.graph.fgraph import InconsistencyError
from theanolab.graph.op import Op

__all__ = ["Rewriter", "NodeRewriter", "node_rewriter", "GraphRewriter", "SequenceRewriter",
           "WalkingRewriter", "EquilibriumRewriter", "apply_node_rewriter", "RewriteError",
           "graph_rewriter"]


class RewriteError(RuntimeError):
    """A rewrite raised an exception (with ``config.on_opt_error='raise'``)."""


class Rewriter:
    """Anything that rewrites graphs: it has a ``name`` and knows where it was written."""

    name = None
    source = None  # (file, line) of the rule's definition, shown to students

    def __str__(self):
        return self.name or type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} {self}>"


def _source_of(obj):
    """``(file, line)`` of a rule's definition, or None for one typed at a prompt (no file to point to)."""
    try:
        filename = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
    except (TypeError, OSError):
        return None
    if not filename:
        return None
    return (os.path.relpath(filename, os.path.dirname(os.path.dirname(os.path.dirname(__file__)))), line)


def _caller_source(depth=2):
    """``(file, line)`` of the code ``depth`` frames above the caller, relative to the package."""
    frame = sys._getframe(depth)
    base = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    return (os.path.relpath(frame.f_code.co_filename, base), frame.f_lineno)


class NodeRewriter(Rewriter):
    """A rule applied to one node: ``transform(fgraph, node)`` returns replacements or None.

    The result may be a list (one new variable per output of ``node``) or a
    dict ``{old variable: new variable}``.  ``tracks`` says which nodes to
    offer it: Op instances (compared with ``==``), Op classes, or predicates
    ``op -> bool``; None offers every node.
    """

    def __init__(self, transform, tracks=None, name=None, source=None):
        self._transform = transform
        self.tracks = None if tracks is None else list(tracks)
        self.name = name or transform.__name__
        self.source = source or _source_of(transform)
        self.__doc__ = transform.__doc__

    def matches(self, op):
        if self.tracks is None:
            return True
        for track in self.tracks:
            if isinstance(track, Op):
                if op == track:
                    return True
            elif isinstance(track, type):
                if isinstance(op, track):
                    return True
            elif track(op):
                return True
        return False

    def transform(self, fgraph, node):
        return self._transform(fgraph, node)


def node_rewriter(tracks=None, name=None):
    """Decorator making a function ``(fgraph, node) -> replacements`` a NodeRewriter."""

    def wrap(function):
        return NodeRewriter(function, tracks, name=name)

    return wrap


class GraphRewriter(Rewriter):
    """A rewrite of a whole graph; subclasses define ``apply(fgraph)``."""

    def apply(self, fgraph):
        raise NotImplementedError(f"{type(self).__name__} must define apply")

    def __call__(self, fgraph):
        return self.apply(fgraph)


class _FunctionGraphRewriter(GraphRewriter):
    def __init__(self, function, name=None):
        self._function = function
        self.name = name or function.__name__
        self.source = _source_of(function)
        self.__doc__ = function.__doc__

    def apply(self, fgraph):
        return self._function(fgraph)


def graph_rewriter(function=None, name=None):
    """Decorator making a function ``(fgraph) -> None`` a GraphRewriter."""
    if function is None:
        return lambda f: _FunctionGraphRewriter(f, name)
    return _FunctionGraphRewriter(function, name)


class SequenceRewriter(GraphRewriter):
    """Graph rewriters applied one after the other."""

    def __init__(self, rewriters, name=None):
        self.rewriters = list(rewriters)
        self.name = name or "sequence"

    def apply(self, fgraph):
        for rewriter in self.rewriters:
            rewriter.apply(fgraph)


# --------------------------------------------------------------------------- applying one rule


def _conform(old, new):
    """``new`` made to have ``old``'s type, or None when it cannot stand in its place."""
    if not isinstance(new, Variable):
        return None
    if old.type == new.type or old.type.is_compatible(new.type):
        return new
    conform = getattr(old.type, "conform", None)
    return conform(new) if conform is not None else None


def _foreign_input(fgraph, new):
    """A variable ``new`` depends on that is neither in ``fgraph`` nor a constant, or None.

    Checked before replacing, because a graph cannot import an input it was not
    given: the rule, not the graph, is wrong.
    """
    stack, seen = [new], set()
    while stack:
        var = stack.pop()
        if var in seen or var in fgraph.variables:
            continue
        seen.add(var)
        if var.owner is not None:
            stack.extend(var.owner.inputs)
        elif not isinstance(var, Constant):
            return var
    return None


def _report_failure(rewriter, node, exc):
    message = f"rewrite {rewriter} failed on {node}: {type(exc).__name__}: {exc}"
    if config.on_opt_error == "raise":
        raise RewriteError(message) from exc
    if config.on_opt_error == "warn":
        warnings.warn(message + " (the rewrite was skipped)", stacklevel=4)


def apply_node_rewriter(fgraph, rewriter, node):
    """Try ``rewriter`` on ``node``; replace in ``fgraph`` and return True if it fired."""
    try:
        result = rewriter.transform(fgraph, node)
    except Exception as exc:  # a broken rule must not break compilation
        _report_failure(rewriter, node, exc)
        return False
    if not result:
        return False
    pairs = list(result.items()) if isinstance(result, dict) else list(zip(node.outputs, result))
    conformed = []
    for old, new in pairs:
        if new is None or new is old:
            continue
        fitted = _conform(old, new)
        if fitted is None:
            _report_failure(rewriter, node, TypeError(
                f"it proposed {new} of type {getattr(new, 'type', None)} for {old} of type {old.type}"))
            return False
        foreign = _foreign_input(fgraph, fitted)
        if foreign is not None:
            _report_failure(rewriter, node, ValueError(
                f"it proposed {new}, which depends on {foreign}, neither a constant nor part of the graph"))
            return False
        conformed.append((old, fitted))
    if not conformed:
        return False
    try:
        fgraph.replace_all(conformed, reason=rewriter)
    except InconsistencyError:
        return False
    return True


# --------------------------------------------------------------------------- drivers


class WalkingRewriter(GraphRewriter):
    """One pass over the nodes (inputs to outputs, or the reverse), trying each rule once."""

    def __init__(self, rewriters, order="in_to_out", name=None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError(f"order must be 'in_to_out' or 'out_to_in', got {order!r}")
        self.rewriters = list(rewriters)
        self.order = order
        self.name = name or (self.rewriters[0].name if len(self.rewriters) == 1 else "walk")
        # a walk of one rule is that rule to the record and the catalog: its source and its doc
        single = self.rewriters[0] if len(self.rewriters) == 1 else None
        self.source = getattr(single, "source", None) or _caller_source(2)
        if single is not None and single.__doc__:
            self.__doc__ = single.__doc__

    def apply(self, fgraph):
        nodes = fgraph.toposort()
        if self.order == "out_to_in":
            nodes.reverse()
        candidates = _Candidates(self.rewriters)
        changed = False
        for node in nodes:
            for rewriter in candidates.for_op(node.op):
                if node not in fgraph.apply_nodes:
                    break
                if apply_node_rewriter(fgraph, rewriter, node):
                    changed = True
                    break
        return changed


class _Candidates:
    """The rewriters that track an op, computed once per distinct op."""

    def __init__(self, rewriters):
        self.rewriters = rewriters
        self.cache = {}

    def for_op(self, op):
        try:
            return self.cache[op]
        except KeyError:
            found = self.cache[op] = [r for r in self.rewriters if r.matches(op)]
            return found
        except TypeError:  # an unhashable op: no caching
            return [r for r in self.rewriters if r.matches(op)]


class EquilibriumRewriter(GraphRewriter):
    """Apply node rewriters until none fires any more, and graph rewriters between passes.

    ``max_passes`` bounds the work: a set of rules that keeps undoing each
    other raises an error naming the rules that fired last, instead of
    looping forever.
    """

    def __init__(self, rewriters, graph_rewriters=(), max_passes=50, name=None):
        self.rewriters = list(rewriters)
        self.graph_rewriters = list(graph_rewriters)
        self.max_passes = max_passes
        self.name = name or "equilibrium"
        self.source = _caller_source(2)

    def apply(self, fgraph):
        candidates = _Candidates(self.rewriters)
        changed = False
        # rules that undo each other take turns, one per pass: name all of the last few passes'
        recent = collections.deque(maxlen=4)
        for _ in range(self.max_passes):
            fired = []
            recent.append(fired)
            for graph_rw in self.graph_rewriters:
                if graph_rw.apply(fgraph):
                    fired.append(graph_rw.name)
            for node in fgraph.toposort():
                for rewriter in candidates.for_op(node.op):
                    if node not in fgraph.apply_nodes:
                        break
                    if apply_node_rewriter(fgraph, rewriter, node):
                        fired.append(rewriter.name)
            if not fired:
                return changed
            changed = True
        still_firing = sorted({name for names in recent for name in names})
        raise RewriteError(
            f"{self.name} did not reach a fixed point in {self.max_passes} passes; the rules still "
            f"firing in the last {len(recent)} passes (do some undo each other?): {', '.join(still_firing)}"
        )
