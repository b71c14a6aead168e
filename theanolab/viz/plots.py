"""Plots of a function beside its gradient, computed by theanolab itself.

``plot(expr, x)`` differentiates ``expr`` with ``T.grad``, compiles the value
and the derivative into one function, evaluates it on a grid, and checks the
derivative against central finite differences of the values; beside the
curves it shows the optimized gradient graph (for the logistic curve,
``sigmoid(x) * sigmoid(-x)``, which is ``s * (1 - s)``).  ``plot2d(expr,
(x, y))`` draws contours of a function of two scalars and its gradient field.

The figures are ``matplotlib.figure.Figure`` objects made without pyplot
(no GUI backend is ever chosen); the returned objects keep the numbers, so a
test can compare them with the compiled function.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

__all__ = ["plot", "plot2d", "Plot1D", "Plot2D"]


def _figure(width=6.4, height=4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _scalar_input(var, what):
    if getattr(var, "ndim", None) != 0 or var.owner is not None:
        raise TypeError(f"{what} must be a scalar input variable (T.dscalar('x')), got {var!r} of type "
                        f"{getattr(var, 'type', type(var).__name__)}")
    return var


class _PlotResult:
    """Shared display: the figure as PNG, with an HTML panel beside it."""

    figure = None

    def side_html(self):
        return ""

    def png(self):
        return _png(self.figure)

    def _repr_mimebundle_(self, include=None, exclude=None):
        image = base64.b64encode(self.png()).decode()
        body = (f"<div class='tl-plot' style='display:flex; gap:16px; align-items:flex-start'>"
                f"<img src='data:image/png;base64,{image}'/>{self.side_html()}</div>")
        return {"text/html": body, "text/plain": repr(self)}


class Plot1D(_PlotResult):
    """A function of one scalar and its derivative on a grid (see :func:`plot`).

    ``x``, ``y`` and ``dy`` are the grid and the compiled function's values
    and derivatives; ``finite_difference`` the central differences of ``y``
    at the same points; ``max_error`` their largest gap; ``gradient`` the
    compiled derivative function, ``gradient_formula`` its optimized formula.
    """

    def __init__(self, x, y, dy, finite_difference, gradient, figure, engine=None):
        self.x, self.y, self.dy = x, y, dy
        self.finite_difference = finite_difference
        self.max_error = float(np.max(np.abs(dy - finite_difference))) if len(x) else 0.0
        scale = max(1.0, float(np.max(np.abs(dy)))) if len(x) else 1.0
        self.check_passed = self.max_error <= 1e-4 * scale
        self.gradient = gradient
        self.figure = figure
        self.engine = engine

    @property
    def gradient_formula(self):
        from theanolab.printing import pp

        return pp(self.gradient.maker.fgraph.outputs[0])

    def gradient_graph(self):
        from theanolab.viz.graphview import graph

        return graph(self.gradient, engine=self.engine, title="the derivative, optimized")

    def side_html(self):
        verdict = "agrees" if self.check_passed else "DISAGREES"
        try:
            drawing = self.gradient_graph().html(max_height=360)
        except Exception as exc:  # no layout engine: the formula still says it
            drawing = f"<pre>{html.escape(str(exc))}</pre>"
        return (f"<div class='tl-gradient'><div>derivative as compiled: <code class='tl-formula'>"
                f"{html.escape(self.gradient_formula)}</code></div>"
                f"<div class='tl-fd-check'>finite differences {verdict}: max |error| = {self.max_error:.2e}</div>"
                f"{drawing}</div>")

    def __repr__(self):
        return (f"<Plot1D {len(self.x)} points; derivative {self.gradient_formula}; finite-difference "
                f"max error {self.max_error:.2e} ({'ok' if self.check_passed else 'MISMATCH'})>")


def plot(expr, wrt, range=(-6.0, 6.0), points=201, derivative=True, mode=None, title=None, engine=None):
    """Plot ``expr`` (a scalar expression of the scalar input ``wrt``) and its derivative.

    The derivative is ``T.grad(expr, wrt)``, compiled together with ``expr``
    (``mode``: the compilation mode) and checked by central finite
    differences.  Returns a :class:`Plot1D`.

    >>> import theanolab.tensor as T
    >>> x = T.dscalar('x')
    >>> p = plot(1 / (1 + T.exp(-x)), x)  # doctest: +SKIP
    """
    import theanolab
    import theanolab.tensor as T
    from theanolab.compile.mode import get_mode

    _scalar_input(wrt, "plot: wrt")
    if getattr(expr, "ndim", None) != 0:
        raise TypeError(f"plot: expr must be a scalar expression of {wrt}, got {expr!r} of type "
                        f"{getattr(expr, 'type', type(expr).__name__)}")
    if points < 3:
        raise ValueError(f"plot: points must be at least 3, got {points}")
    low, high = (float(v) for v in range)
    if not high > low:
        raise ValueError(f"plot: range must be (low, high) with low < high, got {range}")
    d_expr = T.grad(expr, wrt)
    both = theanolab.function([wrt], [expr, d_expr], mode=mode)
    # shown to the student: every simplification, but not fused into one opaque composite
    gradient = theanolab.function([wrt], d_expr, mode=get_mode(mode).excluding("fusion", "inplace"))
    x = np.linspace(low, high, points)
    values = np.array([[float(v) for v in both(xi)] for xi in x])
    y, dy = values[:, 0], values[:, 1]
    step = 1e-5 * max(1.0, high - low)
    fd = np.array([(float(both(xi + step)[0]) - float(both(xi - step)[0])) / (2 * step) for xi in x])
    figure = _figure()
    ax = figure.subplots()
    name = wrt.name or "x"
    ax.plot(x, y, label=f"f({name})", color="#1f77b4", linewidth=2)
    if derivative:
        ax.plot(x, dy, label=f"f'({name}) (T.grad)", color="#d62728", linewidth=2)
        marks = slice(None, None, max(1, points // 20))
        ax.plot(x[marks], fd[marks], "o", markersize=4, markerfacecolor="none", color="#333333",
                label="finite differences")
    ax.axhline(0, color="#bbbbbb", linewidth=0.8)
    ax.set_xlabel(name)
    ax.set_title(title or f"f({name}) and its derivative")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return Plot1D(x, y, dy, fd, gradient, figure, engine)


class Plot2D(_PlotResult):
    """A function of two scalars: ``z[i, j]`` at ``(x[j], y[i])`` and its gradient ``(gx, gy)`` there."""

    def __init__(self, x, y, z, gx, gy, figure):
        self.x, self.y, self.z, self.gx, self.gy = x, y, z, gx, gy
        self.figure = figure

    def __repr__(self):
        return f"<Plot2D {self.z.shape[1]} x {self.z.shape[0]} grid, z from {self.z.min():.4g} to {self.z.max():.4g}>"


def plot2d(expr, wrt, xrange=(-2.0, 2.0), yrange=(-2.0, 2.0), points=41, arrows=15, mode=None, title=None):
    """Contours of ``expr`` (a scalar expression of the scalar inputs ``wrt = (x, y)``) and its gradient field.

    Returns a :class:`Plot2D` whose ``z``, ``gx`` and ``gy`` are the compiled
    function's values and gradient on the grid.
    """
    import theanolab
    import theanolab.tensor as T

    if len(wrt) != 2:
        raise ValueError(f"plot2d: wrt must be two scalar inputs (x, y), got {wrt}")
    xv, yv = (_scalar_input(v, "plot2d: each of wrt") for v in wrt)
    gx_expr, gy_expr = T.grad(expr, [xv, yv])
    compiled = theanolab.function([xv, yv], [expr, gx_expr, gy_expr], mode=mode)
    x = np.linspace(*(float(v) for v in xrange), points)
    y = np.linspace(*(float(v) for v in yrange), points)
    z, gx, gy = (np.empty((points, points)) for _ in "zxy")
    for i, yi in enumerate(y):
        for j, xj in enumerate(x):
            z[i, j], gx[i, j], gy[i, j] = (float(v) for v in compiled(xj, yi))
    figure = _figure(5.6, 4.8)
    ax = figure.subplots()
    filled = ax.contourf(x, y, z, levels=20, cmap="viridis")
    ax.contour(x, y, z, levels=20, colors="white", linewidths=0.4, alpha=0.6)
    figure.colorbar(filled, ax=ax)
    every = max(1, points // arrows)
    ax.quiver(x[::every], y[::every], gx[::every, ::every], gy[::every, ::every], color="white")
    ax.set_xlabel(xv.name or "x")
    ax.set_ylabel(yv.name or "y")
    ax.set_title(title or "contours and gradient field")
    return Plot2D(x, y, z, gx, gy, figure)
