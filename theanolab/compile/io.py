"""Descriptions of a compiled function's inputs: ``In`` and Theano's older ``Param``."""

from __future__ import annotations

from theanolab.graph.basic import Variable


class In:
    """An input of a compiled function, with an optional default value.

    ``In(y, value=1)`` lets callers omit ``y``; ``name`` overrides the keyword
    used to pass it (``In(w, value=2, name='w_by_name')``).  ``strict`` refuses
    any conversion of the argument; ``allow_downcast`` allows a lossy one.
    ``update`` gives an expression whose value becomes the new default after
    each call (an internal state without a shared variable).
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None,
                 strict=False, allow_downcast=None, borrow=None, implicit=None):
        if not isinstance(variable, Variable):
            raise TypeError(f"In() needs a symbolic variable, got {variable!r}")
        self.variable = variable
        self.name = variable.name if name is None else name
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"the name of an input must be a string, got {self.name!r}")
        self.value = value
        self.update = update
        self.mutable = bool(mutable)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = bool(borrow)
        self.implicit = bool(implicit)

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        return f"In({self.variable}{', value=' + repr(self.value) if self.has_default else ''})"


class Param(In):
    """Theano's older name for :class:`In`: ``Param(y, default=1)``."""

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False,
                 allow_downcast=None, implicit=None, borrow=None):
        super().__init__(variable, name=name, value=default, mutable=mutable, strict=strict,
                         allow_downcast=allow_downcast, implicit=implicit, borrow=borrow)

    @property
    def default(self):
        return self.value
