"""The C backend: C kernels generated per op, built with cffi, cached on disk.

Each op with C code gets a :class:`~theanolab.backends.c.dispatch.CKernel`
from the ``c_kernel`` dispatch table (never a method on the Op).  A kernel is
specialized on its node's dtypes and ranks, not on shapes, so one build
serves every function that applies the same op to the same types.  A
function whose every node has C runs as one generated C function
(``whole.py``); otherwise the mixed virtual machine (``linker.py``) runs C
kernels where they exist and ``Op.perform`` elsewhere.
"""
