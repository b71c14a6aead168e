"""Every Python example in docs/ runs, and shows what the page says it shows.

A page's ```python blocks run in order in one namespace, as a reader would
type them into one session.  A block written as a doctest (``>>>`` prompts)
is checked by doctest, its printed output compared with the page (with
NORMALIZE_WHITESPACE and ELLIPSIS); any other block is executed and must not
raise.  An ```ipython block (one with ``%magics``, typed into Jupyter) runs
in a real IPython shell sharing the page's namespace.  Shell blocks (```bash)
are commands to type, not examples, and are not run.  A page whose examples need flags says so in an HTML comment that
the rendered site hides, e.g. ``<!-- doc-flags: device=cuda,gpu_simulator=True -->``.
The pages run once per suite, in the reference pass of scripts/test.sh.
"""

import doctest
import re
from pathlib import Path

import pytest

from helpers import once_per_suite
from theanolab.config import change_flags

pytestmark = once_per_suite("reference")

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
BLOCK = re.compile(r"^```(python|pycon|ipython)[^\n]*\n(.*?)^```", re.S | re.M)
FLAGS = re.compile(r"<!--\s*doc-flags:\s*(\S+)\s*-->")
PAGES_WITH_EXAMPLES = [page for page in PAGES if BLOCK.search(page.read_text())]


def flags_of(text):
    found = FLAGS.search(text)
    if not found:
        return {}
    pairs = (item.split("=", 1) for item in found.group(1).split(","))
    return {name: {"True": True, "False": False}.get(value, value) for name, value in pairs}


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def run_in_ipython(code, namespace, where):
    shell_module = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_module.InteractiveShell.instance()
    shell.user_ns.update(namespace)
    result = shell.run_cell(code, silent=True)
    namespace.update({name: value for name, value in shell.user_ns.items() if not name.startswith("_")})
    if not result.success:
        raise AssertionError(f"{where}: the IPython block failed") from (result.error_in_exec or result.error_before_exec)


def run_page(page):
    text = page.read_text()
    namespace = {"__name__": f"docs.{page.stem}"}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    parser = doctest.DocTestParser()
    for match in BLOCK.finditer(text):
        language, code, line = match.group(1), match.group(2), line_of(text, match.start(2))
        where = f"{page.relative_to(DOCS.parent)}:{line}"
        if language == "ipython":
            run_in_ipython(code, namespace, where)
        elif code.lstrip().startswith(">>>"):
            test = parser.get_doctest(code, namespace, where, str(page), line - 1)
            failures = []
            runner.run(test, out=failures.append, clear_globs=False)
            namespace.update(test.globs)  # DocTest ran on a copy of the namespace: keep what it defined
            assert not failures, "".join(failures)
        else:
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 (the docs' own examples)


def test_every_page_with_python_is_found():
    assert PAGES_WITH_EXAMPLES, "no docs page has a ```python block"


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page):
    with change_flags(**flags_of(page.read_text())):
        run_page(page)
