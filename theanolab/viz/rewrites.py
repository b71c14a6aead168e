"""The optimization view: the user's graph beside the optimized one, and a stepper through every rewrite.

Each recorded rewrite step (``f.maker.rewrite_history``) is one frame: the
rule's name, its source line, the one sentence saying why it fires (the
rule's ``Why:``, :func:`theanolab.graph.rewriting.catalog.reason_of`), the
nodes it removed (red, faded) and added (green), and the node count.

Node positions never move between frames: every node that any step's graph
ever had is laid out ONCE (:class:`UnionGraph`), and a frame only says which
of them exist at that step.  Nodes are identified across steps by structure
(op and inputs, recursively), so the node a rewrite leaves alone keeps its
place even though the history rebuilds each step's graph from scratch.
Merge and constant-folding steps are many and dull: by default a run of them
is folded into one frame (``fold=()`` shows every step).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets

from theanolab.graph.basic import Constant, io_toposort
from theanolab.printing import DOT_STYLES, _dot_attributes, _leaf_kind, _type_label
from theanolab.viz.graphview import EDGE_FONT, FONT, graph
from theanolab.viz.render import render_svg
from theanolab.viz.stepper import FrameStepper, compiled_function, scoped_id
from theanolab.viz.zoom import zoomable

__all__ = ["UnionGraph", "Frame", "plan_frames", "RewriteStepper", "rewrite_stepper", "optimization_view",
           "rewrite_summary", "NOISY_PASSES"]

#: rules that fire often and change little: folded by default
NOISY_PASSES = ("merge", "constant_folding")


class UnionGraph:
    """Every node that any step's graph had, drawn once; ``steps[k]`` says which exist after step ``k``.

    A node is identified by the recorded object the history replays
    (``graph_at(k, equiv)``), so a node whose input a rewrite changes stays
    the same node, in the same place.  Elements are nodes, leaves, one box
    per output and the edges between them; each has an id ``e<n>``
    (``elements[id]`` is its kind, ``labels[id]`` its text).
    """

    def __init__(self, history):
        self.elements, self.labels = {}, {}
        self._ids = {}  # recorded node / leaf / ("output", i) / (source, target, position) -> element id
        self._edge_types = {}
        self.graphs, self.steps = [], []
        for k in range(len(history) + 1):
            equiv = {}
            fgraph = history.graph_at(k, equiv)
            recorded = {id(copy): original for original, copy in equiv.items()}
            self.graphs.append(fgraph)
            self.steps.append(self._add(fgraph, lambda obj: recorded.get(id(obj), obj)))

    def _element(self, key, kind, label):
        if key not in self._ids:
            element = self._ids[key] = f"e{len(self._ids)}"
            self.elements[element] = kind
            self.labels[element] = label
        return self._ids[key]

    def _source(self, var, original):
        """The element drawing ``var``: the node computing it, or its leaf box."""
        if var.owner is not None:
            return self._ids[original(var.owner)]
        leaf = original(var)
        label = var.type.format_value(var.data) if isinstance(var, Constant) else str(var)
        return self._element(leaf, _leaf_kind(leaf), label)

    def _edge(self, source, target, position, var):
        element = self._element((source, target, position), "edge", "")
        self._edge_types[element] = (source, target, position, var)
        return element

    def _add(self, fgraph, original):
        present = set()
        for node in io_toposort(fgraph.inputs, fgraph.outputs):
            element = self._element(original(node), "apply", str(node.op))
            present.add(element)
            for position, var in enumerate(node.inputs):
                source = self._source(var, original)
                present.update((source, self._edge(source, element, position, var)))
        for index, out in enumerate(fgraph.outputs):
            box = self._element(("output", index), "output", out.name if out.name and out.owner else f"output {index}")
            source = self._source(out, original)
            present.update((box, source, self._edge(source, box, None, out)))
        return present

    @property
    def dot(self):
        """DOT of the whole union, in the kinds' styles of ``theanolab.printing.DOT_STYLES``.

        Every element's ``class`` ends with ``tl-el <id>``: a frame's style
        shows, hides and highlights elements by that class.
        """
        lines = ['digraph "rewrites" {', '  rankdir="TB";']
        n_inputs = {}
        for source, target, position, _ in self._edge_types.values():
            if position is not None:
                n_inputs[target] = max(n_inputs.get(target, 0), position + 1)
        for element, kind in self.elements.items():
            if kind == "edge":
                source, target, position, var = self._edge_types[element]
                attributes = {"label": _type_label(var.type), "class": f"edge tl-el {element}", **EDGE_FONT}
                if position is not None and n_inputs.get(target, 0) > 1:
                    attributes["headlabel"] = str(position)
                lines.append(f"  {source} -> {target} [{_dot_attributes(attributes)}];")
            else:
                attributes = {"label": self.labels[element], **DOT_STYLES[kind], **FONT,
                              "class": f"{kind} tl-el {element}"}
                lines.append(f"  {element} [{_dot_attributes(attributes)}];")
        return "\n".join(lines) + "\n}\n"


@dataclass
class Frame:
    """One stepper frame: the steps ``first..last`` (1-based, inclusive; 0..0 is the user's graph)."""

    first: int
    last: int
    rules: list

    @property
    def title(self):
        if self.last == 0:
            return "the graph as written (before any rewrite)"
        counts = {}
        for rule in self.rules:
            counts[rule] = counts.get(rule, 0) + 1
        names = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.items())
        return f"step {self.first}: {names}" if self.first == self.last else f"steps {self.first}-{self.last}: {names}"


