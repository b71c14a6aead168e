"""A real JupyterLab and a real browser for the UI tests (tests/viz, tests/course).

``jupyterlab(tmp_path, command)`` starts a server on loopback with a temporary
configuration, token and runtime folder (no network: the news feed is off) and
shuts it and its kernels down afterwards.  ``chromium(playwright)`` launches
Debian's chromium with the flags the sandbox needs; Playwright never downloads
a browser here.  ``open_notebook`` and ``run_all_cells`` drive a notebook.
"""

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

__all__ = ["CHROMIUM", "chromium", "jupyterlab", "open_notebook", "run_all_cells", "api_get"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_get(url, token, path):
    with urllib.request.urlopen(f"{url}{path}?token={token}", timeout=10) as reply:
        return json.loads(reply.read())


@contextlib.contextmanager
def jupyterlab(tmp_path, command=None, root=None, env=None):
    """Yield ``(url, token)`` of a JupyterLab started by ``command`` (default: this Python's, rooted at ``root``)."""
    config_dir = tmp_path / "config"
    (config_dir / "labconfig").mkdir(parents=True)
    # no network here: the news feed and the update check would only wait for it
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True}}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, **(env or {}), "JUPYTER_CONFIG_DIR": str(config_dir),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    if command is None:
        command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
                   *(["--allow-root"] if os.geteuid() == 0 else [])]
    server = subprocess.Popen(
        [*command, "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         "--ServerApp.port_retries=0", "--LabApp.extension_manager=readonly"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root or tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a first run of scripts/demo.sh may install packages first
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError("JupyterLab did not start:\n" + server.stdout.read().decode(errors="replace"))
                time.sleep(0.5)
        yield url, token
    finally:
        try:  # the server shuts its kernels down, then exits
            request = urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                             headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(request, timeout=10)
            server.wait(timeout=30)
        except Exception:
            server.kill()
            server.wait(timeout=30)


@contextlib.contextmanager
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


def open_notebook(browser, url, token, path):
    """A page showing notebook ``path`` whose kernel is connected and idle (a run issued earlier is dropped)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)
    page.goto(f"{url}/lab/tree/{path}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
    page.wait_for_function("() => { const w = window.jupyterapp.shell.currentWidget;"
                           " const k = w && w.sessionContext && w.sessionContext.session"
                           " && w.sessionContext.session.kernel;"
                           " return k && k.connectionStatus === 'connected' && k.status === 'idle'; }")
    return page


ALL_CELLS_RAN = ("() => { const nb = window.jupyterapp.shell.currentWidget;"
                 " const code = nb.content.widgets.filter(c => c.model.type === 'code');"
                 " return code.length > 0 && code.every(c => c.model.executionCount !== null)"
                 " && nb.sessionContext.session.kernel.status === 'idle'; }")


def run_all_cells(page, finished=ALL_CELLS_RAN, timeout_ms=90_000, attempts=3):
    """Run every cell and wait until the JavaScript predicate ``finished`` holds (default: every cell has run).

    The command's promise outlives the run, so it is started and the page is
    watched.  A run issued while the kernel is still settling after its first
    connection can be dropped by JupyterLab: when no cell has started after a
    while, the run is issued again (running the cells twice is harmless).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    for attempt in range(attempts):
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(finished, timeout=timeout_ms)
            return
        except PlaywrightTimeout:
            started = page.eval_on_selector_all(
                ".jp-InputArea-prompt", "prompts => prompts.filter(p => /[0-9*]/.test(p.textContent)).length")
            if started and attempt == attempts - 1:
                raise
    outputs = page.eval_on_selector_all(".jp-OutputArea-output", "nodes => nodes.map(n => n.textContent.slice(0, 300))")
    raise AssertionError(f"the notebook never got to {finished!r}; outputs: {outputs}")


def visible_nodes(scope):
    """Names of the rewrite stepper's nodes that the current frame shows (computed style, as rendered)."""
    return scope.locator(".tl-union g.node").evaluate_all(
        "nodes => nodes.filter(n => getComputedStyle(n).display !== 'none')"
        ".map(n => n.querySelector('text').textContent)")


def step_through_rewrites(page, stepper):
    """Step a rewrite stepper with its slider's keys: the graph as written, rewrite 1 by name, then the last one.

    Returns the node names shown before any rewrite and after the last; the
    frames are linked in the browser, so no kernel round trip is involved.
    """
    title = stepper.locator(".tl-step-title")
    handle = stepper.element_handle()  # the title element is replaced by each frame; the stepper stays
    # textContent, not innerText: a cell JupyterLab has not laid out yet has no innerText; and the widget
    # may still be rendering when the kernel is done, so the title may not exist yet
    title_text = "(s.querySelector('.tl-step-title') || {textContent: ''}).textContent"
    page.wait_for_function(f"s => {title_text}.includes('before any rewrite')", arg=handle, timeout=30_000)
    before = visible_nodes(stepper)
    stepper.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"s => !{title_text}.includes('before any rewrite')", arg=handle)
    assert title.text_content().startswith("step 1:")
    rule = stepper.locator(".tl-rule-name").first.text_content()
    assert rule and rule in title.text_content()
    page.keyboard.press("End")  # the last rewrite
    page.wait_for_function(f"s => {title_text}.startsWith('step ') && !{title_text}.startsWith('step 1:')",
                           arg=handle)
    after = visible_nodes(stepper)
    assert after != before, "the drawing did not change between the first and the last step"
    return before, after
