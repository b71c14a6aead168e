"""The scan stepper: frame k shows iteration k's values (equal to a NumPy loop's) on the body and in its plot."""

import html
import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import theanolab
import theanolab.tensor as T
from theanolab.viz import ScanStepper, scan_stepper
from theanolab.viz.values import describe_value

A_VALUE = np.array([1.0, 2.0, 3.0])
RNG = np.random.default_rng(0)
X, H0, W = RNG.normal(size=(6, 3)), RNG.normal(size=3), 0.5 * RNG.normal(size=(3, 3))


def power_function():
    """The seed's A**k loop."""
    k, A = T.iscalar("k"), T.dvector("A")
    result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                                     n_steps=k)
    return theanolab.function([A, k], result[-1], updates=updates)


def rnn_function():
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    h, _ = theanolab.scan(lambda xt, h, W: T.tanh(T.dot(W, h) + xt), sequences=x, outputs_info=h0, non_sequences=w,
                          name="rnn")
    return theanolab.function([x, h0, w], h)


def numpy_rnn():
    states, h = [], H0
    for xt in X:
        h = np.tanh(W @ h + xt)
        states.append(h)
    return np.array(states)


@pytest.fixture(scope="module")
def power():
    return scan_stepper(power_function(), A_VALUE, 5)


@pytest.fixture(scope="module")
def rnn():
    return scan_stepper(rnn_function(), X, H0, W)


def table(frame_html):
    """``{name: value text}`` of the frame's value table, as the page shows it."""
    return {html.unescape(name): html.unescape(value) for name, value in
            re.findall(r"<td class='tl-scan-value' data-name='([^']*)'[^>]*>(.*?)</td>", frame_html)}


def body_texts(svg, frame):
    """The value lines of the body's drawing that frame ``frame`` shows (its style shows class ``f<frame>``)."""
    return [html.unescape(text) for classes, text in re.findall(r'<text class="tl-v ([^"]*)"[^>]*>(.*?)</text>', svg)
            if f"f{frame}" in classes.split()]


def test_power_frames_show_a_to_the_k(power):
    assert power.slider.max == 4 and power.frames == [0, 1, 2, 3, 4]
    for k in [0, 2, 4, 1]:  # out of order: each frame stands alone
        power.go(k)
        shown = table(power.shown)
        assert f"iteration <span class='tl-iteration'>{k}</span> of 4" in power.shown
        assert shown["state 0[t-1]"] == describe_value(A_VALUE ** k)
        assert shown["A_copy"] == describe_value(A_VALUE)
        assert shown["state 0"] == describe_value(A_VALUE ** (k + 1))
        np.testing.assert_array_equal(power.step_values(k)["state 0"], A_VALUE ** (k + 1))
        np.testing.assert_array_equal(power.trajectory("state 0", k), [A_VALUE ** (t + 1) for t in range(k + 1)])
    np.testing.assert_array_equal(power.result, A_VALUE ** 5)


def test_power_body_drawing_has_one_value_line_per_node_per_frame(power):
    svg = power.stepper.base.value
    assert svg.count("<svg") == 1, "the body is laid out once, not per frame"
    for k in range(5):
        texts = body_texts(svg, k)
        assert len(texts) == 4  # the previous state, A, the product, the new state
        assert f"= {describe_value(A_VALUE ** k)}" in texts
        product = f"= {describe_value(A_VALUE ** (k + 1))}"
        assert texts.count(product) == (3 if k == 0 else 2)  # the product and the new state (and A when k = 0)
    # the non-sequence is the same every iteration: one text, shown by every frame
    a_text = f"= {describe_value(A_VALUE)}"
    assert len(re.findall(rf'<text class="tl-v f0 f1 f2 f3 f4"[^>]*>{re.escape(html.escape(a_text))}</text>', svg)) == 1


def test_rnn_values_equal_a_numpy_loop(rnn):
    states = numpy_rnn()
    assert rnn.n_iterations == len(X)
    for k in range(len(X)):
        values = rnn.step_values(k)
        np.testing.assert_allclose(values["x[t]"], X[k])
        np.testing.assert_allclose(values["h0[t-1]"], states[k - 1] if k else H0)
        np.testing.assert_allclose(values["W_copy"], W)
        np.testing.assert_allclose(values["h0[t]"], states[k], rtol=1e-12)
        rnn.go(k)
        assert table(rnn.shown)["h0[t]"] == describe_value(rnn.step_values(k)["h0[t]"])
        assert f"= {describe_value(rnn.step_values(k)['h0[t]'])}" in body_texts(rnn.stepper.base.value, k)
    np.testing.assert_allclose(rnn.trajectories["h0[t]"], states, rtol=1e-12)


def test_rnn_intermediates_are_the_iterations_own(rnn):
    """Every node of the body shows what it computed at that iteration (here dot(W, h) before the tanh)."""
    states = numpy_rnn()
    dot_node = next(node for node in rnn.body.apply_nodes if "dot" in str(node.op).lower())
    for k in (0, 3):
        expected = W @ (states[k - 1] if k else H0)
        np.testing.assert_allclose(rnn.values[k][dot_node.outputs[0]], expected, rtol=1e-12)
        assert f"= {describe_value(expected)}" in body_texts(rnn.stepper.base.value, k)


