"""A real browser: JupyterLab on loopback, Debian's chromium driven by Playwright, a notebook run cell by cell.

It checks what a student sees: the graph with values renders, pressing Play and
moving the rewrite stepper change the drawing in the page (no kernel round
trip: the frames are linked in the browser) and name the rewrite, Play and the
slider of the scan stepper show iteration k's values, the plot and the profile
render, and an error inside a compiled function shows its node.  It saves a
screenshot of each view into docs/screenshots/
(shown by docs/teaching.md).  It starts its own server with a temporary root,
configuration and token, and shuts the server and its kernels down.

It runs once per suite, in the C pass of scripts/test.sh: the browser does not
care which backend computed the numbers.
"""

import json
import os
import time
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("jupyterlab")
sync_api = pytest.importorskip("playwright.sync_api")

from jupyter_browser import (  # noqa: E402
    CHROMIUM, chromium, jupyterlab, open_notebook, run_all_cells, step_through_rewrites)
from helpers import once_per_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    once_per_suite("c"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(240),
]

CELLS = [
    "%load_ext theanolab\nimport numpy as np\nimport theanolab as theano\nimport theanolab.tensor as T\n"
    "import theanolab.viz as viz",
    "x = T.dvector('x')\nw = theano.shared(np.array([0.5, -1.0, 2.0]), name='w')\n"
    "cost = T.log(1 + T.exp(x * w)).sum()\n"
    "viz.graph(cost, values={'x': np.array([1.0, 2.0, 3.0])})",
    "s = T.dscalar('s')\nlogistic = theano.function([s], 1 / (1 + s) + T.log(1 + s))\n"
    "stepper = viz.rewrite_stepper(logistic, fold=(), interval=300)\nstepper",
    "viz.plot(1 / (1 + T.exp(-s)), s)",
    "k = T.iscalar('k')\nA = T.dvector('A')\nresult, updates = theano.scan(lambda prior, A: prior * A, "
    "outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)\n"
    "power = theano.function([A, k], result[-1], updates=updates)\n"
    "viz.scan_stepper(power, np.array([1.0, 2.0, 3.0]), 5, interval=250)",
    "profiled = theano.function([x], T.exp(x).sum() * T.tanh(x).mean(), profile=True)\n"
    "for _ in range(20):\n    profiled(np.random.rand(10000))\nviz.profile_view(profiled)",
    "i = T.lscalar('i')\npick = theano.function([x, i], x[i] * 2)\npick(np.ones(3), 7)",  # fails: last
]


def notebook(cells):
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                       "source": source} for i, source in enumerate(cells)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture
def jupyter(tmp_path):
    """A JupyterLab server rooted in a temporary folder: ``(url, token, root)``."""
    root = tmp_path / "root"
    root.mkdir()
    with jupyterlab(tmp_path, root=root) as (url, token):
        yield url, token, root


def squeeze(text):
    return " ".join(text.split())


def check_scan_stepper(page):
    """Play runs through the iterations; moving the slider to iteration k shows A**k's values."""
    scan = page.locator(".tl-scan-stepper").first
    scan.scroll_into_view_if_needed()
    iteration = scan.locator(".tl-iteration")
    assert iteration.inner_text() == "0"
    scan.locator(".widget-play button").first.click()  # Play: linked in the browser, no kernel round trip
    page.wait_for_function("() => document.querySelector('.tl-scan-stepper .tl-iteration').textContent === '4'")
    scan.locator(".widget-play button").nth(1).click()  # pause, or Play would go on from where the slider goes
    scan.locator(".noUi-handle").first.focus()
    page.keyboard.press("Home")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.tl-scan-stepper .tl-iteration').textContent === '2'")
    values = {squeeze(cell.get_attribute("data-name")): squeeze(cell.inner_text())
              for cell in scan.locator(".tl-scan-value").all()}
    assert values == {"state 0[t-1]": "[1., 4., 9.]", "A_copy": "[1., 2., 3.]", "state 0": "[ 1., 8., 27.]"}
    on_graph = page.eval_on_selector_all(
        ".tl-scan-stepper .tl-scan-body text.tl-v",
        "texts => texts.filter(t => getComputedStyle(t).display !== 'none').map(t => t.textContent)")
    assert sorted(squeeze(text) for text in on_graph) == ["= [ 1., 8., 27.]", "= [ 1., 8., 27.]", "= [1., 2., 3.]",
                                                          "= [1., 4., 9.]"]
    mask = scan.locator(".tl-mask").bounding_box()
    now = scan.locator(".tl-now").bounding_box()
    assert mask["width"] > 0 and now["x"] < mask["x"]  # iterations 3 and 4 are masked, 2 is marked
    scan.screenshot(path=str(SCREENSHOTS / "scan-stepper.png"))


