"""``theano.compat.python2x``, imported by the early lecture slides."""

from theanolab.compat import OrderedDict  # noqa: F401

__all__ = ["OrderedDict"]
