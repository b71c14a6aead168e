"""The optimization view: each stepper frame shows the recorded graph of its step, named and explained."""

import html
import re
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import theanolab
import theanolab.tensor as T
from theanolab.demo import build_model
from theanolab.graph.rewriting.catalog import catalog
from theanolab.viz.rewrites import NOISY_PASSES, RewriteStepper, optimization_view, plan_frames, rewrite_summary


@pytest.fixture(scope="module")
def train():
    return build_model(12, np.random.default_rng(0))[0]


def log1p_function():
    x = T.dscalar("x")
    return theanolab.function([x], T.log(1 + x) * T.exp(x))


def _ids(frame_html, declaration):
    match = re.search(r":is\(([^)]*)\) \{ " + re.escape(declaration), frame_html)
    return {part.lstrip(".") for part in match.group(1).split(",")} if match else set()


def shown_elements(frame_html):
    """The element ids a frame's style shows as present: visible, not faded as removed."""
    return _ids(frame_html, "display: inline;") - _ids(frame_html, "opacity: 0.35;")


def svg_classes(svg):
    return set(re.findall(r"tl-el (e\d+)", html.unescape(svg)))


@pytest.mark.parametrize("make", ["log1p", "train"])
def test_frame_k_shows_graph_at_k(make, train):
    function = log1p_function() if make == "log1p" else train
    stepper = RewriteStepper(function, fold=())
    history = function.maker.rewrite_history
    assert len(stepper.frames) == len(history) + 1
    drawn = svg_classes(stepper.svg)
    for k in range(len(history) + 1):
        stepper.go(k)
        assert stepper.stepper.stack.selected_index == k
        shown = shown_elements(stepper.stepper.shown)
        assert shown <= drawn
        ops = Counter(stepper.union.labels[e] for e in shown if stepper.union.elements[e] == "apply")
        recorded = history.graph_at(k)
        assert ops == Counter(str(node.op) for node in recorded.apply_nodes), f"frame {k}"
        outputs = [e for e in shown if stepper.union.elements[e] == "output"]
        assert len(outputs) == len(recorded.outputs)


def test_captions_name_the_rule_its_source_and_why():
    stepper = RewriteStepper(log1p_function(), fold=())
    history = stepper.history
    index = next(i for i, step in enumerate(history, 1) if step.rewrite == "log1p")
    frame = stepper.stepper.frames[index]
    assert "<code class='tl-rule-name'>log1p</code>" in frame
    assert "theanolab/tensor/rewriting/stabilize.py:" in frame
    assert "1 + x rounds to 1" in frame  # the rule's reason
    assert "log((1 + x)) &rarr; log1p(x)" in frame or "log1p(x)" in frame
    nodes = len(history.graph_at(index).apply_nodes)
    assert f"<span class='tl-nodes'>{nodes}</span> nodes" in frame


def test_removed_and_added_nodes_are_highlighted():
    stepper = RewriteStepper(log1p_function(), fold=())
    index = next(i for i, step in enumerate(stepper.history, 1) if step.rewrite == "log1p")
    frame = stepper.stepper.frames[index]
    added = stepper.union.steps[index] - stepper.union.steps[index - 1]
    removed = stepper.union.steps[index - 1] - stepper.union.steps[index]
    labels = {stepper.union.labels[e] for e in added | removed if stepper.union.elements[e] == "apply"}
    assert {"Elemwise{log1p,no_inplace}", "Elemwise{log,no_inplace}"} <= labels
    assert "stroke: #2ca02c" in frame and "stroke: #d62728" in frame
    green = re.search(r":is\(([^)]*)\) > :is\(ellipse, polygon, path\) \{ stroke: #2ca02c", frame).group(1)
    assert {p.lstrip(".") for p in green.split(",")} == added


def test_positions_are_stable_one_drawing_for_all_steps(train):
    stepper = RewriteStepper(train)
    base = stepper.stepper.base.value
    for k in range(len(stepper.frames)):
        stepper.go(k)
        assert stepper.stepper.base.value == base  # only the frame's style changes
    assert svg_classes(base) == set(stepper.union.elements)


def test_noisy_passes_fold_and_unfold(train):
    history = train.maker.rewrite_history
    folded = plan_frames(history, NOISY_PASSES)
    every = plan_frames(history, ())
    assert len(every) == len(history) + 1 and len(folded) < len(every)
    covered = [s for frame in folded[1:] for s in range(frame.first, frame.last + 1)]
    assert covered == list(range(1, len(history) + 1))
    for frame in folded[1:]:
        if frame.first != frame.last:
            assert set(frame.rules) <= set(NOISY_PASSES)
    stepper = RewriteStepper(train)
    assert stepper.fold_box.value and stepper.slider.max == len(folded) - 1
    stepper.fold_box.value = False
    assert stepper.slider.max == len(every) - 1 and len(stepper.stepper.stack.children) == len(every)


def test_stepping_is_linked_in_the_browser_and_state_is_small(train):
    stepper = RewriteStepper(train)
    links = {(link.source[0].model_id, link.source[1], link.target[0].model_id, link.target[1])
             for link in stepper.stepper._links}
    parts = stepper.stepper
    assert (parts.play.model_id, "value", parts.slider.model_id, "value") in links
    assert (parts.slider.model_id, "value", parts.stack.model_id, "selected_index") in links
    assert type(parts._links[0]).__name__ == "Link"  # jslink: runs on the client
    assert stepper.stepper.state_size() < 600_000


def test_identical_frames_are_sent_once():
    from theanolab.viz.stepper import FrameStepper

    stepper = FrameStepper(["<b>a</b>", "<b>b</b>", "<b>a</b>"])
    children = stepper.stack.children
    assert children[0] is children[2] and children[0] is not children[1]
    stepper.go(2)
    assert stepper.shown == "<b>a</b>"
    with pytest.raises(IndexError):
        stepper.go(3)
    with pytest.raises(ValueError, match="at least one frame"):
        FrameStepper([])


def test_summary_table_counts_every_rule(train):
    table = rewrite_summary(train)
    used = train.maker.rewrite_history.rewrites_used()
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td><td style='text-align:right'>(\d+)</td>", table)
    assert {name: int(n) for name, n in rows} == used
    counts = [int(n) for _, n in rows]
    assert counts == sorted(counts, reverse=True)


def test_optimization_view_side_by_side(train):
    data = [np.random.default_rng(1).random((5, 12)), np.ones(5)]
    view = optimization_view(train, values=data)
    side = view.children[0]
    user_html, optimized_html = (child.value for child in side.children)
    history = train.maker.rewrite_history
    assert f"as written: {len(history.user_graph.apply_nodes)} nodes" in user_html
    assert f"optimized: {len(train.maker.fgraph.apply_nodes)} nodes" in optimized_html
    assert "float64 (5, 12)" in user_html and "float64 (5, 12)" in optimized_html
    assert view.stepper.widget in view.children


def test_every_rule_says_why_it_fires():
    import theanolab.tensor.rewriting  # noqa: F401

    missing = sorted({row.name for row in catalog() if not row.why})
    assert missing == []
