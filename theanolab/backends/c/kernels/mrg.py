"""C kernel for ``mrg_uniform`` (:mod:`theanolab.random.mrg`): the MRG31k3p generator.

Stream ``j`` of the state matrix gives samples ``j, j + n_streams, ...``
(``kernels/c/mrg31k3p.h`` documents the layout), so the kernel runs stream
by stream, with the state in registers, and writes the same bits as the
NumPy reference.  It reads the states in any layout and writes the advanced
copy as the first output; the input states are never modified.
"""

from __future__ import annotations

from string import Template

from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.backends.c.kernels.basic import c_format
from theanolab.random.mrg import mrg_uniform

__all__ = ["mrg_kernel"]

_KERNEL = Template(r"""
/* inputs: states (n_streams, 6) int32, size (ndim,) int64; outputs: new states (contiguous), sample. */
int $name(const tl_array *inputs, tl_array *outputs, char *error)
{
    const tl_array *states = &inputs[0];
    const int64_t streams = states->shape[0];
    const int64_t n = tl_size(&outputs[1]);
    int32_t *out_states = (int32_t *)outputs[0].data;
    $c_t *sample = ($c_t *)outputs[1].data;
    if (states->ndim != 2 || states->shape[1] != 6 || streams < 1) {
        snprintf(error, TL_ERROR_SIZE, $bad_states, (long long)states->shape[0],
                 (long long)(states->ndim == 2 ? states->shape[1] : 0));
        return 1;
    }
    if (n > TL_MRG_M1) {
        snprintf(error, TL_ERROR_SIZE, $too_many, (long long)n);
        return 1;
    }
    for (int64_t j = 0; j < streams; j++) {
        int64_t s[6];
        for (int c = 0; c < 6; c++)
            s[c] = *(const int32_t *)(states->data + j * states->strides[0] + c * states->strides[1]);
        for (int64_t i = j; i < n; i += streams) sample[i] = $convert(tl_mrg31k3p_next(s));
        for (int c = 0; c < 6; c++) out_states[j * 6 + c] = (int32_t)s[c];
    }
    return 0;
}
""")


def _c_shapes(ndim):
    """The shape rule in C: the states' shape, then the values of the size vector (checked)."""
    value = "(*(const int64_t *)(inputs[1].data + {k} * inputs[1].strides[0]))"
    checks = (f"    if (inputs[1].shape[0] != {ndim}) {{ snprintf(error, TL_ERROR_SIZE, "
              f"{c_format('mrg_uniform: size has ', '%lld', f' entries, not {ndim}')}, "
              "(long long)inputs[1].shape[0]); return 1; }\n")
    checks += "".join(
        f"    if ({value.format(k=k)} < 0) {{ snprintf(error, TL_ERROR_SIZE, "
        f"{c_format('mrg_uniform: negative dimensions are not allowed')}); return 1; }}\n" for k in range(ndim))
    dims = ["inputs[0].shape[0]", "6"] + [value.format(k=k) for k in range(ndim)]
    return c_shape_rule("mrg_uniform", dims, checks)


def _output_shapes(ndim):
    def shapes(arrays):
        states, size = arrays
        if size.shape != (ndim,):
            raise ValueError(f"mrg_uniform: size has {size.shape[0]} entries, not {ndim}")
        if (size < 0).any():
            raise ValueError("mrg_uniform: negative dimensions are not allowed")
        return [(states.shape[0], 6) if states.ndim == 2 else (0, 6), tuple(int(n) for n in size)]
    return shapes


def mrg_kernel(dtype, ndim):
    """The kernel drawing ``ndim``-dimensional ``dtype`` samples (float32 or float64)."""
    if dtype not in ("float32", "float64"):
        return None
    name = kernel_name("mrg_uniform", dtype, ndim)
    code = _KERNEL.substitute(
        name=name, c_t="float" if dtype == "float32" else "double",
        convert="TL_MRG_FLOAT32" if dtype == "float32" else "TL_MRG_FLOAT64",
        bad_states=c_format("mrg_uniform: the generator states must have shape (n_streams >= 1, 6), got (",
                            "%lld", ", ", "%lld", ")"),
        too_many=c_format("mrg_uniform: MRG draws are limited to 2**31 - 1 samples, ", "%lld", " asked for"))
    return CKernel(name=name, code=code, output_shapes=_output_shapes(ndim), c_shapes=_c_shapes(ndim),
                   ops=f"mrg_uniform of {ndim}-dimensional {dtype}", headers=("theanolab.h", "mrg31k3p.h"))


@c_kernel.register(mrg_uniform)
def _(op, node):
    return mrg_kernel(op.output_type.dtype, op.output_type.ndim)
