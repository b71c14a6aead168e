"""Zoom, pan and collapse: every graph view carries its zoom buttons, and large graphs read as their shape."""

import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import theanolab
import theanolab.tensor as T
from theanolab.graph.basic import io_toposort
from theanolab.viz import graph, optimization_view, rewrite_stepper, scan_stepper
from theanolab.viz.collapse import ChainOp, collapse_chains, find_chains
from theanolab.viz.graphview import WIDGET_MIME
from theanolab.viz.zoom import ZOOM_LEVELS, Toggle, svg_size, zoomable

ZOOM_BUTTONS = [label for _, label, _ in ZOOM_LEVELS]


def drawings_of(page):
    """The SVGs of a zoomable box, in toggle-state order."""
    return re.findall(r"<div class='tl-drawing d\d+' data-state='\d*'>(<svg.*?</svg>)", page, re.S)


def node_count(svg):
    return len(re.findall(r'<g id="node\d+" class="node ', svg))


def zoom_labels(page):
    return re.findall(r"class='tl-zoom-button' data-zoom='\w+'>([^<]+)</label>", page)


def gradient_graph():
    """The logistic regression's gradients before optimization: 62 nodes, many two-step chains."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w, b = theanolab.shared(np.zeros(5), name="w"), theanolab.shared(0.0, name="b")
    p = 1 / (1 + T.exp(-T.dot(x, w) - b))
    cost = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean() + 0.01 * (w ** 2).sum()
    return T.grad(cost, [w, b])


def test_zoom_levels_size_the_drawing_and_the_pane_pans():
    view = graph(T.exp(T.dvector("x")).sum())
    page = view.html(max_height=500)
    assert zoom_labels(page) == ZOOM_BUTTONS
    assert "overflow:auto; max-height:500px" in page
    assert re.search(r"type='radio' name='(tlzoom-\w+)-zoom' id='\1-zfit' class='tl-zoom-fit' checked>", page)
    width, height = svg_size(view.svg)
    for name, _, scale in ZOOM_LEVELS:
        rule = re.search(rf"-z{name}:checked ~ \.tl-zoom-pane > \.d0 > svg {{ ([^}}]*) }}", page).group(1)
        if scale is None:
            assert f"min(100%, {width:.1f}px" in rule and f"aspect-ratio: {width:.1f} / {height:.1f}" in rule
        else:
            assert rule == f"width: {width * scale:.1f}px; height: {height * scale:.1f}px;"
    assert "tl-toggle" not in page  # nothing to expand or collapse in a small plain graph


def test_two_boxes_never_share_ids():
    view = graph(T.dscalar("x") + 1)
    ids = [set(re.findall(r"id='(tlzoom-\w+)'", view.html())) for _ in range(2)]
    assert ids[0] and not ids[0] & ids[1]


def test_large_graph_collapses_chains_with_a_button_to_show_every_node():
    gradients = gradient_graph()
    n = len(io_toposort([], gradients))
    assert n > 60
    view = graph(gradients, values={"x": np.random.rand(4, 5), "y": np.ones(4)})
    page = view.html()
    toggle = re.search(r"<label for='(tlzoom-\w+-t0)' class='tl-toggle-button'[^>]*>collapse chains \((\d+) → (\d+)",
                       page)
    assert toggle and int(toggle.group(2)) == n and int(toggle.group(3)) < n
    assert f"id='{toggle.group(1)}' class='tl-toggle' checked>" in page  # collapsed first
    every_node, collapsed = drawings_of(page)  # states (off,), (on,)
    assert node_count(collapsed) < node_count(every_node)
    assert 'class="node apply chain"' in collapsed and "chain" not in every_node
    assert "steps:" in view.dot and "= " in view.dot  # the default drawing is the collapsed one, with values


@pytest.mark.parametrize("collapse, collapsed", [(None, False), (True, True), (3, True), (False, False)])
def test_collapse_option_on_a_small_graph(collapse, collapsed):
    x = T.dvector("x")
    expr = T.exp(-(x * 2)).sum() + T.log(x).sum()
    view = graph(expr, collapse=collapse)
    assert ("steps:" in view.dot) == collapsed
    assert ("collapse chains" in view.html()) == collapsed


def test_bad_collapse_is_a_clear_error():
    with pytest.raises(ValueError, match="chain length of at least 2"):
        graph(T.dscalar("x") + 1, collapse=1).html()


def test_composites_start_collapsed_and_expand_on_a_click():
    x = T.dvector("x")
    f = theanolab.function([x], T.exp(x) * 2 + 1)
    page = graph(f).html()
    assert re.search(r"class='tl-toggle'>.*expand composites / loops</label>", page, re.S)
    folded, expanded = drawings_of(page)
    assert "cluster" not in folded and "cluster" in expanded
    assert node_count(folded) < node_count(expanded)
    started_open = graph(f, inner_graphs=True).html()
    assert "class='tl-toggle' checked>" in started_open


def _chain_cases():
    x, c = T.dvector("x"), T.dvector("c")
    read_twice = T.exp(x)
    long = ["InplaceDimShuffle{x}", "Elemwise{mul,no_inplace}", "Elemwise{neg,no_inplace}",
            "Elemwise{exp,no_inplace}", "Sum{acc_dtype=float64}"]
    return [  # (id, outputs, min_length, the chains' ops)
        ("constant broadcast, then one-input steps", [T.exp(-(x * 2)).sum()], 5, [long]),
        ("shorter than min_length", [T.exp(-(x * 2)).sum()], 6, []),
        ("a value read twice ends a chain", [read_twice.sum(), -read_twice], 2, []),
        ("a leaf as a second input is wired to the box", [T.tanh(T.exp(x) * c)], 2,
         [["Elemwise{exp,no_inplace}", "Elemwise{mul,no_inplace}", "Elemwise{tanh,no_inplace}"]]),
        ("two computed inputs meet: no chain through them", [T.exp(x) * T.tanh(x)], 2, []),
    ]


@pytest.mark.parametrize("case", _chain_cases(), ids=lambda case: case[0])
def test_chains_table(case):
    _, outputs, length, expected = case
    assert [[str(node.op) for node in chain] for chain in find_chains(outputs, length)] == expected


def test_collapsed_graph_keeps_inputs_and_maps_back():
    x, c = T.dvector("x"), T.dvector("c")
    out = T.tanh(T.exp(x) * c) + x
    (new,), original, members = collapse_chains([out], 2)
    box = new.owner  # exp, mul by c, tanh, add x: one box, ending at the output
    assert isinstance(box.op, ChainOp) and box.inputs == [x, c, x]
    assert [str(node.op) for node in members[box]][-1] == "Elemwise{add,no_inplace}"
    assert original[new] is out
    with pytest.raises(TypeError, match="cannot run"):
        box.op.perform(box, [], [[None]])


def test_a_highlighted_step_inside_a_chain_highlights_its_box():
    x = T.dvector("x")
    inner = T.exp(x)
    view = graph(T.tanh(-inner).sum(), highlight=[inner.owner], collapse=2)
    assert re.search(r'class="apply chain"[^\]]*color="red"', view.dot)


def test_display_is_a_zoomable_widget_with_svg_and_text_fallbacks():
    bundle = graph(T.dscalar("x") * 2)._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and bundle["text/plain"]
    assert "model_id" in bundle[WIDGET_MIME]
    assert WIDGET_MIME not in graph(T.dscalar("x"))._repr_mimebundle_(include={"text/plain", "image/svg+xml"})


def test_every_stepper_and_the_optimization_view_zoom():
    s = T.dscalar("s")
    f = theanolab.function([s], 1 / (1 + s) + T.log(1 + s))
    stepper = rewrite_stepper(f)
    assert zoom_labels(stepper.stepper.base.value) == ZOOM_BUTTONS
    assert f"id='{stepper.scope}' class='tl-zoom-pane tl-union'" in stepper.stepper.base.value
    view = optimization_view(f)
    panes = [child.value for child in view.children[0].children]
    assert [zoom_labels(pane) for pane in panes] == [ZOOM_BUTTONS, ZOOM_BUTTONS]
    k, A = T.iscalar("k"), T.dvector("A")
    result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                                     n_steps=k)
    power = theanolab.function([A, k], result[-1], updates=updates)
    scan = scan_stepper(power, np.array([1.0, 2.0, 3.0]), 3)
    assert zoom_labels(scan.stepper.base.value) == ZOOM_BUTTONS
    assert "class='tl-zoom-pane tl-scan-body'" in scan.stepper.base.value


def test_zoomable_needs_every_toggle_state_and_a_known_level():
    svg = '<svg width="10pt" height="20pt" viewBox="0 0 10 20"></svg>'
    with pytest.raises(ValueError, match=r"no drawing for the toggle states \[\(True,\)\]"):
        zoomable({(False,): svg}, [Toggle("t")])
    with pytest.raises(ValueError, match="unknown zoom level '300'"):
        zoomable({(): svg}, zoom="300")
    with pytest.raises(ValueError, match="not an <svg>"):
        zoomable({(): "<p>no</p>"})
