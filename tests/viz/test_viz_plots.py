"""Plots and the live training view: their data are the compiled function's values."""

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

import theanolab
import theanolab.tensor as T
from theanolab.viz import TrainingMonitor, plot, plot2d
from theanolab.viz.training import progress_line


@pytest.mark.cpu_only
def test_logistic_and_its_derivative_in_one_call():
    x = T.dscalar("x")
    result = plot(1 / (1 + T.exp(-x)), x, range=(-6, 6), points=61)
    s = 1 / (1 + np.exp(-result.x))
    assert np.allclose(result.y, s) and np.allclose(result.dy, s * (1 - s))
    assert result.check_passed and result.max_error < 1e-6
    assert result.gradient_formula == "(sigmoid(x) * sigmoid((-x)))"  # s * (1 - s)
    line_y, line_dy, marks = result.figure.axes[0].get_lines()[:3]
    assert np.array_equal(line_y.get_ydata(), result.y) and np.array_equal(line_dy.get_ydata(), result.dy)
    assert np.allclose(marks.get_ydata(), result.finite_difference[::3])
    bundle = result._repr_mimebundle_()
    assert "data:image/png;base64," in bundle["text/html"] and "<svg" in bundle["text/html"]
    assert "finite differences agrees" in bundle["text/html"]


@pytest.mark.parametrize("make, numpy_f, numpy_df", [
    (lambda x: x ** 3 - 2 * x, lambda x: x ** 3 - 2 * x, lambda x: 3 * x ** 2 - 2),
    (lambda x: T.tanh(x) * T.exp(-x ** 2), lambda x: np.tanh(x) * np.exp(-x ** 2),
     lambda x: (1 - np.tanh(x) ** 2) * np.exp(-x ** 2) - 2 * x * np.tanh(x) * np.exp(-x ** 2)),
])
def test_plot_values_equal_numpy(make, numpy_f, numpy_df):
    x = T.dscalar("x")
    result = plot(make(x), x, range=(-2, 2), points=21)
    assert np.allclose(result.y, numpy_f(result.x)) and np.allclose(result.dy, numpy_df(result.x))
    assert result.check_passed


def test_a_wrong_gradient_fails_the_check():
    x = T.dscalar("x")
    result = plot(x ** 2, x, points=11)
    result.finite_difference = result.finite_difference + 1  # as if the gradient were wrong
    result.__init__(result.x, result.y, result.dy, result.finite_difference, result.gradient, result.figure)
    assert not result.check_passed and "MISMATCH" in repr(result)


def test_plot_rejects_what_it_cannot_draw():
    x = T.dscalar("x")
    v = T.dvector("v")
    with pytest.raises(TypeError, match="wrt must be a scalar input"):
        plot(x * 2, x * 3)
    with pytest.raises(TypeError, match="expr must be a scalar expression"):
        plot(v * x, x)
    with pytest.raises(ValueError, match="low < high"):
        plot(x * 2, x, range=(1, 1))


def test_contours_and_gradient_field():
    x, y = T.dscalars("x", "y")
    result = plot2d(x ** 2 + 3 * y ** 2 + x * y, (x, y), points=11)
    X, Y = np.meshgrid(result.x, result.y)
    assert np.allclose(result.z, X ** 2 + 3 * Y ** 2 + X * Y)
    assert np.allclose(result.gx, 2 * X + Y) and np.allclose(result.gy, 6 * Y + X)
    assert result.figure.axes[0].collections  # contours and arrows were drawn
    with pytest.raises(ValueError, match="two scalar inputs"):
        plot2d(x, (x,))


def test_training_view_in_a_terminal():
    out = io.StringIO()
    monitor = TrainingMonitor(steps=10, every=5, notebook=False, file=out)
    for step in range(1, 11):
        monitor.update(step, cost=1.0 / step, accuracy=step / 10)
    monitor.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "[###############...............]  50%  step 5/10  cost 0.2  accuracy 0.5" in text
    assert monitor.history["step"] == list(range(1, 11))
    assert monitor.history["cost"] == [1.0 / s for s in range(1, 11)]


def test_training_view_in_a_notebook_updates_in_place(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monitor = TrainingMonitor(steps=4, every=2, notebook=True)
    assert shown == [monitor.widget]
    monitor.update(1, cost=3.0)
    assert monitor.bar.value == 0 and bytes(monitor.chart.value) == b""
    monitor.update(2, cost=2.0)
    first_chart = bytes(monitor.chart.value)
    assert monitor.bar.value == 2 and first_chart.startswith(b"\x89PNG") and "cost 2" in monitor.label.value
    monitor.update(4, cost=1.0)
    assert monitor.bar.value == 4 and bytes(monitor.chart.value) != first_chart
    monitor.close()
    assert monitor.bar.bar_style == "success" and len(shown) == 1


def test_training_view_on_the_tutorial_loop():
    from theanolab.demo import build_model

    rng = np.random.default_rng(0)
    train, predict = build_model(8, rng)
    data = rng.standard_normal((30, 8)), rng.integers(0, 2, 30).astype(float)
    out = io.StringIO()
    with TrainingMonitor(steps=20, every=10, notebook=False, file=out) as monitor:
        for step in range(1, 21):
            _, cost = train(*data)
            monitor.update(step, cost=cost, accuracy=(predict(data[0]) == data[1]).mean())
    assert monitor.history["cost"][-1] < monitor.history["cost"][0]
    assert "step 20/20" in out.getvalue()


def test_progress_line_and_bad_steps():
    assert progress_line(0, 4, {}, width=4) == "[....]   0%  step 0/4  "
    with pytest.raises(ValueError, match="at least 1"):
        TrainingMonitor(steps=0, notebook=False)
