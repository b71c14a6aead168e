"""A live view of a training loop: cost and accuracy per step, updating in place.

>>> monitor = TrainingMonitor(steps=1000, every=100)      # doctest: +SKIP
>>> for step in range(1, 1001):                            # doctest: +SKIP
...     prediction, cost = train(D[0], D[1])
...     monitor.update(step, cost=cost, accuracy=(prediction == D[1]).mean())
>>> monitor.close()                                        # doctest: +SKIP

In a notebook it is a widget (a progress bar, the latest numbers, and a
chart redrawn every ``every`` steps in the same place); in a terminal it is
one line redrawn with ``\\r`` (``[#####.....]  50%  step 500/1000  cost
0.31  accuracy 0.97``).  Every reported value is kept in ``history``.
"""

from __future__ import annotations

import sys

__all__ = ["TrainingMonitor", "in_notebook"]


def in_notebook():
    """True inside a Jupyter kernel (where widgets display), False in a terminal or a script."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_line(step, steps, metrics, width=30):
    """The terminal line: a bar, the percentage, the step and the latest metrics."""
    done = int(width * step / steps) if steps else width
    numbers = "  ".join(f"{name} {value:.4g}" for name, value in metrics.items())
    return f"[{'#' * done}{'.' * (width - done)}] {100 * step / steps:3.0f}%  step {step}/{steps}  {numbers}"


class TrainingMonitor:
    """Progress and metrics of a loop of ``steps`` steps (see the module docstring).

    ``notebook=None`` detects where it runs; ``file`` is the terminal stream.
    ``history`` is ``{'step': [...], name: [...]}`` of every update.
    """

    def __init__(self, steps, every=None, notebook=None, file=None, title="training"):
        if steps < 1:
            raise ValueError(f"TrainingMonitor: steps must be at least 1, got {steps}")
        self.steps = steps
        self.every = every or max(1, steps // 50)
        self.notebook = in_notebook() if notebook is None else notebook
        self.file = file or sys.stdout
        self.title = title
        self.history = {"step": []}
        self._line_open = False  # a terminal line drawn without its newline yet
        self.widget = self._build_widget() if self.notebook else None

    def _build_widget(self):
        import ipywidgets as widgets
        from IPython.display import display

        self.bar = widgets.IntProgress(value=0, min=0, max=self.steps, description=self.title,
                                       bar_style="info")
        self.label = widgets.HTML(value="")
        self.chart = widgets.Image(format="png")
        box = widgets.VBox([widgets.HBox([self.bar, self.label]), self.chart])
        box.add_class("tl-training")
        display(box)
        return box

    def update(self, step, **metrics):
        """Record the metrics of ``step`` (1-based); redraw every ``every`` steps and at the last."""
        self.history["step"].append(step)
        for name, value in metrics.items():
            self.history.setdefault(name, []).append(float(value))
        if step % self.every and step != self.steps:
            return
        latest = {name: values[-1] for name, values in self.history.items() if name != "step"}
        if self.widget is None:
            self._line_open = step < self.steps
            self.file.write("\r" + progress_line(step, self.steps, latest) + ("" if self._line_open else "\n"))
            self.file.flush()
            return
        self.bar.value = step
        self.label.value = progress_line(step, self.steps, latest).split("] ", 1)[1]
        self.chart.value = self.chart_png()

    def chart_png(self):
        """The metrics so far, one panel each, as PNG bytes."""
        from matplotlib.figure import Figure

        names = [name for name in self.history if name != "step"]
        figure = Figure(figsize=(3.2 * max(1, len(names)), 2.4), layout="constrained")
        axes = figure.subplots(1, max(1, len(names)), squeeze=False)[0]
        for ax, name in zip(axes, names):
            ax.plot(self.history["step"][:len(self.history[name])], self.history[name], color="#1f77b4")
            ax.set_title(name)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        from theanolab.viz.plots import _png

        return _png(figure)

    def close(self):
        """Finish: the bar turns green (notebook) or the line ends (terminal)."""
        if self.widget is not None:
            self.bar.bar_style = "success"
        elif self._line_open:
            self.file.write("\n")
            self._line_open = False
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
