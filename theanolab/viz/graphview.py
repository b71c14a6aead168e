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

from theanolab.graph.basic import Apply, Variable, graph_inputs, io_toposort
from theanolab.graph.fgraph import FunctionGraph
from theanolab.printing import _graph_of, _inner_graph, debugprint, to_dot
from theanolab.viz.collapse import CHAIN_MIN, collapse_chains
from theanolab.viz.render import RenderError, render_svg
from theanolab.viz.values import describe_value, evaluate, function_inputs, shape_text
from theanolab.viz.zoom import Toggle, zoomable

__all__ = ["GraphView", "graph", "FONT", "HIGHLIGHT", "LARGE_GRAPH"]

#: the font of every label (Graphviz's default, Times, reads poorly on screen)
FONT = {"fontname": "Helvetica", "fontsize": "11"}
EDGE_FONT = {"fontname": "Helvetica", "fontsize": "9", "fontcolor": "#555555"}
#: how a highlighted node (a failing one, one a rewrite added) stands out
HIGHLIGHT = {"color": "red", "penwidth": "3", "fillcolor": "#ffd6d6"}

#: how a collapsed chain looks: a box listing its steps, apart from the single ops' ellipses
CHAIN_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff4d6"}
#: graphs with more Apply nodes than this draw long chains collapsed unless told otherwise
LARGE_GRAPH = 60

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

_LEAF_KINDS = ("input", "shared", "constant", "inner_input")


