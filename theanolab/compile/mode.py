"""Compilation modes: which rewrites run, and which backend runs the result.

A mode pairs an *optimizer* (a named set of graph rewrites, looked up in
:data:`rewriters`, which the rewrite passes fill in) with a *linker* (the
backend).  The presets are Theano's:

- ``FAST_RUN``: every rewrite, the fastest backend available;
- ``FAST_COMPILE``: only the cheap rewrites, the reference backend;
- ``DebugMode`` (``DEBUG_MODE``): the reference backend, checking every
  node's output against its type.

>>> from theanolab.compile.mode import get_mode
>>> get_mode('FAST_COMPILE')
Mode(linker='py', optimizer='fast_compile')
"""

from __future__ import annotations

import warnings

from theanolab.config import config

def _no_rewrite(fgraph):
    """Leave the graph as the user wrote it."""


#: ``{optimizer name: function(fgraph)}``; each rewrites a FunctionGraph in place.
#: The rewrite passes (theanolab.graph.rewriting) register ``fast_run`` and
#: ``fast_compile`` here; until they are imported both run the graph as written.
rewriters = {"None": _no_rewrite, "fast_run": _no_rewrite, "fast_compile": _no_rewrite}

#: linker names Theano users write, and the backend that runs them today.
_LINKERS = {"py": "py", "vm": "py", "vm_nogc": "py", "c": "c", "cvm": "c", "cvm_nogc": "c", "c|py": "c"}


class Mode:
    """A rewrite set plus a backend; ``Mode(linker='py', optimizer='fast_run')``."""

    check_types = False

    def __init__(self, linker=None, optimizer="default"):
        linker = config.linker if linker is None else linker
        if linker not in _LINKERS:
            raise ValueError(f"unknown linker {linker!r}; expected one of {', '.join(_LINKERS)}")
        if optimizer == "default":
            optimizer = config.optimizer
        self.linker = linker
        self.optimizer = "None" if optimizer is None else optimizer

    def __repr__(self):
        return f"{type(self).__name__}(linker={self.linker!r}, optimizer={self.optimizer!r})"

    def __eq__(self, other):
        return type(self) is type(other) and (self.linker, self.optimizer) == (other.linker, other.optimizer)

    def __hash__(self):
        return hash((type(self), self.linker, self.optimizer))

    def rewrite(self, fgraph):
        """Apply this mode's rewrites to ``fgraph``."""
        rewriter = rewriters.get(self.optimizer)
        if rewriter is None:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; known: {', '.join(sorted(rewriters))}")
        rewriter(fgraph)

    @property
    def backend(self):
        """The backend that runs this mode today (the reference one until the C backend lands)."""
        backend = _LINKERS[self.linker]
        if backend == "c":
            _warn_once("the C backend is not available yet: using the NumPy reference backend")
            return "py"
        return backend


class DebugMode(Mode):
    """The reference backend with every node's output checked against its type."""

    check_types = True

    def __init__(self, optimizer="default"):
        super().__init__(linker="py", optimizer=optimizer)

    def __repr__(self):
        return f"DebugMode(optimizer={self.optimizer!r})"


_warned = set()


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def _presets():
    return {
        "FAST_RUN": Mode(linker=None, optimizer="fast_run"),
        "FAST_COMPILE": Mode(linker="py", optimizer="fast_compile"),
        "DebugMode": DebugMode(optimizer="fast_run"),
        "DEBUG_MODE": DebugMode(optimizer="fast_run"),
        "Mode": Mode(),
    }


def get_mode(mode=None):
    """A Mode from a Mode, a preset name, or None (``config.mode``)."""
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    presets = _presets()
    if mode not in presets:
        raise ValueError(f"unknown mode {mode!r}; expected a Mode or one of {', '.join(presets)}")
    return presets[mode]
