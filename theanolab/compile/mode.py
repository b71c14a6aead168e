"""Compilation modes: which rewrites run, and which backend runs the result.

A mode pairs an *optimizer* (a named set of graph rewrites, looked up in
:data:`rewriters`, which the rewrite passes fill in) with a *linker* (the
backend).  The presets are Theano's:

- ``FAST_RUN``: every rewrite, the fastest backend available;
- ``FAST_COMPILE``: only the cheap rewrites, the reference backend;
- ``DebugMode`` (``DEBUG_MODE``): every rewrite, then each call runs the
  user's graph and the rewritten one side by side and checks every node
  (:mod:`theanolab.compile.debugmode`);
- ``NanGuardMode``: FAST_RUN's graph, stopping at the first node that
  produces NaN or Inf (:mod:`theanolab.compile.nanguardmode`).

A mode decides how its graph runs through :meth:`Mode.build_runner`, which
the checking modes override.

>>> from theanolab.compile.mode import get_mode
>>> get_mode('FAST_COMPILE')
Mode(linker='py', optimizer='fast_compile')
"""

from __future__ import annotations


from theanolab.config import config

__all__ = ["Mode", "DebugMode", "NanGuardMode", "get_mode", "OPTIMIZERS"]

#: optimizer names, and the tag a Query includes for each ("None": no rewrite at all).
OPTIMIZERS = {"fast_run": "fast_run", "fast_compile": "fast_compile", "merge": "merge", "None": None}


def _split_tags(text):
    return tuple(t for t in text.split(":") if t)


#: linker names Theano users write, and the backend that runs them today.
_LINKERS = {"py": "py", "vm": "py", "vm_nogc": "py", "c": "c", "cvm": "c", "cvm_nogc": "c", "c|py": "c"}
#: the C linkers that compile a function whose every node has C into one C function (Theano's 'c' and
#: 'c|py'); the 'cvm' ones always run a virtual machine of per-node C kernels.
_WHOLE_FUNCTION_LINKERS = ("c", "c|py")


