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


class SharedValueError(TypeError):
    """A shared-variable constructor got its kind of value, but cannot hold it as given.

    Constructors raise a plain TypeError to decline a value of another kind
    (a RandomState is not an array), so :func:`shared` can try the next one;
    this subclass says "mine, but invalid" (a shape that contradicts
    ``broadcastable=``, an argument the constructor does not take), so
    ``shared`` reports it at once instead of after every other
    constructor's irrelevant refusal.
    """


def reject_unknown_arguments(kind, kwargs):
    """Raise SharedValueError naming the keyword arguments a constructor of ``kind`` does not take."""
    if kwargs:
        raise SharedValueError(
            f"a shared {kind} does not take the argument(s) {', '.join(sorted(kwargs))}"
        )


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
            try:
                container = Container(type, value, name=name, strict=strict, allow_downcast=allow_downcast)
            except TypeError as exc:
                # The constructor chose this type for the value, so the value is its kind but invalid.
                raise SharedValueError(str(exc)) from None
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
    """Register a function ``(value, name, strict, allow_downcast, borrow, **kw) -> SharedVariable``.

    It raises TypeError to decline a value of a kind it does not handle, and
    :class:`SharedValueError` for one of its kind that it cannot hold.
    """
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
        except SharedValueError as exc:
            raise SharedValueError(f"shared({_describe(value, name, kwargs)}): {exc}") from None
        except TypeError as exc:
            errors.append(f"{constructor.__name__}: {exc}")
    raise TypeError(
        f"no shared variable type can hold {type(value).__name__} {value!r}"
        + ("".join(f"\n  {e}" for e in errors))
    )


def _describe(value, name, kwargs):
    """The call as the user wrote it, with arrays summarized: ``ndarray of shape (2, 3), broadcastable=...``."""
    parts = [f"{type(value).__name__} of shape {value.shape}" if hasattr(value, "shape") else repr(value)]
    if name is not None:
        parts.append(f"name={name!r}")
    parts.extend(f"{key}={arg!r}" for key, arg in kwargs.items())
    return ", ".join(parts)
