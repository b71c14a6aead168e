"""The mixed runner: C kernels where an op has one, ``Op.perform`` elsewhere."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

from theanolab.backends.c import build
from theanolab.backends.c.dispatch import c_kernel
from theanolab.backends.c.thunk import CThunk, kernel_modules
from theanolab.backends.py.vm import VM

__all__ = ["c_thunks", "build_c_runner"]


def _register_kernels():
    """Import the modules that fill the ``c_kernel`` table."""
    import theanolab.backends.c.kernels  # noqa: F401


def c_thunks(fgraph):
    """``{node: CThunk}`` for every node of ``fgraph`` whose op has C code (``inline`` code, for
    whole-function drivers only, excepted: ``perform`` costs less than a C call here), and the thunks
    of ops running a loop of their own in C (``op.c_thunk(node)``: scan).

    The missing kernels are built together, in few compiler runs
    (:func:`~theanolab.backends.c.thunk.kernel_modules`), in the background
    while the loop ops compile their bodies (which build their own), so the
    compiler runs of both overlap.
    """
    _register_kernels()
    kernels = {}
    for node in fgraph.toposort():
        kernel = c_kernel(node.op, node)
        if kernel is not None and not kernel.inline:
            kernels[node] = kernel
    distinct = list({kernel.name: kernel for kernel in kernels.values()}.values())
    loops = [node for node in fgraph.toposort() if node not in kernels and getattr(node.op, "c_thunk", None)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        modules = pool.submit(kernel_modules, distinct) if distinct and loops else None
        looped = {node: node.op.c_thunk(node) for node in loops}
        built = dict(zip((k.name for k in distinct), modules.result() if modules else kernel_modules(distinct)))
    thunks = {node: CThunk(node, kernel, built[kernel.name]) for node, kernel in kernels.items()}
    thunks.update((node, thunk) for node, thunk in looped.items() if thunk is not None)
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
