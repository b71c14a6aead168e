"""Rich display: variables, compiled functions and FunctionGraphs draw themselves in a notebook.

:func:`register` gives those classes a ``_repr_mimebundle_`` (SVG, with the
``debugprint`` text as the plain-text fallback that a terminal shows).  It
runs when ``theanolab.viz`` is imported, and ``%load_ext theanolab`` imports
it; ``import theanolab`` alone never does, so the core stays free of
Jupyter.  :func:`load_ipython_extension` also shows errors raised inside
compiled functions on their graph (:mod:`theanolab.viz.errors`).
"""

from __future__ import annotations

__all__ = ["register", "unregister", "registered", "load_ipython_extension", "unload_ipython_extension",
           "MAX_DRAWN_NODES"]

#: graphs with more nodes than this display as text: laying them out would take longer than reading them
MAX_DRAWN_NODES = 400


def _classes():
    from theanolab.compile.function import Function
    from theanolab.graph.basic import Variable
    from theanolab.graph.fgraph import FunctionGraph

    return (Variable, Function, FunctionGraph)


def _repr_mimebundle_(self, include=None, exclude=None):
    """A drawing of this graph (``theanolab.viz.graph(self)``), with debugprint text as the fallback."""
    from theanolab.graph.basic import io_toposort
    from theanolab.printing import _graph_of
    from theanolab.viz.graphview import GraphView

    view = GraphView(self)
    outputs, _, _ = _graph_of(self, "display")
    if len(io_toposort([], outputs)) > MAX_DRAWN_NODES:
        return {"text/plain": view.text}
    return view._repr_mimebundle_(include, exclude)


def register():
    """Make variables, functions and FunctionGraphs display as graphs in notebooks."""
    for cls in _classes():
        cls._repr_mimebundle_ = _repr_mimebundle_


def unregister():
    """Undo :func:`register`: they display as their ``repr`` again."""
    for cls in _classes():
        if cls.__dict__.get("_repr_mimebundle_") is _repr_mimebundle_:
            del cls._repr_mimebundle_


def registered():
    return all(cls.__dict__.get("_repr_mimebundle_") is _repr_mimebundle_ for cls in _classes())


def load_ipython_extension(ipython):
    """``%load_ext theanolab``: graphs as pictures, and compiled-function errors shown on their graph."""
    from theanolab.viz.errors import show_error

    register()
    ipython.set_custom_exc((Exception,), show_error)


def unload_ipython_extension(ipython):
    unregister()
    ipython.set_custom_exc((), None)
