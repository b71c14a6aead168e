"""Loops in the graph: ``scan`` and its special cases (``map``, ``reduce``, ``foldl``, ``foldr``).

- :mod:`theanolab.scan.api`: the functions users call, and ``until``;
- :mod:`theanolab.scan.op`: the Scan op, a loop over an inner FunctionGraph;
- :mod:`theanolab.scan.info`: where each role sits among a Scan node's inputs and outputs;
- :mod:`theanolab.scan.grad`: backpropagation through time (a backward scan) and R_op;
- :mod:`theanolab.scan.trace`: iteration records for stepping through a loop
  (``config.scan_trace``, ``f.scan_traces``).

``theanolab.scan`` (the attribute of the package ``theanolab``) is the
function, as in Theano; this package is reached by importing its modules.
"""

from theanolab.scan.api import ScanResult, foldl, foldr, map, reduce, scan, until
from theanolab.scan.info import ScanInfo
from theanolab.scan.op import Scan
from theanolab.scan.trace import ScanCall, ScanStep, ScanTrace, ScanTraces, traces_of

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "Scan", "ScanInfo", "ScanResult",
           "ScanTrace", "ScanTraces", "ScanCall", "ScanStep", "traces_of"]
