"""docs/course.md maps every question of the student's study notes (seed 002) to a lesson section that exists.

The questions are quoted as the notes write them.  Each must appear in a row
of course.md's table whose link points into a notebook, at the anchor of a
heading that notebook has (slugged as MyST slugs it for the site).
"""

import json
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = (ROOT / "docs" / "course.md").read_text()

# (the notes' words, the notebook that must answer them)
QUESTIONS = [
    ("tensor 张量?", "01_basics"),
    ("numpy.allclose?", "01_basics"),
    ("e 是什么?", "02_more_examples"),
    ("T.dmatrix 一定是二维的?", "01_basics"),
    ("不懂为什么需要 givens 这个东西?", "02_more_examples"),
    ("介个是神马?", "01_basics"),
    ("on_unused_input='warn'", "02_more_examples"),
    ("random stream 的 state 是可以保存重放的", "03_random_numbers"),
    ("步骤看不懂", "07_logistic_regression"),
    ("不太懂 bias term", "07_logistic_regression"),
]
LINK = re.compile(r"\]\(\.\./notebooks/([0-9a-z_]+)\.ipynb#([^)]+)\)")


def slug(heading):
    """MyST's heading slug: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(notebook):
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,3} ", line)}


@pytest.mark.parametrize("words, notebook", QUESTIONS, ids=[notebook for _, notebook in QUESTIONS])
def test_question_is_mapped_to_a_section_of_its_lesson(words, notebook):
    rows = [line for line in COURSE.splitlines() if line.startswith("|") and words in line]
    assert rows, f"docs/course.md has no row quoting {words!r}"
    links = LINK.findall(rows[0])
    assert links and links[0][0] == notebook, f"{words!r} should link into {notebook}.ipynb: {rows[0]}"
    assert links[0][1] in headings(notebook), f"{notebook}.ipynb has no heading with the anchor #{links[0][1]}"


def test_slug_follows_myst():
    assert slug("What does numpy.allclose check?") == "what-does-numpyallclose-check"
    assert slug("Saving and replaying a stream's state") == "saving-and-replaying-a-streams-state"
    assert slug("Why on_unused_input?") == "why-on_unused_input"
