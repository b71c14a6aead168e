"""The mixed runner: C kernels where an op has one, ``Op.perform`` elsewhere."""

from __future__ import annotations

import warnings

from theanolab.backends.c import build
from theanolab.backends.c.dispatch import c_kernel
from theanolab.backends.c.thunk import CThunk
from theanolab.backends.py.vm import VM

__all__ = ["c_thunks", "build_c_runner"]


def _register_kernels():
    """Import the modules that fill the ``c_kernel`` table."""
    import theanolab.backends.c.kernels  # noqa: F401


def c_thunks(fgraph):
    """``{node: CThunk}`` for every node of ``fgraph`` whose op has C code."""
    _register_kernels()
    thunks = {}
    for node in fgraph.toposort():
        kernel = c_kernel(node.op, node)
        if kernel is not None:
            thunks[node] = CThunk(node, kernel)
    return thunks


_warned = []


def build_c_runner(fgraph, input_cells, allow_gc=True, hook=None):
    """A VM whose nodes run C kernels where they exist (one clear warning if no compiler)."""
    if not build.compiler_available():
        if not _warned:
            _warned.append(True)
            warnings.warn("no C compiler found: compiled functions run on the NumPy reference backend",
                          stacklevel=4)
        return VM(fgraph, input_cells, allow_gc=allow_gc, hook=hook)
    return VM(fgraph, input_cells, allow_gc=allow_gc, hook=hook, thunks=c_thunks(fgraph))
