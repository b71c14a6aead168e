"""Exercises and their checks: ``check(key, answer)`` says what is right or gives a hint.

An exercise is registered by its lesson module with :func:`exercise`, which
decorates its checker.  A checker looks at the student's answer and raises
:class:`Hint` at the first thing that is off, with a sentence that says what it
found and what to try; it returns quietly when the answer is right.  Every
exercise carries its reference answer (shown by :func:`solution`) and the
typical wrong answers the tests make sure get a hint.
"""

import html
import importlib
import inspect
import pkgutil
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Hint", "Exercise", "CheckResult", "exercise", "exercises", "check", "solution"]


class Hint(Exception):
    """Raised by a checker: what the answer does wrong, and what to try next."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``key`` like ``"2.3"`` (lesson 2, exercise 3), a title, and its checker.

    ``reference()`` builds the worked answer; each of ``wrong_answers()`` builds
    an answer a student might give, which the checker must refuse with a hint.
    """

    key: str
    title: str
    checker: Callable[[Any], None]
    reference: Callable[[], Any]
    wrong_answers: tuple = field(default=())

    @property
    def lesson(self):
        return int(self.key.split(".")[0])


_REGISTRY = {}


def exercise(key, title, reference, wrong_answers=()):
    """Register the decorated checker as exercise ``key`` (a lesson module's decorator)."""
    def register(checker):
        if key in _REGISTRY:
            raise ValueError(f"exercise {key!r} is registered twice ({_REGISTRY[key].title!r} and {title!r})")
        _REGISTRY[key] = Exercise(key, title, checker, reference, tuple(wrong_answers))
        return checker
    return register


def _sort_key(key):
    return tuple(int(part) for part in key.split("."))


def exercises():
    """Every exercise of the course, in lesson order: ``{key: Exercise}``."""
    import theanolab.course as package
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return {key: _REGISTRY[key] for key in sorted(_REGISTRY, key=_sort_key)}


def _lookup(key):
    known = exercises()
    if key not in known:
        raise KeyError(f"there is no exercise {key!r}; the exercises are {', '.join(known)}")
    return known[key]


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer: true when right; prints (and displays in Jupyter) its hints."""

    exercise: Exercise
    hints: tuple

    @property
    def passed(self):
        return not self.hints

    def __bool__(self):
        return self.passed

    def text(self):
        head = f"{self.exercise.key} {self.exercise.title}: {'correct.' if self.passed else 'not yet.'}"
        return "\n".join([head] + [f"  hint: {hint}" for hint in self.hints])

    __repr__ = text

    def _repr_html_(self):
        colour, mark = ("#1a7f37", "&#10004; correct") if self.passed else ("#9a6700", "not yet")
        hints = "".join(f"<li>{html.escape(hint)}</li>" for hint in self.hints)
        return (f'<div style="border-left:4px solid {colour};padding:4px 10px">'
                f'<b>{html.escape(self.exercise.key)} {html.escape(self.exercise.title)}</b>: '
                f'<span style="color:{colour}">{mark}</span>'
                + (f"<ul style='margin:4px 0'>{hints}</ul>" if hints else "") + "</div>")


def check(key, answer):
    """Check ``answer`` to exercise ``key``; returns a :class:`CheckResult` (true when right).

    An answer left as ``None`` or ``...`` gets a reminder rather than an error,
    so a notebook runs top to bottom before its exercises are done.  An error
    raised by the student's own code while it is checked becomes a hint that
    quotes it.
    """
    ex = _lookup(key)
    if answer is None or answer is Ellipsis:
        return CheckResult(ex, ("no answer yet: replace the `...` (or None) with your answer and run the cell again",))
    try:
        ex.checker(answer)
    except Hint as hint:
        return CheckResult(ex, (str(hint),))
    return CheckResult(ex, ())


@dataclass(frozen=True)
class Solution:
    """The worked answer to an exercise: its source, behind a reveal in Jupyter."""

    exercise: Exercise

    def source(self):
        return textwrap.dedent(inspect.getsource(self.exercise.reference))

    def __repr__(self):
        return f"Worked solution to {self.exercise.key} {self.exercise.title}:\n\n{self.source()}"

    def _repr_html_(self):
        return (f"<details><summary>Show the worked solution to {html.escape(self.exercise.key)} "
                f"{html.escape(self.exercise.title)}</summary><pre>{html.escape(self.source())}</pre></details>")


def solution(key):
    """The worked answer to exercise ``key`` (click to reveal in Jupyter; printed in a terminal)."""
    return Solution(_lookup(key))
