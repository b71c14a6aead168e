"""A graph as a picture: :func:`graph` returns a :class:`GraphView`, which a notebook displays as SVG.

The DOT comes from :func:`theanolab.printing.to_dot` (one drawing of graphs
for the whole project); this module only decorates it: the value each node
took for given inputs, the shapes on the edges, highlighted nodes (a failing
node), fill colours (profiling heat) and notes.

>>> import theanolab.tensor as T
>>> from theanolab.viz import graph
>>> x = T.dvector('x')
>>> view = graph(T.exp(x).sum(), values={x: [0.0, 1.0]})
>>> 'Elemwise{exp,no_inplace}' in view.dot and '[1, 2.718]' in view.dot
True
"""

from __future__ import annotations

import html

from theanolab.graph.basic import Apply, Variable, graph_inputs
from theanolab.graph.fgraph import FunctionGraph
from theanolab.printing import _graph_of, debugprint, to_dot
from theanolab.viz.render import RenderError, render_svg
from theanolab.viz.values import describe_value, evaluate, function_inputs, shape_text

__all__ = ["GraphView", "graph", "FONT", "HIGHLIGHT"]

#: the font of every label (Graphviz's default, Times, reads poorly on screen)
FONT = {"fontname": "Helvetica", "fontsize": "11"}
EDGE_FONT = {"fontname": "Helvetica", "fontsize": "9", "fontcolor": "#555555"}
#: how a highlighted node (a failing one, one a rewrite added) stands out
HIGHLIGHT = {"color": "red", "penwidth": "3", "fillcolor": "#ffd6d6"}

_LEAF_KINDS = ("input", "shared", "constant", "inner_input")


class GraphView:
    """A drawable graph: ``.dot`` (text), ``.svg`` (rendered), ``.text`` (debugprint).

    In a notebook it displays as SVG (``_repr_mimebundle_``), with the
    debugprint text as the plain-text fallback a terminal shows.
    """

    def __init__(self, obj, values=None, highlight=(), fill=None, notes=None, inner_graphs=False,
                 rankdir="TB", engine=None, title=None):
        self.obj = obj
        self.values = values or {}
        self.highlight = set(highlight)
        self.fill = dict(fill or {})
        self.notes = dict(notes or {})
        self.inner_graphs = inner_graphs
        self.rankdir = rankdir
        self.engine = engine
        self.title = title

    # ------------------------------------------------------------------ DOT

    def decorate(self, kind, obj, attributes):
        """The ``to_dot`` hook: values, shapes, highlight, fill and notes (see the module docstring)."""
        if kind == "edge":
            var, _, _ = obj
            attributes.update(EDGE_FONT)
            if var in self.values:
                name = f"{var.name}\n" if var.owner is not None and var.name else ""
                attributes["label"] = f"{name}{getattr(var.type, 'dtype', var.type)} {shape_text(self.values[var])}"
            return attributes
        attributes.update(FONT)
        lines = [attributes["label"]]
        if kind == "apply":
            known = [out for out in obj.outputs if out in self.values]
            if len(obj.outputs) == 1 and known:
                lines.append("= " + describe_value(self.values[known[0]]))
            else:
                lines.extend(f"{out.index}: {describe_value(self.values[out])}" for out in known)
            attributes["tooltip"] = f"{obj.op}: " + ", ".join(str(out.type) for out in obj.outputs)
        elif kind in _LEAF_KINDS or kind == "output":
            if obj in self.values and kind != "constant":
                lines.append("= " + describe_value(self.values[obj]))
            attributes["tooltip"] = str(obj.type)
        if obj in self.notes:
            lines.append(str(self.notes[obj]))
        attributes["label"] = "\n".join(lines)
        if obj in self.fill:
            attributes["fillcolor"] = self.fill[obj]
        if obj in self.highlight:
            attributes.update(HIGHLIGHT)
        return attributes

    @property
    def dot(self):
        return to_dot(self.obj, name=self.title or "theanolab", rankdir=self.rankdir, decorate=self.decorate,
                      inner_graphs=self.inner_graphs)

    @property
    def svg(self):
        return render_svg(self.dot, self.engine)

    @property
    def text(self):
        text = debugprint(self.obj, file="str")
        outputs, _, _ = _graph_of(self.obj, "graph")
        shown = [f"output {i}: {describe_value(self.values[out])}" for i, out in enumerate(outputs)
                 if out in self.values]
        return text + "".join(line + "\n" for line in shown)

    def html(self, max_height=600):
        """The SVG in a scrolling box (pan by scrolling), with the title above it."""
        title = f"<div class='tl-title'><b>{html.escape(self.title)}</b></div>" if self.title else ""
        return (f"<div class='tl-graph'>{title}<div style='overflow:auto; max-height:{max_height}px; "
                f"border:1px solid #ddd'>{self.svg}</div></div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.text}
        wants_svg = (include is None or "image/svg+xml" in include) and not (exclude and "image/svg+xml" in exclude)
        if wants_svg:
            try:
                bundle["image/svg+xml"] = self.svg
            except RenderError as exc:
                bundle["text/plain"] += f"\n({exc})\n"
        return bundle

    def __repr__(self):
        return self.text


def _given_for(obj, values):
    """``{input variable: value}`` from ``values`` for the graph of ``obj``; also the inputs."""
    from theanolab.compile.function import Function

    if isinstance(obj, Function):
        fgraph = obj.maker.fgraph
        return fgraph.inputs, fgraph.outputs, function_inputs(obj, values)
    outputs, fgraph, _ = _graph_of(obj, "graph")
    inputs = list(fgraph.inputs) if fgraph is not None else [v for v in graph_inputs(outputs) if v.owner is None]
    if isinstance(values, (list, tuple)):
        explicit = [v for v in inputs if not _is_constant_or_shared(v)]
        if len(values) != len(explicit):
            raise ValueError(f"graph: {len(values)} value(s) given for the inputs {explicit}")
        return inputs, outputs, dict(zip(explicit, values))
    by_name = {v.name: v for v in inputs if v.name}
    given = {}
    for key, value in values.items():
        var = key if isinstance(key, Variable) else by_name.get(key)
        if var is None:
            raise KeyError(f"graph: no input named {key!r}; the inputs are {inputs}")
        given[var] = value
    return inputs, outputs, given


def _is_constant_or_shared(var):
    from theanolab.compile.sharedvalue import SharedVariable
    from theanolab.graph.basic import Constant

    return isinstance(var, (Constant, SharedVariable))


def graph(obj, values=None, highlight=(), fill=None, notes=None, inner_graphs=False, rankdir="TB",
          engine=None, title=None):
    """A :class:`GraphView` of a variable, a list of them, an Apply node, a FunctionGraph or a Function.

    ``values`` are input values (a list in input order, or a dict by input
    variable or name; a compiled function takes its call's arguments): every
    node then shows the value it took and every edge the shape it carried.
    ``highlight`` (Apply nodes or variables) are drawn in red; ``fill`` and
    ``notes`` map them to a fill colour and a line of text.  Fused composites
    are drawn as one node unless ``inner_graphs``.
    """
    if not isinstance(obj, (Variable, Apply, FunctionGraph, list, tuple)):
        _graph_of(obj, "graph")  # the clear TypeError for anything else that is not a Function
    computed = {}
    if values is not None:
        inputs, outputs, given = _given_for(obj, values)
        computed = evaluate(inputs, outputs, given)
    return GraphView(obj, computed, highlight, fill, notes, inner_graphs, rankdir, engine, title)
