"""The course notebooks: committed without outputs, shaped as lessons, and run top to bottom in a real kernel.

Each notebook runs in a fresh IPython kernel (nbclient) with
``THEANOLAB_COURSE_SMALL=1``, the CI switch to small problem sizes
(:mod:`theanolab.course.sizes`).  They run once per suite, in the C pass of
scripts/test.sh, so the course is seen running on the backend students get.
"""

import json
import re
from pathlib import Path

import pytest

from helpers import once_per_suite
from theanolab.course import exercises

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
LESSONS = {int(path.name[:2]): path for path in PATHS}


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_ten_lessons_in_order():
    assert [path.name[:3] for path in PATHS] == [f"{n:02d}_" for n in range(1, 11)]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: {source(cell)[:80]!r}"


@pytest.mark.parametrize("number", sorted(LESSONS), ids=lambda n: f"lesson{n:02d}")
def test_lesson_has_goals_and_checks_each_of_its_exercises(number):
    path = LESSONS[number]
    first = cells(path)[0]
    assert first["cell_type"] == "markdown" and source(first).startswith(f"# Lesson {number}:")
    assert "## Learning goals" in source(first)
    code = "\n".join(source(cell) for cell in cells(path) if cell["cell_type"] == "code")
    checked = set(re.findall(r'check\("(\d+\.\d+)"', code))
    expected = {key for key, ex in exercises().items() if ex.lesson == number}
    assert expected and checked == expected, f"{path.name} checks {sorted(checked)}; lesson {number} has {sorted(expected)}"


@once_per_suite("c")
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("THEANOLAB_COURSE_SMALL", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} stopped with an error:\n{error}", pytrace=False)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr" or "Traceback" not in output.get("text", ""), output["text"]
