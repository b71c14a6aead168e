"""Which ops have C code: the ``c_kernel`` dispatch table and the kernel description.

Backend code lives here, in per-op-family modules registering on
``c_kernel`` (``backends/c/elemwise.py`` mirrors ``tensor/elemwise.py``...),
never on the Op: a new backend is a new table, not an edit of every Op.

>>> from theanolab.backends.c.dispatch import c_kernel
>>> @c_kernel.register(MyOp)                        # doctest: +SKIP
... def _(op, node):
...     return CKernel(name=..., code=..., output_shapes=...)
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["CKernel", "c_kernel", "kernel_name"]


@dataclass(frozen=True)
class CKernel:
    """C code for one node, specialized on its types.

    ``code`` defines ``int <name>(const tl_array *inputs, tl_array *outputs,
    char *error)`` (see ``kernels/c/theanolab.h``); ``output_shapes(inputs)``
    computes the output shapes from the input arrays, in Python, so the
    caller can allocate them.  ``headers`` are files of ``kernels/c`` to
    include; the build fields are passed to the compiler (a BLAS, say).
    ``ops`` describes the node(s) for error messages.
    """

    name: str
    code: str
    output_shapes: Callable
    ops: str = ""
    headers: tuple = ("theanolab.h",)
    libraries: tuple = ()
    library_dirs: tuple = ()
    include_dirs: tuple = ()
    extra_compile_args: tuple = ()
    extra_link_args: tuple = field(default=())


def kernel_name(prefix, *parts):
    """A C identifier unique to ``parts`` (the code's ingredients), readable by its prefix."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() else "_" for c in prefix)
    return f"tl_{safe}_{digest}"


@functools.singledispatch
def c_kernel(op, node):
    """The CKernel of ``node`` (whose op is ``op``), or None when it has no C code."""
    return None
