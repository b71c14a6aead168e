"""theanolab.course: the exercises of the course notebooks, checked with hints.

A lesson's exercise cell ends with ``check("2.3", answer)``.  The check runs the
student's answer (a compiled function, a symbolic variable, a number...) on
inputs of its own and compares it with what the exercise asks for.  When
something is off it says what, in the student's terms, and suggests what to try
("this is a symbolic expression; compile it with theano.function"), rather than
printing only pass/fail.  ``solution("2.3")`` shows the worked answer behind a
reveal.

Why a package of its own rather than ``theanolab.viz.check``: the checks are
about the course's content, not about drawing, and they need no Jupyter
package, so they also run in a terminal and in the test suite
(``tests/course`` checks that every exercise's reference answer passes and that
typical wrong answers get a hint).

>>> import theanolab as theano, theanolab.tensor as T
>>> from theanolab.course import check
>>> x, y = T.dscalars('x', 'y')
>>> print(check("1.1", theano.function([x, y], x + y)).text())
1.1 Add two scalars: correct.
>>> print(check("1.1", x + y).text())
1.1 Add two scalars: not yet.
  hint: your answer is a symbolic expression, not a function; compile it: theano.function([inputs...], expression)
"""

from theanolab.course.checking import CheckResult, Exercise, Hint, check, exercise, exercises, solution
from theanolab.course.sizes import SMALL, size

__all__ = ["check", "solution", "exercise", "exercises", "Exercise", "Hint", "CheckResult", "size", "SMALL"]
