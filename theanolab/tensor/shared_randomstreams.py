"""``theano.tensor.shared_randomstreams``: NumPy-backed random streams (see :mod:`theanolab.random`)."""

from theanolab.random.streams import RandomStreams  # noqa: F401
from theanolab.random.type import RandomStateSharedVariable, randomstate_constructor  # noqa: F401

__all__ = ["RandomStreams", "RandomStateSharedVariable", "randomstate_constructor"]
