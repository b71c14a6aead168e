"""The scan stepper: step through the iterations of a loop, with every value of the body at that step.

``scan_stepper(f, *inputs)`` calls ``f`` with ``config.scan_trace`` on
(:mod:`theanolab.scan.trace` records what each iteration read and computed),
then shows a :class:`~theanolab.viz.stepper.FrameStepper` with one frame per
iteration: the body's graph annotated with that iteration's sequence slices,
previous states (taps), shared values, non-sequences, intermediates and new
states, a table of the same values, and the trajectory of every state and
per-step output up to that iteration.

The widget state stays small because nothing is drawn twice:

- the body is laid out ONCE (positions never move between iterations).  On
  each node the value line is a stack of SVG ``<text>`` elements, one per
  DISTINCT text that node shows over the loop (a non-sequence has one), each
  tagged with the frames that show it; a frame's ``<style>`` shows its own;
- the trajectories are ONE figure of the whole loop; a frame's ``<style>``
  moves a mask over the iterations still to come and a marker to the current
  one (the axes stay put, so a student sees the state move, not the scale).

Intermediate values are recomputed per iteration from the recorded inputs with
the reference semantics (:func:`theanolab.viz.values.evaluate`); the inputs
and new states are the recorded ones.

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> from theanolab.viz import scan_stepper
>>> k = T.iscalar('k'); A = T.dvector('A')
>>> result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
...                                  non_sequences=A, n_steps=k)
>>> power = theanolab.function([A, k], result[-1], updates=updates)
>>> stepper = scan_stepper(power, np.array([1., 2., 3.]), 3)  # doctest: +SKIP
>>> stepper.go(2); stepper.step_values(2)['state 0']  # doctest: +SKIP
array([ 1.,  8., 27.])
"""

from __future__ import annotations

import base64
import html
import re

import numpy as np

from theanolab.graph.op import base_op
from theanolab.printing import to_dot
from theanolab.viz.graphview import EDGE_FONT, FONT
from theanolab.viz.render import render_svg
from theanolab.viz.stepper import FrameStepper, compiled_function, scoped_id
from theanolab.viz.values import SMALL, describe_value, evaluate
from theanolab.viz.zoom import zoomable

__all__ = ["ScanStepper", "scan_stepper", "ROLES", "MAX_FRAMES", "MAX_COMPONENTS"]

#: the roles of a step's values, in the order the body's inputs have them (then its outputs)
ROLES = ("sequences", "states", "shared", "non_sequences", "outputs")
_ROLE_TEXT = {"sequences": "sequence slice", "states": "previous state", "shared": "shared value",
              "non_sequences": "non-sequence", "outputs": "computed"}
#: a loop longer than this shows this many evenly spaced iterations (the first and the last among them)
MAX_FRAMES = 200
#: a state with more elements than this is plotted as its min, mean and max
MAX_COMPONENTS = 8

_TEXT = re.compile(r"<text([^>]*)>(.*?)</text>", re.S)