def test_trajectory_plot_data_equal_the_states(rnn):
    states = numpy_rnn()
    (ax,) = rnn.figure.axes[:1]
    assert len(ax.lines) == 3  # one line per component of the 3-unit state
    for i, line in enumerate(ax.lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(X)))
        np.testing.assert_allclose(line.get_ydata(), states[:, i], rtol=1e-12)


def test_each_frame_masks_the_iterations_still_to_come(rnn):
    lefts, nows = [], []
    for k in range(len(X)):
        rnn.go(k)
        lefts.append(float(re.search(r"\.tl-mask \{ left: ([\d.]+)%", rnn.shown).group(1)))
        nows.append(float(re.search(r"\.tl-now \{ left: ([\d.]+)%", rnn.shown).group(1)))
        np.testing.assert_allclose(rnn.trajectory("h0[t]", k), numpy_rnn()[:k + 1], rtol=1e-12)
    assert nows == sorted(nows) and lefts == sorted(lefts) and len(set(lefts)) == len(X)
    assert all(now < left for now, left in zip(nows, lefts))  # iteration k itself stays visible
    assert "<img src='data:image/png;base64," in rnn.stepper.base.value


def test_widget_state_stays_small():
    """Frames hold a caption and a style; the body and the plot are sent once."""
    f = rnn_function()
    x = RNG.normal(size=(60, 3))
    stepper = scan_stepper(f, x, H0, W)
    assert stepper.slider.max == 59
    frame_sizes = [len(frame) for frame in stepper.stepper.frames]
    assert max(frame_sizes) < 2_500
    assert stepper.state_size() < 250_000


def test_long_loops_show_evenly_spaced_iterations():
    stepper = ScanStepper(rnn_function(), (RNG.normal(size=(30, 3)), H0, W), max_frames=5)
    assert stepper.frames[0] == 0 and stepper.frames[-1] == 29 and len(stepper.frames) == 5
    stepper.go(4)
    assert "iteration <span class='tl-iteration'>29</span> of 29" in stepper.shown
    np.testing.assert_allclose(stepper.trajectory("h0[t]", 4), stepper.trajectories["h0[t]"])


def test_nested_scan_steps_the_outer_loop():
    matrix = T.dmatrix("M")

    def row_sum(row):
        partial, _ = theanolab.scan(lambda a, acc: acc + a, sequences=row, outputs_info=T.zeros_like(row[0]),
                                    name="inner")
        return partial[-1]

    sums, _ = theanolab.scan(row_sum, sequences=matrix, name="outer")
    f = theanolab.function([matrix], sums)
    value = np.arange(6.0).reshape(3, 2)
    stepper = scan_stepper(f, value, scan="outer")
    for k in range(3):
        stepper.go(k)
        assert table(stepper.shown)["M[t]"] == describe_value(value[k])
        np.testing.assert_allclose(stepper.step_values(k)["output 0"], value[k].sum())
        # the inner scan is one node of the body, showing its partial sums at this iteration
        assert f"= {describe_value(np.cumsum(value[k]))}" in body_texts(stepper.stepper.base.value, k)
    np.testing.assert_allclose(stepper.trajectories["output 0"], value.sum(axis=1))


def test_several_scans_are_picked_by_name_or_position():
    x = T.dvector("x")
    doubled, _ = theanolab.scan(lambda v: 2 * v, sequences=x, name="double")
    squared, _ = theanolab.scan(lambda v: v * v, sequences=x, name="square")
    f = theanolab.function([x], [doubled, squared])
    by_name = scan_stepper(f, np.array([1.0, 2.0, 3.0]), scan="square")
    np.testing.assert_allclose(by_name.trajectories["output 0"], [1.0, 4.0, 9.0])
    with pytest.raises(KeyError, match="no scan named 'cube'"):
        scan_stepper(f, np.array([1.0]), scan="cube")


def test_a_named_per_step_output_is_shown_and_plotted_by_its_name():
    x = T.dvector("x")

    def step(v):
        y_t = v * v
        y_t.name = "y_t"
        return y_t

    squares, _ = theanolab.scan(step, sequences=x)
    stepper = scan_stepper(theanolab.function([x], squares), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(stepper.trajectories["y_t"], [1.0, 4.0, 9.0])
    stepper.go(1)
    assert stepper.step_values(1)["y_t"] == 4.0 and table(stepper.shown)["y_t"] == describe_value(np.float64(4.0))
    assert "output 0" not in stepper.trajectories


def test_clear_errors():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="contains no scan"):
        scan_stepper(theanolab.function([x], 2 * x), np.ones(2))
    with pytest.raises(ValueError, match="recorded no iteration"):
        scan_stepper(power_function(), A_VALUE, 0)
