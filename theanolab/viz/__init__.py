"""theanolab.viz: the teaching layer (the only package that imports IPython, ipywidgets, matplotlib).

Install it with the ``notebook`` extra (``pip install 'theanolab[notebook]'``)
and, in JupyterLab or Notebook 7, ``%load_ext theanolab`` (or ``import
theanolab.viz``).  Then:

- a variable, a compiled function or a FunctionGraph in a cell displays as a
  graph; ``graph(obj, values=...)`` shows every node's value;
- ``optimization_view(f)``: the graph as written beside the optimized one, a
  stepper through every rewrite (``rewrite_stepper(f)`` alone), and a table of
  rewrites by count;
- ``scan_stepper(f, *inputs)``: a loop's iterations, one frame each, with
  the body's values and the states' trajectories;
- ``plot(expr, x)``: a function and its derivative, checked by finite
  differences, beside the optimized gradient graph; ``plot2d(expr, (x, y))``:
  contours and gradient field; ``TrainingMonitor``: a live training view;
- ``profile_view(f)`` for ``function(..., profile=True)``;
- ``error_view(exc)``: a failure inside a compiled function on its graph
  (automatic after ``%load_ext theanolab``).

Every drawing has zoom buttons over a pane that pans by scrolling, a button
that expands fused composites and loop bodies, and, in large graphs, one that
collapses chains of one-input steps (``graph(obj, collapse=...)``,
:mod:`theanolab.viz.zoom`, :mod:`theanolab.viz.collapse`).

Graphs are laid out by the system ``dot`` or, without it, by the Graphviz
that the ``graphviz-pure`` wheel bundles (:mod:`theanolab.viz.render`).
"""

from theanolab.viz.display import load_ipython_extension, register, unload_ipython_extension, unregister
from theanolab.viz.errors import ErrorView, error_view
from theanolab.viz.graphview import GraphView, graph
from theanolab.viz.plots import Plot1D, Plot2D, plot, plot2d
from theanolab.viz.profile import ProfileView, profile_view
from theanolab.viz.render import RenderError, available_engines, find_engine, render_svg
from theanolab.viz.rewrites import RewriteStepper, optimization_view, rewrite_stepper, rewrite_summary
from theanolab.viz.scan_stepper import ScanStepper, scan_stepper
from theanolab.viz.stepper import FrameStepper
from theanolab.viz.training import TrainingMonitor

__all__ = [
    "graph", "GraphView", "optimization_view", "rewrite_stepper", "RewriteStepper", "rewrite_summary",
    "FrameStepper", "scan_stepper", "ScanStepper", "plot", "plot2d", "Plot1D", "Plot2D", "TrainingMonitor",
    "profile_view", "ProfileView",
    "error_view", "ErrorView", "render_svg", "find_engine", "available_engines", "RenderError", "register",
    "unregister", "load_ipython_extension", "unload_ipython_extension",
]

register()