def plan_frames(history, fold=NOISY_PASSES):
    """The frames of a history: one per step, runs of ``fold`` rules as one frame each."""
    frames = [Frame(0, 0, [])]
    for step in history:
        previous = frames[-1]
        noisy = step.rewrite in fold
        if noisy and previous.last > 0 and previous.rules and all(r in fold for r in previous.rules):
            previous.last = step.index
            previous.rules.append(step.rewrite)
        else:
            frames.append(Frame(step.index, step.index, [step.rewrite]))
    return frames


def _where(source):
    if not source:
        return ""
    import posixpath

    return f"{posixpath.normpath('theanolab/' + source[0])}:{source[1]}"


def _reasons():
    import theanolab.tensor.rewriting  # noqa: F401  (registers the rules)
    from theanolab.graph.rewriting.catalog import reasons

    return reasons()


class RewriteStepper:
    """Steps through the rewrites of a compiled function (see the module docstring).

    ``frames`` (:class:`Frame`) say which steps each position shows;
    ``graph_at(i)`` is the graph frame ``i`` shows (the history's graph after
    its last step); ``visible(i)`` the element ids drawn there.
    """

    def __init__(self, function, fold=NOISY_PASSES, interval=900, engine=None):
        self.history = function.maker.rewrite_history
        self.engine = engine
        self.union = UnionGraph(self.history)
        self.graphs = self.union.graphs
        self.scope = scoped_id("tlrw")
        self.svg = render_svg(self.union.dot, engine)
        self.reasons = _reasons()
        self.fold_box = widgets.Checkbox(value=bool(fold), description="fold merge / constant folding",
                                         indent=False, layout=widgets.Layout(width="260px"))
        self._fold = tuple(fold) or NOISY_PASSES
        self.frames = plan_frames(self.history, fold)
        self.stepper = FrameStepper(self._render_frames(), base=self._base(), interval=interval,
                                    description="rewrite", header=self.fold_box)
        self.fold_box.observe(self._on_fold, names="value")
        self.widget = self.stepper.widget

    # ------------------------------------------------------------------ content

    def _base(self):
        return zoomable({(): self.svg}, max_height=640, pane_id=self.scope, pane_class="tl-union")

    def graph_at(self, index):
        return self.graphs[self.frames[index].last]

    def visible(self, index):
        return self.union.steps[self.frames[index].last]

    def _style(self, frame):
        now = self.union.steps[frame.last]
        before = self.union.steps[frame.first - 1] if frame.last else now
        added, removed = now - before, before - now
        scope = f"#{self.scope}"

        def select(ids, suffix=""):
            return f"{scope} :is({','.join('.' + element for element in sorted(ids))}){suffix}"

        rules = [f"{scope} .tl-el {{ display: none; }}"]
        if now | removed:
            rules.append(f"{select(now | removed)} {{ display: inline; }}")
        if removed:
            rules.append(f"{select(removed)} {{ opacity: 0.35; }}")
            rules.append(f"{select(removed, ' > :is(ellipse, polygon, path)')} {{ stroke: #d62728; "
                         "stroke-width: 3px; stroke-dasharray: 5 3; }")
        if added:
            rules.append(f"{select(added, ' > :is(ellipse, polygon, path)')} {{ stroke: #2ca02c; "
                         "stroke-width: 3px; }")
        return "<style>" + "\n".join(rules) + "</style>"

    def _caption(self, index, frame):
        nodes = len(self.graphs[frame.last].apply_nodes)
        before = len(self.graphs[frame.first - 1].apply_nodes) if frame.last else nodes
        change = f" ({nodes - before:+d})" if frame.last else ""
        lines = [f"<div class='tl-step-title' style='font-weight:bold'>{html.escape(frame.title)}</div>"]
        if frame.last:
            steps = self.history.steps[frame.first - 1:frame.last]
            shown = steps[-1] if len(steps) == 1 else None
            for rule in dict.fromkeys(frame.rules):
                step = next(s for s in steps if s.rewrite == rule)
                where = _where(step.source)
                lines.append(
                    f"<div class='tl-rule'><code class='tl-rule-name'>{html.escape(rule)}</code>"
                    + (f" <span class='tl-source' style='color:#666'>{html.escape(where)}</span>" if where else "")
                    + (f"<br><i class='tl-rule-text'>{html.escape(step.rule)}</i>" if step.rule else "")
                    + f"<br>why: <span class='tl-why'>{html.escape(self.reasons.get(rule, '') or '-')}</span>"
                    "</div>")
            if shown is not None:
                for old, new in shown.replacements[:4]:
                    lines.append(f"<div class='tl-replacement' style='font-family:monospace; font-size:90%'>"
                                 f"{html.escape(_short(old))} &rarr; {html.escape(_short(new))}</div>")
        lines.append(f"<div class='tl-count'>frame {index} of {len(self.frames) - 1} &middot; "
                     f"<span class='tl-nodes'>{nodes}</span> nodes{change} &middot; "
                     "<span style='color:#2ca02c'>green: added</span>, "
                     "<span style='color:#d62728'>red: removed</span></div>")
        return "".join(lines)

    def _render_frames(self):
        return [f"<div class='tl-frame' data-frame='{i}' data-step='{frame.last}'>"
                f"{self._style(frame)}{self._caption(i, frame)}</div>" for i, frame in enumerate(self.frames)]

    def _on_fold(self, change):
        self.frames = plan_frames(self.history, self._fold if change["new"] else ())
        self.stepper.replace_frames(self._render_frames())

    # ------------------------------------------------------------------ driving (tests, scripts)

    @property
    def slider(self):
        return self.stepper.slider

    def go(self, index):
        self.stepper.go(index)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _short(var, limit=70):
    from theanolab.printing import pp

    try:
        text = pp(var)
    except Exception:  # a printer that cannot handle a temporary: its name will do
        text = str(var)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def rewrite_stepper(function, fold=NOISY_PASSES, interval=900, engine=None):
    """A :class:`RewriteStepper` over ``function``'s rewrites (display it in a notebook)."""
    return RewriteStepper(compiled_function(function, "rewrite_stepper"), fold=fold, interval=interval, engine=engine)


