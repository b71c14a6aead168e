"""C kernel for Elemwise: every scalar op, and fused Composites (one or several outputs).

The kernel of ``Elemwise(scalar_op)`` is specialized on the node's input and
output dtypes only: the loops are written once per element type, and the
driver of ``kernels/c/elemwise.h`` walks any rank, broadcast, stride or
layout.  For each element the loop loads every input into a local, runs the
scalar op's C statements (:mod:`theanolab.backends.c.scalar`), and stores the
outputs; the loop is marked ``omp simd`` and compiled for several vector
widths, with glibc's vector math library where it exists, and the driver
feeds it every element (strided ones through buffers), so a value never
depends on its position, layout or fusion.  ``config.openmp`` shares large outputs between threads
(``config.openmp_elemwise_minsize`` elements or more): both settings are in
the generated code, so they give distinct kernels.

The output shape follows Theano's rule (inputs agree on every axis their
types do not declare broadcastable), checked in Python with the reference's
message before the outputs are allocated (in C, with the same message, in a
whole-function driver).  Dtypes the reference computes
differently than C could (float16, complex) get no kernel, and the node
runs ``Elemwise.perform``.
"""

from __future__ import annotations

import functools

import numpy as np

from theanolab.backends.c import scalar
from theanolab.backends.c.build import compiler_command
from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.backends.c.kernels.basic import C_TYPES, c_format, openmp_settings, platform_options
from theanolab.tensor.elemwise import Elemwise, _check_lengths

__all__ = ["elemwise_kernel", "elemwise_source"]

def _loop(name, in_dtypes, out_dtypes, body, single):
    """The loop over ``m`` contiguous elements of every operand: load, compute, store; vectorized.

    An input in ``single`` holds one element (its type is broadcastable on
    every axis): it is read once, before the loop, instead of being repeated
    into a buffer by the driver (see ``elemwise.h``).
    """
    nin = len(in_dtypes)
    lines = [f"    const {C_TYPES[d]} *p{k} = (const {C_TYPES[d]} *)ptrs[{k}];" for k, d in enumerate(in_dtypes)]
    lines += [f"    {C_TYPES[d]} *q{j} = ({C_TYPES[d]} *)ptrs[{nin + j}];" for j, d in enumerate(out_dtypes)]
    lines += [f"    const {C_TYPES[in_dtypes[k]]} x{k} = p{k}[0];" for k in single]
    lines += ["#pragma omp simd", "    for (int64_t i = 0; i < m; i++) {"]
    lines += [f"        const {C_TYPES[d]} x{k} = p{k}[i];" for k, d in enumerate(in_dtypes) if k not in single]
    lines += [f"        {C_TYPES[d]} y{j};" for j, d in enumerate(out_dtypes)]
    lines += [f"        {line}" for line in body]
    lines += [f"        q{j}[i] = y{j};" for j in range(len(out_dtypes))]
    lines.append("    }")
    return (f"TL_VECTOR_CLONES static void {name}_loop(int64_t m, char *const *ptrs, const int64_t *flags)\n"
            "{\n    (void)flags;\n" + "\n".join(lines) + "\n}\n")


@functools.lru_cache(maxsize=512)
def elemwise_source(scalar_op, in_dtypes, out_dtypes, openmp, minsize, single=()):
    """``(name, C code)`` of the kernel applying ``scalar_op`` to these dtypes, or None if it has no C.

    ``single``: the inputs that hold one element (see :func:`single_inputs`).
    """
    args, scans = scalar.input_values(in_dtypes, lambda k: f"flags[{k}]")
    outputs = [scalar.Value(f"y{j}", dtype) for j, dtype in enumerate(out_dtypes)]
    body = scalar.c_statements(scalar_op, args, outputs, scalar.name_source())
    if body is None:
        return None
    loop = _loop("LOOP", in_dtypes, out_dtypes, body, single)
    itemsizes = ", ".join(str(np.dtype(d).itemsize) for d in (*in_dtypes, *out_dtypes))
    prescans = "".join(
        f"    flags[{k}] = tl_any_negative(&inputs[{k}], {np.dtype(in_dtypes[k]).itemsize}, "
        f"{int(np.dtype(in_dtypes[k]).kind == 'f')});\n" for k in sorted(scans))
    nin, nout = len(in_dtypes), len(out_dtypes)
    wrapper = (f"int LOOP(const tl_array *inputs, tl_array *outputs, char *error)\n{{\n"
               f"    static const int64_t itemsizes[] = {{{itemsizes}}};\n"
               f"    static const char single[] = {{{', '.join('1' if k in single else '0' for k in range(nin))}}};\n"
               f"    int64_t flags[{nin}] = {{0}};\n{prescans}"
               f"    return tl_elemwise({nin}, {nout}, inputs, outputs, itemsizes, single, LOOP_loop, flags, "
               f"{minsize}LL, error);\n}}\n")
    described = str(scalar_op).replace("*/", "* /")
    header = f"/* {described} on ({', '.join(in_dtypes)}) -> ({', '.join(out_dtypes)}) */\n"
    code = header + loop + wrapper
    name = kernel_name(f"elemwise_{type(scalar_op).__name__.lower()}", code, openmp)
    return name, code.replace("LOOP", name)


