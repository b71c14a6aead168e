"""Theano's lazy conditional: ``from theanolab.ifelse import ifelse`` (``theano.ifelse``).

- :mod:`theanolab.ifelse.op`: ``ifelse`` and the ``IfElse`` op the user's graph holds
  (its gradient, shape inference and printing, as Theano's);
- :mod:`theanolab.ifelse.lazy`: the compilation step that moves each branch's own work
  into the branch (``if{lazy}``), so a call computes only the branch it takes.
"""

from theanolab.ifelse.op import IfElse, ifelse
from theanolab.ifelse.lazy import LazyIfElse, make_branches_lazy

__all__ = ["ifelse", "IfElse", "LazyIfElse", "make_branches_lazy"]
