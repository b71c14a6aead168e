"""Rendering: DOT to SVG with the system ``dot`` and without it, graph views, values, display hooks."""

import html
import re
import shutil

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import theanolab
import theanolab.tensor as T
from theanolab.viz import display, render
from theanolab.viz.graphview import graph
from theanolab.viz.render import RenderError, available_engines, find_engine, render_svg

DOT = 'digraph g { a [class="input"]; b [class="apply"]; a -> b [label="float64 (False,)"]; }'


def _hide_system_dot(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(render.shutil, "which", lambda name, *a, **k: None if name == "dot" else real_which(name, *a, **k))


def node_classes(svg):
    return re.findall(r'<g id="[^"]+" class="node ([^"]+)"', html.unescape(svg))


@pytest.mark.skipif(shutil.which("dot") is None, reason="the system Graphviz is not installed")
def test_system_dot_is_preferred():
    engine = find_engine()
    assert engine.name == "dot"
    svg = render_svg(DOT, engine)
    assert svg.startswith("<svg") and node_classes(svg) == ["input", "apply"]


def test_without_system_dot_the_bundled_graphviz_renders(monkeypatch):
    _hide_system_dot(monkeypatch)
    engines = available_engines()
    assert [e.name for e in engines] == ["graphviz-pure"]
    svg = render_svg(DOT)
    assert svg.startswith("<svg") and node_classes(svg) == ["input", "apply"]
    assert "float64 (False,)" in svg


def test_no_engine_at_all_says_what_to_install(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda *a, **k: None)
    monkeypatch.setattr(render, "_bundled_path", lambda: None)
    with pytest.raises(RenderError, match="apt-get install graphviz.*theanolab\\[notebook\\]"):
        find_engine()
    view = graph(T.dscalar("x") + 1)
    bundle = view._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "Elemwise{add,no_inplace}" in bundle["text/plain"]


def test_an_engine_that_fails_raises_render_error():
    engine = find_engine()
    with pytest.raises(RenderError, match="failed"):
        engine.render("digraph { a -> }")


@pytest.mark.parametrize("hide_dot", [False, True], ids=["system-dot", "bundled"])
def test_kinds_are_distinct_and_edges_carry_types(monkeypatch, hide_dot):
    if hide_dot:
        _hide_system_dot(monkeypatch)
    x = T.dmatrix("x")
    w = theanolab.shared(np.ones(3), name="w")
    expr = (x * w).sum() + 2
    svg = graph(expr).svg
    kinds = node_classes(svg)
    assert {"input", "shared", "constant", "apply", "output"} <= set(kinds)
    fills = dict(re.findall(r'class="node (\w+)">\s*<title>[^<]*</title>\s*<(?:polygon|ellipse) fill="(\w+)"', svg))
    assert len(set(fills.values())) == len(fills), f"two kinds share a colour: {fills}"
    assert "float64 (False, False)" in svg and "float64 (False,)" in svg


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_values_on_every_node_equal_numpy(dtype):
    x = T.vector("x", dtype=dtype)
    y = (x * 3).sum()
    values = np.arange(4).astype(dtype)
    view = graph(y, values={"x": values})
    assert view.values[y] == (values * 3).sum()
    dot = view.dot
    assert "= [0, 3, 6, 9]" in dot.replace(".", "") and f"= {(values * 3).sum():g}" in dot.replace(".0", "")
    assert f'label="{dtype} (4,)"' in dot  # edges carry the shape that flowed


def test_values_of_a_compiled_function_and_large_arrays():
    x = T.dmatrix("x")
    f = theanolab.function([x], T.exp(x).mean())
    data = np.linspace(0, 1, 200).reshape(20, 10)
    view = graph(f, values=[data])
    out = f.maker.fgraph.outputs[0]
    assert np.isclose(view.values[out], np.exp(data).mean())
    assert "shape (20, 10): min 0, mean 0.5, max 1" in view.dot
    assert "float64 (20, 10)" in view.dot


def test_in_place_nodes_do_not_change_recorded_values():
    x = T.dvector("x")
    f = theanolab.function([x], (T.exp(x) + 1) * 2)
    view = graph(f, values=[np.zeros(3)])
    recorded = [view.values[n.outputs[0]] for n in f.maker.fgraph.toposort()]
    assert np.allclose(recorded[-1], 4.0)
    assert view.values[f.maker.fgraph.inputs[0]].tolist() == [0.0, 0.0, 0.0]


def test_missing_input_value_is_a_clear_error():
    x, y = T.dscalars("x", "y")
    with pytest.raises(ValueError, match="a value for the input y"):
        graph(x + y, values={"x": 1.0})
    with pytest.raises(KeyError, match="no input named 'z'"):
        graph(x + y, values={"z": 1.0})


def test_rich_display_of_variables_functions_and_fgraphs():
    x = T.dscalar("x")
    f = theanolab.function([x], T.log(1 + x))
    assert display.registered()
    for obj in (x * 2, f, f.maker.fgraph):
        bundle = obj._repr_mimebundle_()
        assert bundle["image/svg+xml"].startswith("<svg")
        assert bundle["text/plain"] == theanolab.debugprint(obj, file="str")
    assert "image/svg+xml" not in (x * 2)._repr_mimebundle_(include={"text/plain"})


def test_huge_graphs_display_as_text(monkeypatch):
    monkeypatch.setattr(display, "MAX_DRAWN_NODES", 2)
    x = T.dscalar("x")
    assert list(((x + 1) * 2 - 3)._repr_mimebundle_()) == ["text/plain"]


def test_load_ext_registers_and_installs_the_error_handler():
    calls = []

    class Shell:
        def set_custom_exc(self, types, handler):
            calls.append((types, handler))

    display.unregister()
    assert not display.registered()
    theanolab.load_ipython_extension(Shell())
    assert display.registered() and calls[0][0] == (Exception,)
    display.unload_ipython_extension(Shell())
    assert not display.registered() and calls[1] == ((), None)
    display.register()


def test_inner_graphs_expand_on_demand():
    x = T.dvector("x")
    f = theanolab.function([x], T.exp(x) * 2 + 1)
    assert "cluster" not in graph(f).dot
    assert "cluster" in graph(f, inner_graphs=True).dot