def rewrite_summary(function):
    """HTML table: each rule that fired, how many times, where it lives and why it fires."""
    history = function.maker.rewrite_history
    reasons = _reasons()
    sources = {step.rewrite: step.source for step in history}
    rows = "".join(
        f"<tr><td><code>{html.escape(rule)}</code></td><td style='text-align:right'>{count}</td>"
        f"<td>{html.escape(reasons.get(rule, ''))}</td><td><code>{html.escape(_where(sources[rule]))}</code></td></tr>"
        for rule, count in sorted(history.rewrites_used().items(), key=lambda item: (-item[1], item[0])))
    return ("<table class='tl-summary'><thead><tr><th>rule</th><th>steps</th><th>why it fires</th>"
            f"<th>source</th></tr></thead><tbody>{rows}</tbody></table>")


def optimization_view(function, values=None, fold=NOISY_PASSES, engine=None):
    """The user's graph and the optimized graph side by side, the rewrite stepper, and the summary table.

    ``values`` (the function's arguments) put each node's value on both graphs.
    """
    history = function.maker.rewrite_history
    user = history.user_graph
    optimized = function.maker.fgraph
    user_view = graph(user, values=_user_values(function, values), engine=engine,
                      title=f"as written: {len(user.apply_nodes)} nodes")
    optimized_view = graph(function, values=values, engine=engine,
                           title=f"optimized: {len(optimized.apply_nodes)} nodes")
    side = widgets.HBox([widgets.HTML(user_view.html()), widgets.HTML(optimized_view.html())],
                        layout=widgets.Layout(align_items="flex-start"))
    stepper = RewriteStepper(function, fold=fold, engine=engine)
    summary = widgets.HTML(rewrite_summary(function))
    view = widgets.VBox([side, widgets.HTML("<h4>every rewrite, one at a time</h4>"), stepper.widget,
                         widgets.HTML("<h4>rewrites by count</h4>"), summary])
    view.add_class("tl-optimization")
    view.stepper = stepper
    return view


def _user_values(function, args):
    """The function's arguments keyed by the user graph's inputs (same positions as the optimized one's)."""
    if args is None:
        return None
    from theanolab.viz.values import function_inputs

    given = function_inputs(function, args)
    user = function.maker.rewrite_history.user_graph
    return {user_input: given[var] for user_input, var in zip(user.inputs, function.maker.fgraph.inputs)}
