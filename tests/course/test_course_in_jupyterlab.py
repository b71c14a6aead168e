"""The README's main command opens JupyterLab on the course; lesson 5 works in a real browser.

``./scripts/demo.sh`` is started as a student starts it (with the test's port
and token appended, and this suite's environment as ``THEANOLAB_VENV``), and
the server it starts must list the ten lessons.  Then lesson 5 is opened in
Debian's chromium from a copy of notebooks/ (so nothing is written into the
checkout), all its cells run in the kernel, and its rewrite stepper is stepped
through with the keyboard, rewrite by rewrite.  Both run once per suite, in the
C pass of scripts/test.sh.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupyterlab")

from jupyter_browser import CHROMIUM, api_get, chromium, jupyterlab, open_notebook, run_all_cells, step_through_rewrites  # noqa: E402,E501
from helpers import once_per_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))

pytestmark = [
    once_per_suite("c"),
    pytest.mark.timeout(420),
]


def test_main_command_opens_jupyterlab_on_the_course(tmp_path):
    venv = Path(sys.prefix)
    with jupyterlab(tmp_path, command=["bash", str(ROOT / "scripts" / "demo.sh")],
                    env={"THEANOLAB_VENV": str(venv)}) as (url, token):
        listing = api_get(url, token, "/api/contents")
        served = sorted(item["name"] for item in listing["content"] if item["type"] == "notebook")
        assert served == LESSONS and len(served) == 10
        lesson = api_get(url, token, f"/api/contents/{LESSONS[0]}")
        assert lesson["content"]["cells"][0]["source"].startswith("# Lesson 1:")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_lesson_5_steps_through_rewrites_in_the_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    root = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks", root)
    lesson = next(name for name in LESSONS if name.startswith("05_"))
    with jupyterlab(tmp_path, root=root, env={"THEANOLAB_COURSE_SMALL": "1"}) as (url, token), \
            sync_api.sync_playwright() as playwright, chromium(playwright) as browser:
        page = open_notebook(browser, url, token, lesson)
        run_all_cells(page, timeout_ms=240_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [text for text in errors.all_inner_texts() if "Traceback" in text or "Error" in text]
        assert not tracebacks, tracebacks
        stepper = page.locator(".tl-stepper").first
        stepper.scroll_into_view_if_needed()
        before, after = step_through_rewrites(page, stepper)
        assert len(after) < len(before) or set(after) != set(before)
