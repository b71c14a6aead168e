"""Issue 9, cache trust and safe code generation (extends tests/c/test_build_cache.py).

- An entry built by another theanolab version is never loaded: the version is
  part of the key, so this version builds its own entry.
- User-chosen text (input and shared variable names, op names with quotes,
  backslashes, ``*/`` and newlines) never reaches generated C outside a
  comment it cannot close: the function compiles, runs and gives NumPy's
  values, and the C it generated holds no injected code.
"""

import re

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c import build
from theanolab.scalar.math import Exp
from theanolab.tensor.elemwise import Elemwise

from test_build_cache import compiledir, counts, delta, load  # noqa: F401  (compiledir is a fixture)

pytestmark = pytest.mark.skipif(not build.compiler_available(), reason="needs a C compiler")


def test_entry_of_another_version_is_not_loaded(compiledir, monkeypatch):
    """Built by 'another version' (a changed ``theanolab.__version__``), then loaded by this one: rebuilt."""
    monkeypatch.setattr(theanolab, "__version__", "0.0.0-another-version")
    build._environment.cache_clear()
    try:
        assert load().lib.twice_plus(1) == 3
    finally:
        monkeypatch.undo()
        build._environment.cache_clear()
    build.forget_loaded()
    before = counts()
    assert load().lib.twice_plus(1) == 3
    assert delta(before) == (1, 0, 0), "the other version's entry was loaded"
    assert len(list((compiledir / "c").glob("??/*"))) == 2
    build.forget_loaded()
    before = counts()
    load()
    assert delta(before) == (0, 1, 0), "this version's own entry is loaded from disk"


HOSTILE = [
    'x"); system("id"); //',
    'q\\"); system("id"); /*',
    'end */ system("id"); /* \\\n#include </etc/passwd>\n',
]


def _hostile_op(name):
    """``exp`` under a user-chosen name (as a user's subclass of a scalar op would print)."""
    return Elemwise(type("HostileExp", (Exp,), {"name": name})())


def _code_outside_comments(source):
    """The C text with every comment and string literal removed (what the compiler would act on)."""
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', " ", source, flags=re.S)


@pytest.mark.parametrize("linker", ["c|py", "cvm"])
@pytest.mark.parametrize("hostile", HOSTILE, ids=["quote", "backslash", "comment-end newline"])
def test_user_text_never_reaches_generated_c_unescaped(compiledir, linker, hostile):
    x = T.dvector(hostile)
    w = theanolab.shared(np.arange(3.0), name=hostile)
    out = _hostile_op(hostile)(x * w).sum()
    f = theanolab.function([theanolab.In(x, name=hostile)], out, updates=[(w, w + x)],
                           mode=theanolab.Mode(linker=linker, optimizer="fast_run"))
    value = np.array([0.5, -1.0, 2.0])
    assert float(f(value)) == pytest.approx(np.exp(value * np.arange(3.0)).sum())
    np.testing.assert_allclose(w.get_value(), np.arange(3.0) + value)
    assert float(f(**{hostile: value})) == pytest.approx(np.exp(value * (np.arange(3.0) + value)).sum())
    sources = [p.read_text() for p in (compiledir / "c").rglob("*.c")]
    assert sources, "nothing was compiled"
    for source in sources:
        code = _code_outside_comments(source)
        assert "system(" not in code and "/etc/passwd" not in code and "*/" not in code
