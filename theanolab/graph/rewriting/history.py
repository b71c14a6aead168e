"""The record of a compilation: every rewrite step, replayable.

:class:`RewriteHistory` is a FunctionGraph feature.  When attached it keeps a
pristine copy of the graph (step 0, the user's graph); then for every
``replace_all`` (one *step*) it records the rule's name and source line,
which variables were replaced by which, the nodes added and removed, and the
low-level events (node imports with their inputs at that moment, input
changes).  ``graph_at(k)`` replays the events of the first ``k`` steps on a
fresh copy of step 0, so any intermediate graph can be rebuilt, shown and run
long after compilation.  ``graph_at(len(history))`` is the graph that runs.

>>> import theanolab, theanolab.tensor as T
>>> x = T.dscalar('x')
>>> f = theanolab.function([x], T.log(1 + x))
>>> print(f.maker.rewrite_history)             # doctest: +SKIP
step 1: log1p  log(add(1, x)) -> log1p(x)
  replaced Elemwise{log,no_inplace}.0 by Elemwise{log1p,no_inplace}.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

from theanolab.graph.basic import Apply, Constant
from theanolab.graph.fgraph import OUTPUT

__all__ = ["RewriteHistory", "RewriteStep"]

#: the reason FunctionGraph.replace_all gives the changes that undo a refused step
_REVERT = "revert"


@dataclass
class RewriteStep:
    """One replacement step made by one rule."""

    index: int
    rewrite: str
    source: tuple | None
    rule: str | None
    replacements: list = field(default_factory=list)  # [(old variable, new variable)]
    added: list = field(default_factory=list)  # Apply nodes brought in
    removed: list = field(default_factory=list)  # Apply nodes no longer used
    committed: bool = True
    events: list = field(default_factory=list, repr=False)

    def describe(self):
        where = f" ({self.source[0]}:{self.source[1]})" if self.source else ""
        lines = [f"step {self.index}: {self.rewrite}{where}" + (f"  {self.rule}" if self.rule else "")]
        for old, new in self.replacements:
            lines.append(f"  replaced {old} of {old.owner or old} by {new} of {new.owner or new}")
        if not self.committed:
            lines.append("  (refused by validation and undone)")
        return "\n".join(lines)

    def __str__(self):
        return self.describe()


def _rule_text(reason):
    doc = getattr(reason, "__doc__", None)
    if doc and reason.__class__.__doc__ != doc:
        return doc.strip().splitlines()[0]
    return None


class RewriteHistory:
    """FunctionGraph feature recording every rewrite step (see the module docstring)."""

    def __init__(self, verbose=False, printer=print):
        self.verbose = verbose
        self.printer = printer
        self.steps: list[RewriteStep] = []
        self._current = None
        self._implicit = False
        self._base = None
        self._base_equiv = None
        self.origin = {}

    # ------------------------------------------------------------------ feature hooks

    def on_attach(self, fgraph):
        if self._base is not None:
            raise ValueError("a RewriteHistory records one graph; attach a new one")
        self._base, self._base_equiv = fgraph.clone_get_equiv(features=False)
        self.origin = {var: var for var in fgraph.variables}

    def on_step_begin(self, fgraph, reason, pairs):
        self._implicit = False
        self._current = RewriteStep(
            index=len(self.steps) + 1,
            rewrite=str(reason) if reason is not None else "replace",
            source=getattr(reason, "source", None),
            rule=_rule_text(reason),
            replacements=list(pairs),
        )
        for old, new in pairs:
            if old in self.origin:
                self.origin.setdefault(new, self.origin[old])

    def _step(self):
        if self._current is None:  # a change made outside replace_all is a step of its own
            self.on_step_begin(None, "change", [])
            self._implicit = True
        return self._current

    def on_import(self, fgraph, node, reason):
        step = self._step()
        step.events.append(("import", node, tuple(node.inputs)))
        if reason != _REVERT:  # undoing a refused step brings old nodes back: it creates nothing
            step.added.append(node)
            node.tag.created_by = step.rewrite

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self._step().events.append(("change", node, i, new))
        if getattr(self, "_implicit", False):
            self.on_step_end(fgraph, reason, True)

    def on_prune(self, fgraph, node, reason):
        if reason == _REVERT:
            return
        # a change made outside replace_all is closed before its prunes: they belong to it
        step = self._current if self._current is not None else (self.steps[-1] if self.steps else None)
        if step is not None:
            step.removed.append(node)

    def on_step_end(self, fgraph, reason, committed):
        step, self._current, self._implicit = self._current, None, False
        if step is None:
            return
        step.committed = committed
        self.steps.append(step)
        if self.verbose:
            self.printer(step.describe())

    def clone(self):
        """A copied FunctionGraph starts a history of its own."""
        return RewriteHistory(self.verbose, self.printer)

    # ------------------------------------------------------------------ reading

    def __len__(self):
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, index):
        return self.steps[index]

    def __str__(self):
        if not self.steps:
            return "(no rewrite changed the graph)"
        return "\n".join(step.describe() for step in self.steps)

    @property
    def user_graph(self):
        """The step-0 graph itself (:meth:`graph_at` returns copies): read or run it, never change it."""
        return self._base

    def original(self, var):
        """The variable of :attr:`user_graph` that ``var`` of the rewritten graph stands for, or None.

        None for a variable that no step-0 variable was replaced by (a
        temporary a rule built inside its replacement).  Checking modes use it
        to compare each rewritten value with the user's.
        """
        return self._base_equiv.get(self.origin.get(var))

    def rewrites_used(self):
        """``{rule name: number of steps}``, in the order rules first fired."""
        counts = {}
        for step in self.steps:
            counts[step.rewrite] = counts.get(step.rewrite, 0) + 1
        return counts

    def graph_at(self, k, copies=None):
        """A new FunctionGraph: the graph after the first ``k`` steps (0: the user's graph).

        ``copies``, a dict, receives ``{recorded variable or node: its copy in the
        new graph}``: a node keeps its identity across steps there, which is
        how the rewrite stepper keeps each node in its place.
        """
        if not 0 <= k <= len(self.steps):
            raise IndexError(f"step {k} out of range: this history has steps 0 to {len(self.steps)}")
        fgraph, equiv = self._base.clone_get_equiv(features=False)
        mapping = {live: equiv[copy] for live, copy in self._base_equiv.items()}

        def mapped(var):
            if var in mapping:
                return mapping[var]
            if isinstance(var, Constant):
                return var
            raise KeyError(f"history replay: {var} was never imported")

        for step in self.steps[:k]:
            for event in step.events:
                if event[0] == "import":
                    _, node, inputs = event
                    outputs = [out.type() for out in node.outputs]
                    for new, old in zip(outputs, node.outputs):
                        new.name, new.tag = old.name, type(old.tag)(old.tag)
                    replayed = Apply(node.op, [mapped(v) for v in inputs], outputs)
                    replayed.tag = type(node.tag)(node.tag)
                    mapping[node] = replayed
                    mapping.update(zip(node.outputs, outputs))
                else:
                    _, node, i, new = event
                    target = OUTPUT if node == OUTPUT else mapping[node]
                    fgraph.change_node_input(target, i, mapped(new), reason="replay")
        if copies is not None:
            copies.update(mapping)
        return fgraph
