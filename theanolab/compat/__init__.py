"""Names old Theano tutorials import from ``theano.compat`` (thin re-exports)."""

from collections import OrderedDict  # noqa: F401

__all__ = ["OrderedDict"]
