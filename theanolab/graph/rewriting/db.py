"""The registry of rewrites: named, tagged, grouped into ordered phases.

The optimizer is a sequence of *phases* (``merge1``, ``canonicalize``,
``stabilize``, ``specialize``, ``fusion``, ``inplace``...), each at a
position.  A phase is either one graph rewriter or a group of node rules
run to a fixed point.  Every rule and phase carries tags (``fast_run``,
``fast_compile``, its own name...).  A mode asks for a :class:`Query`,
``include`` / ``exclude`` / ``require`` tags, and gets the matching phases
with the matching rules inside each one.

>>> from theanolab.graph.rewriting.db import optdb, Query
>>> [name for name, _ in optdb.phases(Query(include=["fast_compile"]))]  # doctest: +SKIP
['merge1', 'canonicalize', 'merge3']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from theanolab.graph.rewriting.basic import (
    EquilibriumRewriter,
    GraphRewriter,
    NodeRewriter,
    SequenceRewriter,
)

__all__ = ["Query", "RewriteGroup", "PhaseDB", "optdb", "register"]


@dataclass(frozen=True)
class Query:
    """Which rewrites to use: any ``include`` tag, no ``exclude`` tag, every ``require`` tag."""

    include: tuple = ()
    exclude: tuple = ()
    require: tuple = ()

    def __post_init__(self):
        for name in ("include", "exclude", "require"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def accepts(self, tags):
        tags = set(tags)
        return (bool(tags & set(self.include)) and not tags & set(self.exclude)
                and set(self.require) <= tags)

    def including(self, *tags):
        return Query(self.include + tags, self.exclude, self.require)

    def excluding(self, *tags):
        return Query(self.include, self.exclude + tags, self.require)

    def requiring(self, *tags):
        return Query(self.include, self.exclude, self.require + tags)


@dataclass
class _Entry:
    name: str
    rewriter: object
    tags: set = field(default_factory=set)
    position: float = 0.0


class RewriteGroup:
    """Node rules (and graph rewriters) of one phase, run together to a fixed point."""

    def __init__(self, name):
        self.name = name
        self.entries: dict[str, _Entry] = {}

    def register(self, rewriter, *tags, name=None):
        name = name or rewriter.name
        if name in self.entries:
            raise ValueError(f"a rewrite named {name!r} is already registered in {self.name}")
        self.entries[name] = _Entry(name, rewriter, set(tags) | {name})
        return rewriter

    def query(self, query):
        """The EquilibriumRewriter of the selected rules.

        Each rule's own tags are checked, plus the group's name: including a
        phase by name (``including('stabilize')``) includes all its rules.
        """
        selected = [e.rewriter for e in self.entries.values()
                    if query.accepts(e.tags | {self.name}) and not _excluded_by_name(query, e.name)]
        node_rules = [r for r in selected if isinstance(r, NodeRewriter)]
        graph_rules = [r for r in selected if isinstance(r, GraphRewriter)]
        return EquilibriumRewriter(node_rules, graph_rules, name=self.name)


def _excluded_by_name(query, name):
    return name in query.exclude


def _names_a_rule(query, entry):
    """True if ``query`` names a rule of the group phase ``entry`` and excludes none of the phase's tags."""
    group = entry.rewriter
    return (isinstance(group, RewriteGroup) and not entry.tags & set(query.exclude)
            and any(name in query.include for name in group.entries))


class PhaseDB:
    """Ordered phases; ``query`` returns the rewriter a mode runs."""

    def __init__(self):
        self.entries: dict[str, _Entry] = {}

    def register_phase(self, name, rewriter, position, *tags):
        if name in self.entries:
            raise ValueError(f"a phase named {name!r} is already registered")
        self.entries[name] = _Entry(name, rewriter, set(tags) | {name}, position)
        return rewriter

    def __getitem__(self, name):
        return self.entries[name].rewriter

    def phases(self, query):
        """``[(name, graph rewriter)]`` of the selected phases, in position order.

        A phase runs when the query accepts its tags, or when the query includes
        one of its rules by name (``get_mode('FAST_COMPILE').including('log1p')``),
        unless the query excludes the phase.
        """
        chosen = []
        for entry in sorted(self.entries.values(), key=lambda e: (e.position, e.name)):
            if not (query.accepts(entry.tags) or _names_a_rule(query, entry)):
                continue
            rewriter = entry.rewriter
            if isinstance(rewriter, RewriteGroup):
                rewriter = rewriter.query(query)
            chosen.append((entry.name, rewriter))
        return chosen

    def query(self, query):
        return SequenceRewriter([rw for _, rw in self.phases(query)], name="optimizer")


#: The global registry the modes query.
optdb = PhaseDB()


def register(phase, *tags, name=None):
    """Decorator registering a rule in the group ``phase``: ``@register("canonicalize", "fast_run")``."""

    def wrap(rewriter):
        group = optdb[phase]
        if not isinstance(group, RewriteGroup):
            raise TypeError(f"phase {phase!r} is a single graph rewriter, not a group of rules")
        return group.register(rewriter, *tags, name=name)

    return wrap
