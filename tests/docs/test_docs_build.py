"""The documentation site builds with Sphinx, every warning an error.

A broken link between pages, a link to a heading that does not exist (the
course map in docs/course.md links into the notebooks' sections), a page left
out of every table of contents, or a docstring that does not parse fails this
test.  It runs once per suite, in the reference pass of scripts/test.sh.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import once_per_suite

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    once_per_suite("reference"),
    pytest.mark.timeout(600),
]


def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         "-c", str(ROOT / "docs"), str(ROOT), str(tmp_path / "html")],
        capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout}\n{build.stderr}"
    assert "docs/index.html" in (tmp_path / "html" / "index.html").read_text()
    for page in ["docs/index", "docs/install", "docs/course", "docs/coming-from-theano", "docs/api/index",
                 "notebooks/05_graphs_and_optimization"]:
        assert (tmp_path / "html" / f"{page}.html").is_file(), f"the site has no {page}.html"