def check_zoom(page, output):
    """The zoom buttons resize the drawing in the browser (CSS only): 200% doubles it, fit brings it back."""
    box = output.locator(".tl-zoom").first
    svg = box.locator(".tl-drawing svg").first
    fitted = svg.bounding_box()
    box.locator("label[data-zoom='200']").click()
    assert box.locator("input.tl-zoom-200").is_checked()
    doubled = svg.bounding_box()
    assert doubled["width"] > 1.5 * fitted["width"] and doubled["height"] > 1.5 * fitted["height"]
    pane = box.locator(".tl-zoom-pane")
    assert pane.evaluate("p => p.scrollHeight > p.clientHeight || p.scrollWidth > p.clientWidth")  # pans
    box.locator("label[data-zoom='50']").click()
    assert svg.bounding_box()["width"] < 0.75 * fitted["width"]
    box.locator("label[data-zoom='fit']").click()
    assert abs(svg.bounding_box()["width"] - fitted["width"]) < 1


def test_notebook_in_jupyterlab(jupyter):
    url, token, root = jupyter
    (root / "teaching.ipynb").write_text(json.dumps(notebook(CELLS)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright, chromium(playwright) as browser:
        page = open_notebook(browser, url, token, "teaching.ipynb")
        run_all_cells(page, "() => !!document.querySelector('.tl-error')")

        # the graph with values: an SVG output whose nodes carry the values
        graph = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output").first
        graph.wait_for()
        graph.scroll_into_view_if_needed()
        graph.screenshot(path=str(SCREENSHOTS / "graph-with-values.png"))
        check_zoom(page, graph)

        # the rewrite stepper: step by the slider's keyboard, then press Play
        stepper = page.locator(".tl-stepper").first
        stepper.scroll_into_view_if_needed()
        title = stepper.locator(".tl-step-title")
        _, after = step_through_rewrites(page, stepper)
        assert any("Composite" in name or "log1p" in name for name in after)
        page.keyboard.press("Home")
        page.wait_for_function("() => document.querySelector('.tl-step-title').textContent"
                               ".includes('before any rewrite')")
        stepper.locator(".widget-play button").first.click()  # Play runs in the browser
        page.wait_for_function("() => document.querySelector('.tl-step-title').textContent.startsWith('step ')")
        # Play keeps going: wait for the moment the log1p frame is shown with its reason, in one check
        page.wait_for_function(
            "() => { const stepper = document.querySelector('.tl-stepper');"
            " const title = stepper.querySelector('.tl-step-title'), why = stepper.querySelector('.tl-why');"
            " return title.textContent.includes('log1p') && why && why.textContent.includes('1 + x rounds to 1'); }",
            polling=20, timeout=60_000)
        stepper.locator(".widget-play button").nth(1).click()  # stop, then show the log1p step
        stepper.locator(".noUi-handle").first.focus()
        page.keyboard.press("Home")
        for _ in range(10):
            if "log1p" in title.inner_text():
                break
            page.keyboard.press("ArrowRight")
            time.sleep(0.2)
        assert "log1p" in title.inner_text()
        stepper.screenshot(path=str(SCREENSHOTS / "rewrite-stepper.png"))

        plot = page.locator(".tl-plot").first
        plot.scroll_into_view_if_needed()
        assert "(sigmoid(s) * sigmoid((-s)))" in plot.locator(".tl-formula").inner_text()
        assert "agrees" in plot.locator(".tl-fd-check").inner_text()
        plot.screenshot(path=str(SCREENSHOTS / "logistic-and-gradient.png"))

        check_scan_stepper(page)

        profile = page.locator(".tl-profile-view").first
        profile.scroll_into_view_if_needed()
        assert profile.locator("table.tl-profile tbody tr").count() >= 3
        profile.screenshot(path=str(SCREENSHOTS / "profile.png"))

        error = page.locator(".tl-error").first
        error.scroll_into_view_if_needed()
        assert "Subtensor{int64}" in error.locator(".tl-failing-node").inner_text()
        assert error.locator(".tl-shape").first.inner_text() == "(3,)"
        assert "pick = theano.function" in error.locator(".tl-built-at").inner_text()
        error.screenshot(path=str(SCREENSHOTS / "error.png"))
