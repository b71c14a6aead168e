"""Sphinx configuration of the theanolab site: Markdown pages (MyST), the course notebooks, the API from docstrings.

The source folder is the repository's root (``python -m sphinx -c docs . docs/_build``), limited to
``docs/`` and ``notebooks/``: the course is rendered from the very notebooks students open, and
docs/course.md links into them by relative paths (``../notebooks/01_basics.ipynb#what-is-a-tensor``)
that work on a code host as well as on the site.  (A ``docs/notebooks`` symlink would not do:
Sphinx resolves links through symlinks, outside its source folder.)

Built by ``tests/docs/test_docs_build.py`` with ``-W`` (every warning is an
error), so a broken link, a missing heading anchor or a malformed docstring
fails the suite.  The notebooks are rendered as committed (no outputs) and are
not executed here: ``tests/course`` runs them.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import theanolab  # noqa: E402

project = "theanolab"
author = "the theanolab authors"
release = version = theanolab.__version__
copyright = "2026, the theanolab authors"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "docs/index"
include_patterns = ["docs/**", "notebooks/*.ipynb"]
exclude_patterns = ["docs/_build/**", "docs/_root/**", "**/.ipynb_checkpoints"]

# Links like [lesson 1](notebooks/01_basics.ipynb#what-is-a-tensor) are checked against these anchors.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
nb_execution_mode = "off"

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = False

html_theme = "furo"
# The site's pages live under docs/ (the source folder is the repository): index.html at the top forwards there.
html_extra_path = ["_root"]
html_title = f"theanolab {version}"
