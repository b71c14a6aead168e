"""The profiling view (heat on the graph, a table) and errors shown on the graph."""

import html
import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import theanolab
import theanolab.tensor as T
from theanolab.viz import error_view, profile_view
from theanolab.viz.errors import ErrorView, show_error
from theanolab.viz.profile import heat


def test_profile_view_colours_nodes_by_time():
    x = T.dmatrix("x")
    f = theanolab.function([x], T.exp(x).sum() + T.tanh(x).mean(), profile=True)
    f(np.ones((50, 50)))
    view = profile_view(f)
    assert {row.node for row in view.rows} == set(f.maker.fgraph.apply_nodes)
    assert np.isclose(sum(view.share.values()), 1.0)
    hottest = view.rows[0].node
    assert view.graph.fill[hottest] == heat(1.0) == "#ff0000"
    assert "ms/call" in view.graph.dot and 'fillcolor="#ff0000"' in view.graph.dot
    page = view._repr_mimebundle_()["text/html"]
    assert page.count("<tr>") == len(view.rows) + 1 and "<svg" in page


def test_profile_view_needs_a_profiled_called_function():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="profile=True"):
        profile_view(theanolab.function([x], x * 2))
    with pytest.raises(ValueError, match="never called"):
        profile_view(theanolab.function([x], x * 2, profile=True))
    assert heat(0) == "#ffffcc" and heat(2) == "#ff0000"


def failing():
    v = T.dvector("v")
    i = T.lscalar("i")
    picked = v[i] * 2  # the line the error view points at
    f = theanolab.function([v, i], picked)
    try:
        f(np.ones(3), 7)
    except IndexError as exc:
        return f, exc
    raise AssertionError("no error")


@pytest.mark.cpu_only
def test_error_view_highlights_the_failing_node():
    f, exc = failing()
    view = error_view(exc)
    assert view.function is f and view.node is exc.node
    assert view.input_shapes == [(3,), ()]
    assert "picked = v[i] * 2" in view.built_at
    page = view.html()
    assert "index 7 is out of bounds" in page and "<td class='tl-shape'>(3,)</td>" in page
    svg = html.unescape(page)
    failing_box = re.search(r'<a xlink:title="Subtensor\{int64\}[^"]*">\s*<ellipse fill="#ffd6d6" stroke="red" '
                            r'stroke-width="3"', svg)
    assert failing_box is not None and "the error happened here" in svg
    assert svg.count('stroke="red"') == 1  # only the failing node


def test_error_handler_shows_traceback_then_graph(monkeypatch):
    f, exc = failing()
    shown, tracebacks = [], []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))

    class Shell:
        def showtraceback(self, info, tb_offset=None):
            tracebacks.append(info)

    show_error(Shell(), type(exc), exc, exc.__traceback__)
    assert tracebacks and isinstance(shown[0], ErrorView) and shown[0].function is f
    show_error(Shell(), ValueError, ValueError("plain"), None)
    assert len(shown) == 1


def test_an_error_without_a_node_is_refused():
    with pytest.raises(ValueError, match="carries no node"):
        error_view(ValueError("x"))