class GraphView:
    """A drawable graph: ``.dot`` (text), ``.svg`` (rendered), ``.text`` (debugprint).

    In a notebook it displays as a box with zoom buttons over a scrolling
    pane, and buttons that expand fused composites and loop bodies and
    collapse long chains (:meth:`html`, in an ipywidgets HTML widget), with
    the plain SVG and the debugprint text as fallbacks (nbviewer, a
    terminal).  ``inner_graphs`` is whether composites start expanded;
    ``collapse`` is the shortest chain drawn as one box (True:
    :data:`~theanolab.viz.collapse.CHAIN_MIN`; False: never; None: chains of
    ``CHAIN_MIN`` in graphs of more than :data:`LARGE_GRAPH` nodes); ``.dot``
    and ``.svg`` are the drawing shown first.
    """

    def __init__(self, obj, values=None, highlight=(), fill=None, notes=None, inner_graphs=False,
                 rankdir="TB", engine=None, title=None, collapse=None):
        self.obj = obj
        self.collapse = collapse
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
    def outputs(self):
        return _graph_of(self.obj, "graph")[0]

    @property
    def chain_length(self):
        """The shortest chain drawn as one box, or None when chains are never collapsed."""
        if self.collapse is None:
            return CHAIN_MIN if len(io_toposort([], self.outputs)) > LARGE_GRAPH else None
        if self.collapse is True:
            return CHAIN_MIN
        if self.collapse is False:
            return None
        if not isinstance(self.collapse, int) or self.collapse < 2:
            raise ValueError(f"graph: collapse={self.collapse!r}; expected True, False, None or a chain "
                             "length of at least 2")
        return self.collapse

    def dot_for(self, inner_graphs=None, chains=None):
        """DOT of one drawing: composites expanded or not, and chains of ``chains`` nodes or more collapsed."""
        inner_graphs = self.inner_graphs if inner_graphs is None else inner_graphs
        name = self.title or "theanolab"
        if not chains:
            return to_dot(self.obj, name=name, rankdir=self.rankdir, decorate=self.decorate,
                          inner_graphs=inner_graphs)
        outputs, original, members = collapse_chains(self.outputs, chains)
        return to_dot(outputs, name=name, rankdir=self.rankdir, inner_graphs=inner_graphs,
                      decorate=self._collapsed_decorator(original, members))

    def _collapsed_decorator(self, original, members):
        """:meth:`decorate` for a drawing with collapsed chains: look each thing up as the original graph's."""
        def decorate(kind, obj, attributes):
            if kind == "edge":
                var, node, position = obj
                return self.decorate(kind, (original.get(var, var), node, position), attributes)
            attributes = self.decorate(kind, original.get(obj, obj), attributes)
            chain = members.get(obj)
            if chain is not None:
                attributes.update(CHAIN_STYLE)
                attributes["class"] = "apply chain"
                attributes["tooltip"] = " -> ".join(str(node.op) for node in chain)
                fills = [self.fill[node] for node in chain if node in self.fill]
                if fills:  # a profile's heat: the hottest step's colour is as good as any
                    attributes["fillcolor"] = fills[-1]
                if any(node in self.highlight for node in chain):
                    attributes.update(HIGHLIGHT)
            return attributes
        return decorate

    @property
    def dot(self):
        return self.dot_for(self.inner_graphs, self.chain_length)

    @property
    def svg(self):
        return render_svg(self.dot, self.engine)

    def toggles(self):
        """``[(Toggle, {state: chains or inner_graphs value})]``: the switches this graph has a use for."""
        outputs = self.outputs
        nodes = io_toposort([], outputs)
        found = []
        if any(_inner_graph(node.op) is not None for node in nodes):
            found.append(("inner", Toggle("expand composites / loops", self.inner_graphs,
                                          "draw the graph inside each fused composite and scan")))
        length = self.chain_length
        if length:
            collapsed = len(io_toposort([], collapse_chains(outputs, length)[0]))
            if collapsed < len(nodes):
                found.append(("chains", Toggle(f"collapse chains ({len(nodes)} \u2192 {collapsed} nodes)", True,
                                               f"draw each run of {length} or more one-input steps as one box")))
        return found

    def drawings(self):
        """``(toggles, {state: svg})`` for :func:`theanolab.viz.zoom.zoomable`: every drawing laid out now."""
        import itertools

        named = self.toggles()
        names = [name for name, _ in named]
        drawings = {}
        for state in itertools.product((False, True), repeat=len(named)):
            on = dict(zip(names, state))
            chains = self.chain_length if on.get("chains") else None
            drawings[state] = render_svg(self.dot_for(on.get("inner", self.inner_graphs), chains), self.engine)
        return [toggle for _, toggle in named], drawings

    @property
    def text(self):
        text = debugprint(self.obj, file="str")
        outputs, _, _ = _graph_of(self.obj, "graph")
        shown = [f"output {i}: {describe_value(self.values[out])}" for i, out in enumerate(outputs)
                 if out in self.values]
        return text + "".join(line + "\n" for line in shown)

    def html(self, max_height=600):
        """The drawings in a scrolling box (pan by scrolling) with zoom and toggle buttons, the title above."""
        title = f"<div class='tl-title'><b>{html.escape(self.title)}</b></div>" if self.title else ""
        toggles, drawings = self.drawings()
        return f"<div class='tl-graph'>{title}{zoomable(drawings, toggles, max_height=max_height)}</div>"

    def widget(self, max_height=600):
        """:meth:`html` in an ipywidgets HTML widget (inserted as is by JupyterLab and Notebook 7)."""
        import ipywidgets as widgets

        return widgets.HTML(self.html(max_height))

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The zoomable widget, the SVG (where widgets do not render) and the debugprint text."""
        def wanted(mime):
            return (include is None or mime in include) and not (exclude and mime in exclude)

        bundle = {"text/plain": self.text}
        try:
            if wanted("image/svg+xml"):
                bundle["image/svg+xml"] = self.svg
            if wanted(WIDGET_MIME):
                bundle[WIDGET_MIME] = self.widget()._repr_mimebundle_()[WIDGET_MIME]
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
          engine=None, title=None, collapse=None):
    """A :class:`GraphView` of a variable, a list of them, an Apply node, a FunctionGraph or a Function.

    ``values`` are input values (a list in input order, or a dict by input
    variable or name; a compiled function takes its call's arguments): every
    node then shows the value it took and every edge the shape it carried.
    ``highlight`` (Apply nodes or variables) are drawn in red; ``fill`` and
    ``notes`` map them to a fill colour and a line of text.  Fused composites
    and scan bodies start drawn as one node unless ``inner_graphs``; a
    button expands them.  ``collapse`` draws runs of one-input steps as one
    box: True (runs of 2 or more), a run length, False (never) or None (the
    default: only in graphs of more than :data:`LARGE_GRAPH` nodes); a
    button shows every node again.  Zoom buttons (fit, 50%, 100%, 200%) sit
    above the drawing, which pans by scrolling.
    """
    if not isinstance(obj, (Variable, Apply, FunctionGraph, list, tuple)):
        _graph_of(obj, "graph")  # the clear TypeError for anything else that is not a Function
    computed = {}
    if values is not None:
        inputs, outputs, given = _given_for(obj, values)
        computed = evaluate(inputs, outputs, given)
    return GraphView(obj, computed, highlight, fill, notes, inner_graphs, rankdir, engine, title, collapse)
