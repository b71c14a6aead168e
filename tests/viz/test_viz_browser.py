"""A real browser: JupyterLab on loopback, Debian's chromium driven by Playwright, a notebook run cell by cell.

It checks what a student sees: the graph with values renders, pressing Play and
moving the rewrite stepper change the drawing in the page (no kernel round
trip: the frames are linked in the browser) and name the rewrite, Play and the
slider of the scan stepper show iteration k's values, the plot and the profile
render, and an error inside a compiled function shows its node.  It saves a
screenshot of each view into docs/screenshots/
(shown by docs/teaching.md).  It starts its own server with a temporary root,
configuration and token, and shuts the server and its kernels down.

It runs once per suite: on the reference backend's pass (``linker=py``) it is
skipped, since the browser does not care which backend computed the numbers.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("jupyterlab")
sync_api = pytest.importorskip("playwright.sync_api")

from theanolab.config import config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.skipif(config.linker == "py", reason="the browser test runs once, on the default backend's pass"),
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


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyter(tmp_path):
    """A JupyterLab server on loopback, rooted in a temporary folder; ``(url, token, root)``."""
    root, config_dir = tmp_path / "root", tmp_path / "config"
    (config_dir / "labconfig").mkdir(parents=True)
    root.mkdir()
    # no network here: the news feed and the update check would only wait for it
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True}}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--ServerApp.port_retries=0",
         "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else [])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + server.stdout.read().decode(errors="replace"))
                time.sleep(0.5)
        yield url, token, root
    finally:
        try:  # the server shuts its kernels down, then exits
            request = urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                             headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(request, timeout=10)
            server.wait(timeout=30)
        except Exception:
            server.kill()
            server.wait(timeout=30)


def visible_nodes(page):
    """Names of the union drawing's nodes that the current frame shows (computed style, as rendered)."""
    return page.eval_on_selector_all(
        ".tl-union g.node", "nodes => nodes.filter(n => getComputedStyle(n).display !== 'none')"
                            ".map(n => n.querySelector('text').textContent)")


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


def run_all_cells(page, attempts=3):
    """Run every cell and wait for the last one's output (the error view).

    The command's promise outlives the run, so it is started and the page is
    watched.  A run issued while the kernel is still settling after its first
    connection can be dropped by JupyterLab: when no cell has started after a
    while, the run is issued again (running these cells twice is harmless).
    """
    for attempt in range(attempts):
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_selector(".tl-error", timeout=90_000)
            return
        except sync_api.TimeoutError:
            started = page.eval_on_selector_all(
                ".jp-InputArea-prompt", "prompts => prompts.filter(p => /[0-9*]/.test(p.textContent)).length")
            if started and attempt == attempts - 1:
                raise
    outputs = page.eval_on_selector_all(".jp-OutputArea-output", "nodes => nodes.map(n => n.textContent.slice(0, 300))")
    raise AssertionError(f"the notebook's last cell never showed its error view; outputs: {outputs}")


def test_notebook_in_jupyterlab(jupyter):
    url, token, root = jupyter
    (root / "teaching.ipynb").write_text(json.dumps(notebook(CELLS)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(f"{url}/lab/tree/teaching.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
            # run only once the kernel is up: a run issued while it starts is dropped
            page.wait_for_function("() => { const w = window.jupyterapp.shell.currentWidget;"
                                   " const k = w && w.sessionContext && w.sessionContext.session"
                                   " && w.sessionContext.session.kernel;"
                                   " return k && k.connectionStatus === 'connected' && k.status === 'idle'; }")
            run_all_cells(page)

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
            assert "before any rewrite" in title.inner_text()
            before = visible_nodes(page)
            stepper.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => !document.querySelector('.tl-step-title').textContent"
                                   ".includes('before any rewrite')")
            assert title.inner_text().startswith("step 1:")
            rule = stepper.locator(".tl-rule-name").first.inner_text()
            assert rule and rule in title.inner_text()
            page.keyboard.press("End")  # the last rewrite
            page.wait_for_function("() => document.querySelector('.tl-step-title').textContent.startsWith('step ')"
                                   " && !document.querySelector('.tl-step-title').textContent.startsWith('step 1:')")
            after = visible_nodes(page)
            assert after != before, "the drawing did not change between the first and the last step"
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
        finally:
            browser.close()