class Mode:
    """A rewrite set plus a backend: ``Mode(linker='py', optimizer='fast_run')``.

    ``optimizer`` is a name (``'fast_run'``, ``'fast_compile'``, ``'merge'``,
    ``'None'``) or a GraphRewriter.  ``including``, ``excluding`` and
    ``requiring`` return a new mode with rewrites added or removed by tag or
    name: ``get_mode('FAST_RUN').excluding('fusion')``.
    """

    def __init__(self, linker=None, optimizer="default", including=(), excluding=(), requiring=()):
        linker = config.linker if linker is None else linker
        if linker not in _LINKERS:
            raise ValueError(f"unknown linker {linker!r}; expected one of {', '.join(_LINKERS)}")
        if optimizer == "default":
            optimizer = config.optimizer
        optimizer = "None" if optimizer is None else optimizer
        if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)} "
                             "or a GraphRewriter")
        self.linker = linker
        self.optimizer = optimizer
        self._including, self._excluding, self._requiring = tuple(including), tuple(excluding), tuple(requiring)

    def _with(self, **changes):
        fields = dict(linker=self.linker, optimizer=self.optimizer, including=self._including,
                      excluding=self._excluding, requiring=self._requiring)
        fields.update(changes)
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        Mode.__init__(clone, **fields)
        return clone

    def including(self, *tags):
        return self._with(including=self._including + tags)

    def excluding(self, *tags):
        return self._with(excluding=self._excluding + tags)

    def requiring(self, *tags):
        return self._with(requiring=self._requiring + tags)

    def without_rewrites(self):
        """This mode (its backend, its checks) with no rewrite: for a graph rewritten already, such as
        the branch of an ifelse cut out of a rewritten function (:mod:`theanolab.ifelse.lazy`)."""
        return self._with(optimizer="None", including=(), excluding=(), requiring=())

    def __repr__(self):
        extra = "".join(f", {name}={value!r}" for name, value in
                        (("including", self._including), ("excluding", self._excluding),
                         ("requiring", self._requiring)) if value)
        return f"{type(self).__name__}(linker={self.linker!r}, optimizer={self.optimizer!r}{extra})"

    def _key(self):
        return (type(self), self.linker, self.optimizer, self._including, self._excluding, self._requiring)

    def __eq__(self, other):
        return isinstance(other, Mode) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def query(self):
        """The Query selecting this mode's rewrites (None when it runs none)."""
        from theanolab.graph.rewriting import Query

        base = OPTIMIZERS.get(self.optimizer) if isinstance(self.optimizer, str) else None
        include = ((base,) if base else ()) + self._including + _split_tags(config.optimizer_including)
        if not include:
            return None
        return Query(include, self._excluding + _split_tags(config.optimizer_excluding), self._requiring)

    def rewrite(self, fgraph):
        """Apply this mode's rewrites to ``fgraph`` in place, make ifelse branches lazy, then place its nodes
        for ``config.device``."""
        import theanolab.tensor.rewriting  # noqa: F401  (registers the tensor rules)
        from theanolab.graph.rewriting import optdb

        from theanolab.backends.cuda.placement import place_for_device
        from theanolab.ifelse.lazy import make_branches_lazy

        if not isinstance(self.optimizer, str):
            self.optimizer.apply(fgraph)
        else:
            query = self.query()
            if query is not None:
                optdb.query(query).apply(fgraph)
        # Whatever the optimizer: an ifelse computes only the branch it takes (theanolab/ifelse/lazy.py).
        make_branches_lazy(fgraph)
        # Last, and whatever the optimizer: with device=cuda, nodes with a GPU implementation move there.
        place_for_device(fgraph)

    def build_runner(self, maker, input_cells):
        """A callable running ``maker.fgraph`` on the values in ``input_cells``, returning its outputs.

        ``input_cells[i]`` is the storage cell of ``maker.fgraph.inputs[i]``.
        Checking modes override this to watch the run; ``maker`` gives them the
        rewrite history too.
        """
        for node in maker.fgraph.apply_nodes:  # ops that compile a graph of their own (scan) follow this mode
            prepare = getattr(node.op, "prepare_node", None)
            if prepare is not None:
                prepare(node, self)
        if self.backend == "c":
            from theanolab.backends.c.linker import build_c_runner
            from theanolab.backends.c.whole import build_whole_runner

            whole = build_whole_runner(maker, input_cells) if self.linker in _WHOLE_FUNCTION_LINKERS else None
            return whole or build_c_runner(maker.fgraph, input_cells, allow_gc=config.allow_gc)
        from theanolab.backends.py import VM

        return VM(maker.fgraph, input_cells, allow_gc=config.allow_gc)

    @property
    def backend(self):
        """``'c'`` (C kernels where ops have them, ``perform`` elsewhere) or ``'py'`` (reference).

        With the ``'c'`` and ``'c|py'`` linkers, a function whose every node has
        C runs as one generated C function (:mod:`theanolab.backends.c.whole`);
        ``'cvm'`` keeps the virtual machine of per-node kernels.
        """
        return _LINKERS[self.linker]


#: checking modes live in modules of their own (which import this one): ``{class name: module}``.
_CHECKING_MODES = {"DebugMode": "theanolab.compile.debugmode", "NanGuardMode": "theanolab.compile.nanguardmode"}


def __getattr__(name):
    """``from theanolab.compile.mode import DebugMode`` (Theano's spelling) without an import cycle."""
    if name in _CHECKING_MODES:
        import importlib

        return getattr(importlib.import_module(_CHECKING_MODES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _presets():
    debug_mode, nan_guard_mode = __getattr__("DebugMode"), __getattr__("NanGuardMode")
    return {
        "FAST_RUN": Mode(linker=None, optimizer="fast_run"),
        "FAST_COMPILE": Mode(linker="py", optimizer="fast_compile"),
        "DebugMode": debug_mode(),
        "DEBUG_MODE": debug_mode(),
        "NanGuardMode": nan_guard_mode(),
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
