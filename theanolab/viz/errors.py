"""Errors in notebooks: a failure inside a compiled function, shown on its graph.

The virtual machine re-raises an exception from inside a node with the node
attached (``exc.node``, with ``exc.node_index`` and ``exc.input_shapes``:
:func:`theanolab.backends.py.vm.raise_with_node`).  :func:`error_view` turns
that into a picture: the function's graph with the failing node in red, the
shapes of its inputs on the edges, and the notebook cell line that built it.
``%load_ext theanolab`` installs :func:`show_error` so this appears below the
usual traceback by itself.
"""

from __future__ import annotations

import html

from theanolab.graph.basic import format_trace

__all__ = ["ErrorView", "error_view", "function_of_traceback", "show_error"]


def function_of_traceback(tb):
    """The compiled Function whose call raised (found in the traceback's frames), or None."""
    from theanolab.compile.function import Function

    found = None
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Function):
            found = candidate
        tb = tb.tb_next
    return found


class ErrorView:
    """The failing node highlighted on the graph, its inputs' shapes, and where the user built it."""

    def __init__(self, exc, function=None, engine=None):
        node = getattr(exc, "node", None)
        if node is None:
            raise ValueError(f"{type(exc).__name__} carries no node: it was not raised inside a compiled function")
        self.exc, self.node, self.function, self.engine = exc, node, function, engine
        self.input_shapes = list(getattr(exc, "input_shapes", []))
        trace = next((out.tag.get("trace") for out in node.outputs if out.tag.get("trace")), None)
        self.built_at = format_trace(trace[-1:]) if trace else ""

    @property
    def headline(self):
        return f"{type(self.exc).__name__}: {str(self.exc).splitlines()[0]}"

    def graph(self):
        from theanolab.viz.graphview import graph

        obj = self.function if self.function is not None else self.node.outputs
        return graph(obj, highlight={self.node}, notes={self.node: "the error happened here"}, engine=self.engine,
                     title="where it failed")

    def html(self):
        inputs = "".join(f"<tr><td>{i}</td><td><code>{html.escape(str(var.type))}</code></td>"
                         f"<td class='tl-shape'>{html.escape(str(shape))}</td></tr>"
                         for i, (var, shape) in enumerate(zip(self.node.inputs, self.input_shapes)))
        try:
            drawing = self.graph().html(max_height=480)
        except Exception as exc:  # no layout engine: the table still says it
            drawing = f"<pre>{html.escape(str(exc))}</pre>"
        built = (f"<div>built at:<pre class='tl-built-at'>{html.escape(self.built_at)}</pre></div>"
                 if self.built_at else "<div>(the node was made by a rewrite, not by a line of yours)</div>")
        return (f"<div class='tl-error' style='border-left:4px solid #d62728; padding-left:8px'>"
                f"<div style='color:#d62728; font-weight:bold'>{html.escape(self.headline)}</div>"
                f"<div>failing node: <code class='tl-failing-node'>{html.escape(str(self.node))}</code></div>"
                f"<table><thead><tr><th>input</th><th>type</th><th>shape</th></tr></thead><tbody>{inputs}"
                f"</tbody></table>{built}{drawing}</div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = f"{self.headline}\nfailing node: {self.node}\ninput shapes: {self.input_shapes}\n{self.built_at}"
        return {"text/html": self.html(), "text/plain": text}


def error_view(exc, function=None, engine=None):
    """An :class:`ErrorView` of ``exc`` (the function is found in its traceback when not given)."""
    if function is None:
        function = function_of_traceback(exc.__traceback__)
    return ErrorView(exc, function, engine)


def show_error(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: the usual traceback, then the graph view of a node's error."""
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    if getattr(value, "node", None) is not None:
        from IPython.display import display

        display(ErrorView(value, function_of_traceback(tb)))
    return None
