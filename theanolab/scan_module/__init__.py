"""Theano's module path for scan: ``from theanolab.scan_module import until, scan``.

A re-export of :mod:`theanolab.scan.api`; the implementation lives in :mod:`theanolab.scan`.
"""

from theanolab.scan.api import foldl, foldr, map, reduce, scan, until

__all__ = ["foldl", "foldr", "map", "reduce", "scan", "until"]
