"""Shared variables: symbolic variables with a value that lives between calls.

A shared variable owns a :class:`Container` (one storage cell).  Every compiled
function that uses it reads and updates that same cell, which is how an
``updates=[(w, w - 0.1 * gw)]`` training step changes ``w`` for every other
function too.

>>> import theanolab
>>> state = theanolab.shared(0)
>>> state.get_value()
array(0)
"""

from __future__ import annotations

import copy

import numpy as np

from theanolab.graph.basic import Variable


class Container:
    """One storage cell holding a value of ``type``, checked on every assignment."""

    def __init__(self, type, value=None, name=None, strict=False, allow_downcast=None):
        self.type = type
        self.name = name
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.storage = [None if value is None else self.filter(value)]

    def filter(self, value):
        try:
            return self.type.filter(value, strict=self.strict, allow_downcast=self.allow_downcast)
        except TypeError as exc:
            raise TypeError(f"cannot store this value in {self.name or 'a container'}: {exc}") from None

    @property
    def value(self):
        return self.storage[0]

    @value.setter
    def value(self, new):
        self.storage[0] = self.filter(new)

    def __repr__(self):
        return f"<{self.name or 'container'}: {self.storage[0]!r}>"


class SharedVariable(Variable):
    """A variable whose value is stored in a container shared by every function using it."""

    def __init__(self, type, value, name=None, strict=False, allow_downcast=None, container=None):
        super().__init__(type, None, None, name)
        if container is None:
            container = Container(type, value, name=name, strict=strict, allow_downcast=allow_downcast)
        self.container = container

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value; a copy unless ``borrow=True``."""
        value = self.container.storage[0]
        return value if borrow else copy.deepcopy(value)

    def set_value(self, new_value, borrow=False):
        """Store ``new_value`` (checked against the type; copied unless ``borrow=True``)."""
        value = self.container.filter(new_value)
        if not borrow and value is new_value:
            value = copy.deepcopy(value)
        self.container.storage[0] = value

    # Theano's older spelling, used by the early tutorials (``rv.rng.value.seed(...)``).
    value = property(lambda self: self.get_value(borrow=True), lambda self, v: self.set_value(v, borrow=True))

    def clone(self):
        """A new variable that shares this one's container (so compiled copies share state)."""
        clone = type(self)(self.type, None, name=self.name, container=self.container)
        clone.tag = type(self.tag)(self.tag)
        if hasattr(self, "default_update"):
            clone.default_update = self.default_update
        return clone

    def zero(self, borrow=False):
        self.set_value(np.zeros_like(self.get_value(borrow=True)), borrow=True)


#: Constructors tried in order by :func:`shared` (tensor first; random streams add theirs).
shared_constructors = []


def shared_constructor(constructor):
    """Register a function ``(value, name, strict, allow_downcast, borrow, **kw) -> SharedVariable``."""
    shared_constructors.insert(0, constructor)
    return constructor


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """Make a shared variable holding ``value`` (copied unless ``borrow=True``).

    ``broadcastable=(True, False)`` sets the pattern; by default no dimension
    is broadcastable, because a shared value may change shape later.
    """
    errors = []
    for constructor in shared_constructors:
        try:
            return constructor(value, name=name, strict=strict, allow_downcast=allow_downcast,
                               borrow=borrow, **kwargs)
        except TypeError as exc:
            errors.append(f"{constructor.__name__}: {exc}")
    raise TypeError(
        f"no shared variable type can hold {type(value).__name__} {value!r}"
        + ("".join(f"\n  {e}" for e in errors))
    )
