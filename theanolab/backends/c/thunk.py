"""Calling one C kernel from the virtual machine.

A :class:`CThunk` has ``Op.perform``'s signature, so the reference VM runs it
in place of ``perform``.  At construction it builds (or loads) the kernel's
module and preallocates the ``tl_array`` structs and one int64 buffer for
every shape and stride; a call only writes shapes, strides and data pointers
and makes one C call.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.c.build import Piece, load_pieces

__all__ = ["CThunk", "kernel_module", "kernel_modules", "kernel_piece", "TL_ARRAY_CDEF"]

TL_ARRAY_CDEF = """
typedef struct { char *data; int64_t ndim; const int64_t *shape; const int64_t *strides; } tl_array;
"""


def kernel_piece(kernel):
    """The :class:`~theanolab.backends.c.build.Piece` building ``kernel`` (alone or in a bundle)."""
    options = (("libraries", kernel.libraries), ("library_dirs", kernel.library_dirs),
               ("include_dirs", kernel.include_dirs), ("extra_compile_args", kernel.extra_compile_args),
               ("extra_link_args", kernel.extra_link_args))
    return Piece(kernel.name, f"int {kernel.name}(const tl_array *inputs, tl_array *outputs, char *error);",
                 kernel.code, tuple(kernel.headers), TL_ARRAY_CDEF, kernel.ops or kernel.name, options)


def kernel_modules(kernels, extra=()):
    """The built module exporting each kernel's function, in order, then one per ``extra`` piece: the
    missing ones are compiled together in few compiler runs (:func:`~theanolab.backends.c.build.load_pieces`)."""
    return load_pieces([*map(kernel_piece, kernels), *extra])


def kernel_module(kernel):
    """The built module exporting ``kernel.name`` (cached; built alone when missing)."""
    return kernel_modules([kernel])[0]


class CThunk:
    """Runs ``node`` through its C kernel; same call signature as ``Op.perform``."""

    def __init__(self, node, kernel, module=None):
        self.node = node
        self.kernel = kernel
        module = module or kernel_module(kernel)
        ffi = module.ffi
        self._function = getattr(module.lib, kernel.name)
        self._ffi = ffi
        self._dtypes = [np.dtype(out.type.dtype) for out in node.outputs]
        # (output, input) pairs of an op that destroys inputs: the output goes into that input (_allocate).
        self._destroyed = sorted((out, ins[0]) for out, ins in getattr(node.op, "destroy_map", {}).items())
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

    def _allocate(self, arrays, shapes):
        """The output arrays: for an in-place op, the destroyed input itself where it can be, else new memory.

        A destroyed input becomes the output when it has the output's shape
        and dtype, is writeable, holds no element twice, and every other input
        either does not overlap it or is the very same view: reading element i
        of every input before writing element i of the output (an elementwise
        loop) then gives the right values.  So a kernel of an op with a
        destroy_map must work with its output either fresh or the destroyed input.
        """
        outputs = [None] * len(shapes)
        for out, inp in self._destroyed:
            target = arrays[inp]
            if (target.shape == tuple(shapes[out]) and target.dtype == self._dtypes[out]
                    and target.flags.writeable and not _overlaps_itself(target)
                    and not any(o is not None and np.may_share_memory(o, target) for o in outputs)
                    and all(j == inp or not np.may_share_memory(a, target) or _same_view(a, target)
                            for j, a in enumerate(arrays))):
                outputs[out] = target
        return [np.empty(shape, dtype=dtype) if array is None else array
                for array, shape, dtype in zip(outputs, shapes, self._dtypes)]

    def __call__(self, node, inputs, output_storage):
        arrays = [np.asarray(value) for value in inputs]
        shapes = self.kernel.output_shapes(arrays)
        outputs = self._allocate(arrays, shapes)
        keep = [self._point(slot, array) for slot, array in zip(self._slots, arrays + outputs)]
        if self._function(self._inputs, self._outputs, self._error) != 0:
            message = self._ffi.string(self._error).decode(errors="replace")
            raise ValueError(message or f"the C kernel of {node.op} failed")
        del keep
        for storage, array in zip(output_storage, outputs):
            storage[0] = array


def _same_view(a, b):
    """True if ``a`` and ``b`` are the same elements in the same order."""
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _overlaps_itself(a):
    """True unless each axis steps past everything the inner axes span (a broadcast view fails)."""
    extent = a.itemsize
    for stride, length in sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n > 1):
        if stride < extent:
            return True
        extent += stride * (length - 1)
    return False
