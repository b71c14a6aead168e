"""Which ops have C code: the ``c_kernel`` dispatch table and the kernel description.

Backend code lives here, in per-op-family modules registering on
``c_kernel`` (``backends/c/elemwise.py`` mirrors ``tensor/elemwise.py``...),
never on the Op: a new backend is a new table, not an edit of every Op.

>>> from theanolab.backends.c.dispatch import c_kernel
>>> @c_kernel.register(MyOp)                        # doctest: +SKIP
... def _(op, node):
...     return CKernel(name=..., code=..., output_shapes=..., c_shapes=c_shape_rule(...))

A kernel serves two runners.  The mixed virtual machine calls it through a
:class:`~theanolab.backends.c.thunk.CThunk`, after ``output_shapes`` (Python)
sized its outputs.  A whole-function driver (:mod:`theanolab.backends.c.whole`)
calls it from generated C, so it also needs its shape rule in C
(``c_shapes``), or, for an op whose output is a view of an input, ``view``
code that points the output into the input.  A node whose kernel lacks both
keeps its function on the mixed machine.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

__all__ = ["CKernel", "CFunction", "c_kernel", "c_shape_rule", "kernel_name"]


class CFunction(NamedTuple):
    """A named piece of C: ``code`` defines the function ``name``."""

    name: str
    code: str


@dataclass(frozen=True)
class CKernel:
    """C code for one node, specialized on its types.

    ``code`` defines ``int <name>(const tl_array *inputs, tl_array *outputs,
    char *error)`` (see ``kernels/c/theanolab.h``); ``output_shapes(inputs)``
    computes the output shapes from the input arrays, in Python, so the
    caller can allocate them.  ``headers`` are files of ``kernels/c`` to
    include; the build fields are passed to the compiler (a BLAS, say).
    ``ops`` describes the node(s) for error messages.

    For whole-function compilation (:mod:`theanolab.backends.c.whole`):

    - ``c_shapes`` (a :class:`CFunction`, see :func:`c_shape_rule`) is the
      shape rule in C: ``static int NAME(const tl_array *inputs, int64_t
      *out_shapes, char *error)`` writes every output's shape, one after the
      other, or returns non-zero after writing the message ``output_shapes``
      would raise.  It is compiled into the driver, which includes
      ``whole.h``; it may depend on the node's broadcastable patterns, the
      kernel may not.
    - ``view=True``: ``code`` makes ``outputs[0]`` a view of an input, with
      no copy: it sets ``outputs[0].data`` and writes the shape and strides
      (their memory belongs to the caller, so casting ``const`` away is
      allowed).  Where no view exists (a reshape of a non-contiguous array)
      it sets the shape, leaves ``data`` NULL and returns 0: the caller then
      gives the output a C-contiguous buffer and calls it again, to copy.
    - ``inline=True``: small code (views, shape lookups) compiled into each
      driver; the mixed machine runs such a node's ``perform``, which
      costs less than a C call there.
    """

    name: str
    code: str
    output_shapes: Callable | None = None
    ops: str = ""
    headers: tuple = ("theanolab.h",)
    libraries: tuple = ()
    library_dirs: tuple = ()
    include_dirs: tuple = ()
    extra_compile_args: tuple = ()
    extra_link_args: tuple = field(default=())
    c_shapes: CFunction | None = None
    view: bool = False
    inline: bool = False


def kernel_name(prefix, *parts):
    """A C identifier unique to ``parts`` (the code's ingredients), readable by its prefix."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() else "_" for c in prefix)
    return f"tl_{safe}_{digest}"


def c_shape_rule(prefix, dims, checks=""):
    """The :class:`CFunction` of a shape rule: output dimension ``k`` is the C expression ``dims[k]``.

    ``dims`` lists every output's dimensions, first output first, written with
    ``inputs[i].shape[d]`` (or any expression of the inputs); ``checks`` are C
    statements run first, which may ``return 1`` after writing ``error``.

    >>> c_shape_rule("like_x", ["inputs[0].shape[0]"]).code.splitlines()[3]
    '    out_shapes[0] = inputs[0].shape[0];'
    """
    body = checks + "".join(f"    out_shapes[{k}] = {dim};\n" for k, dim in enumerate(dims))
    name = kernel_name(f"{prefix}_shapes", body)
    code = (f"static int {name}(const tl_array *inputs, int64_t *out_shapes, char *error)\n{{\n"
            f"    (void)inputs; (void)out_shapes; (void)error;\n{body}    return 0;\n}}\n")
    return CFunction(name, code)


@functools.singledispatch
def c_kernel(op, node):
    """The CKernel of ``node`` (whose op is ``op``), or None when it has no C code."""
    return None
