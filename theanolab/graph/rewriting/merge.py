"""Merge: identical constants and identical nodes become one.

Two constants with the same type and value, or two nodes applying equal ops
to the same inputs, compute the same thing: keeping one lets every later
rewrite see (and every backend compute) it once.  This is what makes
``(x+y) + (x+y)`` a sum of one node with itself, which canonicalization then
turns into ``2 * (x+y)``.
"""

from __future__ import annotations

from theanolab.graph.basic import Constant
from theanolab.graph.fgraph import InconsistencyError
from theanolab.graph.rewriting.basic import GraphRewriter

__all__ = ["MergeRewriter"]


class MergeRewriter(GraphRewriter):
    """Replace duplicate constants and duplicate nodes by their first occurrence.

    Why: the same computation written twice would otherwise run twice, and later rules see one node.
    """

    name = "merge"

    def __init__(self):
        from theanolab.graph.rewriting.basic import _source_of

        self.source = _source_of(MergeRewriter)

    def apply(self, fgraph):
        changed = self._merge_constants(fgraph)
        seen = {}
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes or node.op.destroy_map:
                continue
            try:
                key = (node.op, tuple(node.inputs))
                other = seen.setdefault(key, node)
            except TypeError:  # an op that cannot be hashed is never merged
                continue
            if other is not node and other in fgraph.apply_nodes:
                # Equal nodes may still differ in output type: a rewrite gave one an input of a
                # more specific type (broadcastable where the other's is not) after it was built.
                # The one whose outputs are the more specific stays (found by the fuzzer).
                keep, drop = (other, node) if _can_stand_in(other, node) else (node, other)
                if not _can_stand_in(keep, drop):
                    continue
                try:
                    fgraph.replace_all(list(zip(drop.outputs, keep.outputs)), reason=self)
                except InconsistencyError:  # e.g. a second reader of a value destroyed in place
                    continue
                seen[key] = keep
                changed = True
        return changed

    def _merge_constants(self, fgraph):
        seen, duplicates = {}, []
        for node in fgraph.toposort():
            for var in node.inputs:
                if isinstance(var, Constant):
                    first = seen.setdefault(var.signature(), var)
                    if first is not var:
                        duplicates.append((var, first))
        duplicates = [(var, first) for var, first in dict(duplicates).items()]
        if duplicates:
            fgraph.replace_all(duplicates, reason=self)
        return bool(duplicates)




def _can_stand_in(keep, drop):
    """Whether every output of ``keep`` can replace the matching output of ``drop`` (same or narrower type)."""
    return all(old.type == new.type or old.type.is_compatible(new.type) for old, new in zip(drop.outputs, keep.outputs))
