"""Calling one C kernel from the virtual machine.

A :class:`CThunk` has ``Op.perform``'s signature, so the reference VM runs it
in place of ``perform``.  At construction it builds (or loads) the kernel's
module and preallocates the ``tl_array`` structs and one int64 buffer for
every shape and stride; a call only writes shapes, strides and data pointers
and makes one C call.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.c.build import load_module

__all__ = ["CThunk", "kernel_module", "TL_ARRAY_CDEF"]

TL_ARRAY_CDEF = """
typedef struct { char *data; int64_t ndim; const int64_t *shape; const int64_t *strides; } tl_array;
"""


def kernel_module(kernel):
    """The built module exporting ``kernel.name`` (one module per kernel, cached)."""
    includes = "".join(f'#include "{h}"\n' for h in kernel.headers)
    cdef = TL_ARRAY_CDEF + f"int {kernel.name}(const tl_array *inputs, tl_array *outputs, char *error);"
    return load_module(
        cdef, includes + kernel.code, description=kernel.ops or kernel.name,
        libraries=kernel.libraries, library_dirs=kernel.library_dirs, include_dirs=kernel.include_dirs,
        extra_compile_args=kernel.extra_compile_args, extra_link_args=kernel.extra_link_args,
    )


class CThunk:
    """Runs ``node`` through its C kernel; same call signature as ``Op.perform``."""

    def __init__(self, node, kernel):
        self.node = node
        self.kernel = kernel
        module = kernel_module(kernel)
        ffi = module.ffi
        self._function = getattr(module.lib, kernel.name)
        self._ffi = ffi
        self._dtypes = [np.dtype(out.type.dtype) for out in node.outputs]
        ranks = [v.type.ndim for v in node.inputs] + [v.type.ndim for v in node.outputs]
        self._meta = np.zeros(max(1, 2 * sum(ranks)), dtype=np.int64)
        meta = ffi.from_buffer("int64_t[]", self._meta)
        self._inputs = ffi.new("tl_array[]", max(1, len(node.inputs)))
        self._outputs = ffi.new("tl_array[]", max(1, len(node.outputs)))
        self._slots = []  # (struct, first shape index, rank) for inputs then outputs
        offset = 0
        for structs, variables in ((self._inputs, node.inputs), (self._outputs, node.outputs)):
            for i, var in enumerate(variables):
                rank = var.type.ndim
                struct = structs[i]
                struct.ndim = rank
                struct.shape = meta + offset
                struct.strides = meta + offset + rank
                self._slots.append((struct, offset, rank))
                offset += 2 * rank
        self._error = ffi.new("char[]", 512)
        self._keep = [meta]

    def _point(self, slot, array):
        struct, offset, rank = slot
        if rank:
            self._meta[offset:offset + rank] = array.shape
            self._meta[offset + rank:offset + 2 * rank] = array.strides
        if array.flags.c_contiguous:
            struct.data = self._ffi.from_buffer("char[]", array, require_writable=False)
        else:
            struct.data = self._ffi.cast("char *", array.__array_interface__["data"][0])
        return struct.data

    def __call__(self, node, inputs, output_storage):
        arrays = [np.asarray(value) for value in inputs]
        shapes = self.kernel.output_shapes(arrays)
        outputs = [np.empty(shape, dtype=dtype) for shape, dtype in zip(shapes, self._dtypes)]
        keep = [self._point(slot, array) for slot, array in zip(self._slots, arrays + outputs)]
        if self._function(self._inputs, self._outputs, self._error) != 0:
            message = self._ffi.string(self._error).decode(errors="replace")
            raise ValueError(message or f"the C kernel of {node.op} failed")
        del keep
        for storage, array in zip(output_storage, outputs):
            storage[0] = array
