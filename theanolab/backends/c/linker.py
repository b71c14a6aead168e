"""The mixed runner: C kernels where an op has one, ``Op.perform`` elsewhere."""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

from theanolab.backends.c import build
from theanolab.backends.c.dispatch import c_kernel
from theanolab.backends.c.thunk import CThunk, kernel_module
from theanolab.backends.py.vm import VM

__all__ = ["c_thunks", "build_c_runner"]


def _register_kernels():
    """Import the modules that fill the ``c_kernel`` table."""
    import theanolab.backends.c.kernels  # noqa: F401


def c_thunks(fgraph):
    """``{node: CThunk}`` for every node of ``fgraph`` whose op has C code (``inline`` code, for
    whole-function drivers only, excepted: ``perform`` costs less than a C call here).

    The kernels' modules are built first, concurrently: the compiler runs as
    a subprocess, so a function's missing kernels compile on every core.
    """
    _register_kernels()
    kernels = {}
    for node in fgraph.toposort():
        kernel = c_kernel(node.op, node)
        if kernel is not None and not kernel.inline:
            kernels[node] = kernel
    distinct = list({kernel.name: kernel for kernel in kernels.values()}.values())
    if len(distinct) > 1:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(kernel_module, distinct))
    thunks = {node: CThunk(node, kernel) for node, kernel in kernels.items()}
    for node in fgraph.toposort():  # an op running a loop of its own in C (scan) makes its thunk
        make = getattr(node.op, "c_thunk", None)
        thunk = make(node) if make is not None and node not in thunks else None
        if thunk is not None:
            thunks[node] = thunk
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
