"""Every exercise of the course: its reference answer passes, its typical wrong answers get a hint.

They run once per suite, in the reference pass of scripts/test.sh (the notebooks, which call the
same checks, run in the C pass).
"""

import pytest

from helpers import once_per_suite
from theanolab.course import check, exercises, solution

pytestmark = once_per_suite("reference")

EXERCISES = exercises()
WRONG = [(key, index) for key, ex in EXERCISES.items() for index in range(len(ex.wrong_answers))]


def test_every_lesson_has_exercises():
    assert sorted({ex.lesson for ex in EXERCISES.values()}) == list(range(1, 11))


@pytest.mark.parametrize("key", EXERCISES)
def test_reference_answer_passes(key):
    result = check(key, EXERCISES[key].reference())
    assert result.passed, result.text()


@pytest.mark.parametrize("key", EXERCISES)
def test_every_exercise_has_a_wrong_answer_to_refuse(key):
    assert EXERCISES[key].wrong_answers, f"exercise {key} has no wrong answer to test its hints with"


@pytest.mark.parametrize("key,index", WRONG)
def test_wrong_answer_gets_a_hint(key, index):
    result = check(key, EXERCISES[key].wrong_answers[index]())
    assert not result.passed
    assert result.hints and all(len(hint) > 20 for hint in result.hints), result.text()


@pytest.mark.parametrize("key", EXERCISES)
def test_unanswered_exercise_gets_a_reminder_not_an_error(key):
    for placeholder in (None, ...):
        result = check(key, placeholder)
        assert not result and "no answer yet" in result.hints[0]


@pytest.mark.parametrize("key", EXERCISES)
def test_solution_shows_the_reference_source(key):
    shown = solution(key)
    assert EXERCISES[key].reference.__name__ in shown.source()
    assert "<details>" in shown._repr_html_()


def test_unknown_exercise_names_the_known_ones():
    with pytest.raises(KeyError, match="there is no exercise '99.1'; the exercises are 1.1"):
        check("99.1", 0)


def test_html_verdict_escapes_the_hint():
    result = check("1.1", None)
    assert "not yet" in result._repr_html_() and "<li>" in result._repr_html_()
