"""The type of a NumPy ``RandomState`` in a graph, and the shared variable holding one.

A random variable's generator is a shared variable of :class:`RandomStateType`
(``rv.rng``): ``rv.rng.get_value(borrow=True)`` is the very ``RandomState``
the next call draws from, so ``seed``, ``get_state`` and ``set_state`` on it
act on the stream, as Theano's tutorials do.

>>> import numpy as np, theanolab
>>> rng = theanolab.shared(np.random.RandomState(3))
>>> rng.type, type(rng).__name__
(RandomStateType, 'RandomStateSharedVariable')
"""

from __future__ import annotations

import copy

import numpy as np

from theanolab.compile.sharedvalue import SharedVariable, reject_unknown_arguments, shared_constructor
from theanolab.graph.type import Type

__all__ = ["RandomStateType", "random_state_type", "RandomStateSharedVariable", "randomstate_constructor"]


class RandomStateType(Type):
    """Values are ``numpy.random.RandomState`` instances (compared by their state)."""

    def filter(self, data, strict=False, allow_downcast=None):
        if isinstance(data, np.random.RandomState):
            return data
        raise TypeError(f"expected a numpy.random.RandomState, got {type(data).__name__} {data!r}")

    def values_eq(self, a, b):
        state_a, state_b = a.get_state(), b.get_state()
        return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(state_a, state_b))

    def value_key(self, data):
        return id(data)

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(RandomStateType)

    def __str__(self):
        return "RandomStateType"

    __repr__ = __str__


random_state_type = RandomStateType()


class RandomStateSharedVariable(SharedVariable):
    """A shared ``RandomState``: the generator of one random variable."""

    def __str__(self):
        return self.name or "<RandomStateType>"


@shared_constructor
def randomstate_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """``theanolab.shared(numpy.random.RandomState(seed))``: copied unless ``borrow=True``."""
    if not isinstance(value, np.random.RandomState):
        raise TypeError(f"expected a numpy.random.RandomState, got {type(value).__name__}")
    reject_unknown_arguments("RandomState", kwargs)
    if not borrow:
        value = copy.deepcopy(value)
    return RandomStateSharedVariable(random_state_type, value, name=name, strict=strict,
                                     allow_downcast=allow_downcast)