def single_inputs(node):
    """The inputs of ``node`` whose type is broadcastable on every axis: one element each, at run time."""
    return tuple(k for k, var in enumerate(node.inputs) if all(var.type.broadcastable))


def _shape_rule(node):
    """``output_shapes(arrays)``: the broadcast shape, after the reference's length check."""
    nout = len(node.outputs)
    deciders = _deciders(node)

    def output_shapes(arrays):
        first = arrays[0].shape
        if all(a.shape == first for a in arrays):
            return [first] * nout
        _check_lengths(node, arrays)
        shape = tuple(arrays[ks[0]].shape[axis] if ks else 1 for axis, ks in enumerate(deciders))
        return [shape] * nout

    return output_shapes


def _deciders(node):
    """Per output axis, the inputs whose type does not declare it broadcastable: they decide its length."""
    return [[k for k, var in enumerate(node.inputs) if not var.type.broadcastable[axis]]
            for axis in range(node.outputs[0].type.ndim)]


#: ``_check_lengths``'s message, with the holes the C check fills.
_MISMATCH = ("Input dimension mismatch: input ", "%d", " has length ", "%lld", " on axis ", "%d", " but input ",
             "%d", " has length ", "%lld", " (shapes ", "%s", "); only axes declared broadcastable "
             "(T.row, T.col, dimshuffle('x', ...)) may be stretched")


def _c_shape_rule(node):
    """The shape rule in C: the same lengths and the same check, word for word, as ``_shape_rule``."""
    checks = []
    for axis, ks in enumerate(_deciders(node)):
        for k in ks[1:]:
            checks.append(
                f"    if (inputs[{k}].shape[{axis}] != inputs[{ks[0]}].shape[{axis}]) {{\n"
                f"        char shapes[TL_ERROR_SIZE / 2];\n"
                f"        tl_format_shapes(shapes, sizeof shapes, inputs, {len(node.inputs)});\n"
                f"        snprintf(error, TL_ERROR_SIZE, {c_format(*_MISMATCH)}, {ks[0]}, "
                f"(long long)inputs[{ks[0]}].shape[{axis}], {axis}, {k}, (long long)inputs[{k}].shape[{axis}], "
                f"shapes);\n        return 1;\n    }}\n")
    dims = [f"inputs[{ks[0]}].shape[{axis}]" if ks else "1" for axis, ks in enumerate(_deciders(node))]
    return c_shape_rule("elemwise", dims * len(node.outputs), "".join(checks))


@c_kernel.register(Elemwise)
def elemwise_kernel(op, node):
    """The CKernel of an Elemwise node, or None (its dtypes or scalar op have no exact C)."""
    openmp, minsize, build = openmp_settings()
    source = elemwise_source(op.scalar_op, tuple(v.type.dtype for v in node.inputs),
                             tuple(v.type.dtype for v in node.outputs), openmp, minsize, single_inputs(node))
    if source is None:
        return None
    name, code = source
    options = platform_options(compiler_command()[0])
    return CKernel(
        name=name, code=code, output_shapes=_shape_rule(node), c_shapes=_c_shape_rule(node), ops=str(op),
        headers=("theanolab.h", *scalar.HEADERS, "elemwise.h"),
        libraries=options.get("libraries", ()),
        extra_compile_args=options["extra_compile_args"] + build.get("extra_compile_args", ()),
        extra_link_args=build.get("extra_link_args", ()),
    )
