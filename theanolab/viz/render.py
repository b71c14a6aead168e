"""DOT text -> SVG, with no trap: the system ``dot`` when there is one, else the Graphviz in a wheel.

Theano's ``pydotprint`` failed for every student whose machine lacked the
``dot`` program.  Here the layout runs in Python's process tree either way:

1. the system Graphviz (``dot`` on ``PATH``), what ``scripts/setup-env.sh``
   installs from Debian;
2. otherwise ``graphviz-pure``, a wheel of the ``notebook`` extra that ships a
   statically linked Graphviz (``dot``'s command line and output), installed
   beside the Python that runs theanolab.

The SVG is made in the kernel and sent to the browser as text, so a notebook
renders with no JavaScript and no front-end extension.

>>> from theanolab.viz.render import render_svg
>>> render_svg('digraph { a -> b }').startswith('<svg')  # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sysconfig

__all__ = ["Engine", "find_engine", "available_engines", "render_svg", "RenderError"]

#: the bundled engine's program, installed into the environment's scripts folder by its wheel
BUNDLED_PROGRAM = "graphviz-pure"


class RenderError(RuntimeError):
    """No layout engine could be found, or the engine refused the DOT text."""


class Engine:
    """A Graphviz command line: ``name`` says which (``'dot'`` or ``'graphviz-pure'``)."""

    def __init__(self, name, path):
        self.name, self.path = name, path

    def __repr__(self):
        return f"Engine({self.name!r}, {self.path!r})"

    def render(self, dot, timeout=60):
        done = subprocess.run([self.path, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise RenderError(f"{self.name} ({self.path}) failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout.decode()


def _bundled_path():
    """The bundled engine: on PATH, or in the scripts folder of the running Python (a venv not activated)."""
    found = shutil.which(BUNDLED_PROGRAM)
    if found:
        return found
    for name in (BUNDLED_PROGRAM, BUNDLED_PROGRAM + ".exe"):
        candidate = os.path.join(sysconfig.get_path("scripts"), name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def available_engines():
    """Every engine found, best first."""
    engines = []
    system = shutil.which("dot")
    if system:
        engines.append(Engine("dot", system))
    bundled = _bundled_path()
    if bundled:
        engines.append(Engine(BUNDLED_PROGRAM, bundled))
    return engines


def find_engine(name=None):
    """The engine to use: ``name`` (``'dot'`` or ``'graphviz-pure'``) or the best one found."""
    engines = available_engines()
    if name is not None:
        engines = [e for e in engines if e.name == name]
    if not engines:
        wanted = f"the engine {name!r}" if name else "a Graphviz engine"
        raise RenderError(
            f"theanolab.viz found no {wanted}: install the system package (apt-get install graphviz) "
            "or the notebook extra (pip install 'theanolab[notebook]', which brings graphviz-pure)"
        )
    return engines[0]


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


@functools.lru_cache(maxsize=256)
def _render_cached(dot, engine_name, engine_path):
    return _PROLOG.sub("", Engine(engine_name, engine_path).render(dot), count=1)


def render_svg(dot, engine=None):
    """The SVG element (no XML prolog, ready to embed in HTML) drawing ``dot``.

    ``engine`` is an :class:`Engine`, an engine name, or None for the best
    found.  Results are cached by DOT text, so re-displaying a graph is free.
    """
    if not isinstance(engine, Engine):
        engine = find_engine(engine)
    return _render_cached(dot, engine.name, engine.path)