class ScanStepper:
    """Steps through the recorded iterations of one scan of a compiled function (see the module docstring).

    ``steps`` are the :class:`~theanolab.scan.trace.ScanStep` records shown,
    ``frames[i]`` the iteration index frame ``i`` shows, ``values[i]`` every
    body variable's value there; ``trajectories`` maps each state and
    per-step output to its values over the loop (one row per iteration);
    ``figure`` is the trajectory plot and ``result`` what ``f`` returned.
    """

    def __init__(self, function, inputs, scan=0, interval=700, engine=None, max_frames=MAX_FRAMES):
        import theanolab

        with theanolab.change_flags(scan_trace=True):
            self.result = function(*inputs)
        traces = function.scan_traces
        if not traces:
            raise ValueError(f"scan_stepper: {function} contains no scan node (nothing to step through)")
        self.trace = traces[scan]
        if not self.trace.steps:
            raise ValueError(f"scan_stepper: the scan {self.trace.name!r} recorded no iteration for these "
                             "inputs (n_steps was 0, or its backend does not record iterations)")
        self.node = self.trace.node
        self.body = base_op(self.node.op).fgraph
        all_steps = list(self.trace.steps)
        self.frames = _spread(len(all_steps), max_frames)
        self.steps = [all_steps[t] for t in self.frames]
        self.labels = self._labels(self.steps[0])
        self.values = [self._body_values(step) for step in self.steps]
        self.trajectories = self._trajectories(all_steps)
        self.n_iterations = len(all_steps)
        self.scope = scoped_id("tlscan")
        self.engine = engine
        self.figure, self._step_x = self._plot(all_steps)
        self.stepper = FrameStepper(self._render_frames(), base=self._base(), interval=interval,
                                    description="iteration")
        self.widget = self.stepper.widget
        self.widget.add_class("tl-scan-stepper")

    # ------------------------------------------------------------------ values

    def _labels(self, step):
        """``{body variable: (role, label)}``: the trace's labels put on the body's inputs and outputs."""
        inputs = [(role, label) for role in ROLES[:-1] for label in getattr(step, role)]
        outputs = [("outputs", label) for label in step.outputs]
        if len(inputs) != len(self.body.inputs) or len(outputs) != len(self.body.outputs):
            raise ValueError(f"scan_stepper: the trace of {self.trace.name!r} does not match its body "
                             f"({len(inputs)} recorded inputs for {len(self.body.inputs)}, "
                             f"{len(outputs)} recorded outputs for {len(self.body.outputs)})")
        labels = dict(zip(self.body.inputs, inputs))
        for var, entry in zip(self.body.outputs, outputs):
            labels.setdefault(var, entry)  # a body that returns an input unchanged keeps the input's label
        return labels

    def _body_values(self, step):
        """Every body variable's value at ``step``: recorded inputs and outputs, recomputed intermediates."""
        given = {var: getattr(step, role)[label] for var, (role, label) in self.labels.items() if role != "outputs"}
        values = evaluate(self.body.inputs, self.body.outputs, given)
        values.update(zip(self.body.outputs, step.outputs.values()))
        return values

    def step_values(self, index):
        """``{label: value}`` of what frame ``index`` shows: every recorded input and output of its iteration."""
        step = self.steps[index]
        return {label: value for role in ROLES for label, value in getattr(step, role).items()}

    def _trajectories(self, steps):
        """The states and per-step outputs over the loop (not the shared values or the until condition)."""
        info = base_op(self.node.op).info
        plotted = list(steps[0].outputs)[:info.n_states + info.n_per_step]
        trajectories = {}
        for label in plotted:
            rows = [np.asarray(step.outputs[label]) for step in steps]
            if rows[0].dtype.kind in "biuf" and all(row.shape == rows[0].shape for row in rows):
                trajectories[label] = np.stack(rows)
        return trajectories

    def trajectory(self, label, index):
        """What frame ``index`` plots of ``label``: its values from the first iteration to the frame's."""
        return self.trajectories[label][:self.frames[index] + 1]

    # ------------------------------------------------------------------ the body's drawing

    def _decorate(self, kind, obj, attributes):
        """Names from the trace, a value line to be filled per frame, and a slot class to find it by."""
        if kind == "edge":
            attributes.update(EDGE_FONT)
            return attributes
        attributes.update(FONT)
        if kind == "apply":
            texts = ["= " + "; ".join(_brief(values.get(out)) for out in obj.outputs) for values in self.values]
            label = attributes["label"]
        elif obj in self.labels:
            role, name = self.labels[obj]
            texts = ["= " + _brief(values[obj]) for values in self.values]
            label = name if kind == "output" else f"{name}\n({_ROLE_TEXT[role]})"
        else:
            return attributes
        attributes["label"] = f"{label}\n{max(texts, key=len)}"
        attributes["class"] = f"{attributes.get('class', kind)} tlslot{len(self._slot_texts)}"
        self._slot_texts.append(texts)
        return attributes

    @property
    def dot(self):
        """DOT of the body, each value line holding its longest text (so every text fits its box)."""
        self._slot_texts = []
        return to_dot(self.body, name=f"body of {self.trace.name}", decorate=self._decorate, inner_graphs=False)

    def _svg(self):
        """The body's SVG with each value line replaced by its distinct texts, tagged with their frames."""
        svg = render_svg(self.dot, self.engine)
        for slot, texts in enumerate(self._slot_texts):
            start = re.search(rf'<g id="[^"]*" class="[^"]*\btlslot{slot}\b[^"]*">', svg)
            if start is None:
                continue
            end = svg.find("<!--", start.end())
            end = len(svg) if end < 0 else end
            lines = list(_TEXT.finditer(svg, start.end(), end))
            if not lines:
                continue
            last = lines[-1]
            frames_of = {}
            for frame, text in enumerate(texts):
                frames_of.setdefault(text, []).append(frame)
            variants = "".join(
                f"<text class=\"tl-v {' '.join(f'f{i}' for i in frames)}\"{last.group(1)}>{html.escape(text)}</text>"
                for text, frames in frames_of.items())
            svg = svg[:last.start()] + variants + svg[last.end():]
        return svg

    # ------------------------------------------------------------------ the trajectories

    def _plot(self, steps):
        """One figure of every trajectory; returns it and each iteration's x as a fraction of its width."""
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        labels = list(self.trajectories)
        figure = Figure(figsize=(4.8, 0.9 + 1.4 * max(1, len(labels))), layout="constrained")
        axes = figure.subplots(max(1, len(labels)), 1, sharex=True, squeeze=False)[:, 0]
        x = np.arange(len(steps))
        for ax, label in zip(axes, labels):
            values = self.trajectories[label].reshape(len(steps), -1)
            if values.shape[1] <= MAX_COMPONENTS:
                for i in range(values.shape[1]):
                    ax.plot(x, values[:, i], marker="o", markersize=3, label=f"[{i}]" if values.shape[1] > 1 else label)
            else:
                for name, reduce in (("max", np.max), ("mean", np.mean), ("min", np.min)):
                    ax.plot(x, reduce(values, axis=1), marker="o", markersize=3, label=name)
            ax.set_ylabel(label, fontsize=9)
            ax.grid(alpha=0.3)
            if len(ax.lines) > 1:  # beside the axes: the mask over future iterations never hides it
                ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        axes[-1].set_xlabel("iteration")
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
        if not labels:
            axes[0].set_title("no numeric state to plot", fontsize=10)
        self._png = _png(figure)  # lays the figure out: positions below are final
        to_figure = figure.transFigure.inverted()
        step_x = [float(to_figure.transform(axes[0].transData.transform((t, 0)))[0]) for t in range(len(steps) + 1)]
        self._axes_right = float(axes[0].get_position().x1)
        self._axes_top = float(axes[0].get_position().y1)
        return figure, step_x

    def _plot_html(self):
        image = base64.b64encode(self._png).decode()
        over_axes = f"position:absolute; top:{100 * (1 - self._axes_top):.2f}%; bottom:0"
        return (f"<div class='tl-trajectory' style='position:relative; display:inline-block; line-height:0'>"
                f"<img src='data:image/png;base64,{image}' style='display:block'/>"
                f"<div class='tl-mask' style='{over_axes}; background:rgba(255,255,255,0.93)'></div>"
                f"<div class='tl-now' style='{over_axes}; width:0; border-left:2px solid #d62728'></div></div>")

    # ------------------------------------------------------------------ frames

    def _base(self):
        try:
            drawing = zoomable({(): self._svg()}, max_height=640, max_width=760, pane_class="tl-scan-body")
        except Exception as exc:  # no layout engine: the table and the plot still step
            drawing = f"<pre class='tl-scan-body'>{html.escape(str(exc))}</pre>"
        style = f"<style>#{self.scope} .tl-v {{ display: none; }}</style>"
        return (f"<div id='{self.scope}' class='tl-scan' style='display:flex; flex-wrap:wrap; gap:16px; "
                f"align-items:flex-start'>{style}<div>{drawing}</div>{self._plot_html()}</div>")

    def _style(self, index):
        t = self.frames[index]
        now = self._step_x[t]
        future = (self._step_x[t] + self._step_x[t + 1]) / 2 if t + 1 < self.n_iterations else self._axes_right
        width = max(0.0, self._axes_right - future)
        scope = f"#{self.scope}"
        return (f"<style>{scope} .tl-v.f{index} {{ display: inline; }}\n"
                f"{scope} .tl-mask {{ left: {100 * future:.3f}%; width: {100 * width:.3f}%; }}\n"
                f"{scope} .tl-now {{ left: {100 * now:.3f}%; }}</style>")

    def _caption(self, index):
        t = self.frames[index]
        step = self.steps[index]
        rows = "".join(
            f"<tr class='tl-scan-row' data-role='{role}'><td style='color:#666'>{_ROLE_TEXT[role]}</td>"
            f"<td><code class='tl-scan-name'>{html.escape(label)}</code></td>"
            f"<td class='tl-scan-value' data-name='{html.escape(label, quote=True)}' style='font-family:monospace'>"
            f"{html.escape(describe_value(value))}</td></tr>"
            for role in ROLES for label, value in getattr(step, role).items())
        return (f"<div class='tl-scan-title' style='font-weight:bold'>{html.escape(self.trace.name)}: "
                f"iteration <span class='tl-iteration'>{t}</span> of {self.n_iterations - 1}</div>"
                f"<table class='tl-scan-values'>{rows}</table>")

    def _render_frames(self):
        return [f"<div class='tl-frame' data-frame='{i}' data-iteration='{t}'>{self._style(i)}{self._caption(i)}</div>"
                for i, t in enumerate(self.frames)]

    # ------------------------------------------------------------------ driving (tests, scripts)

    @property
    def slider(self):
        return self.stepper.slider

    @property
    def shown(self):
        return self.stepper.shown

    def go(self, index):
        self.stepper.go(index)

    def state_size(self):
        return self.stepper.state_size()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _brief(value):
    """A value as one short line on a node: written out when small, else its shape and range."""
    array = np.asarray(value) if value is not None else None
    if array is None or array.size <= SMALL or array.dtype.kind not in "biuf":
        return describe_value(value)
    return f"{array.shape}: {np.min(array):.3g} .. {np.max(array):.3g}, mean {np.mean(array):.3g}"


def _spread(n, most):
    """Indices of ``n`` iterations to show: all of them, or ``most`` evenly spaced ones with the first and last."""
    if n <= most:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, most).round().astype(int).tolist()))


def _png(figure):
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def scan_stepper(function, *inputs, scan=0, interval=700, engine=None, max_frames=MAX_FRAMES):
    """Call ``function(*inputs)`` recording its scan's iterations and return a :class:`ScanStepper` over them.

    ``scan`` picks the scan (its position in ``function.scan_traces`` or its
    ``name``) when there are several; nested scans are stepped at the outer
    level (an inner scan is one node of the body, with its value).
    """
    return ScanStepper(compiled_function(function, "scan_stepper"), inputs, scan=scan, interval=interval, engine=engine, max_frames=max_frames)
