/* The anchor of the fused-elementwise benchmark: the sigmoid cross-entropy written by hand.
 *
 *   out[i] = -y log s(z) - (1 - y) log(1 - s(z)) = max(z, 0) - y z + log1p(exp(-|z|))
 *
 * Plain C as a careful programmer writes it: the stable form (one exp, one log1p),
 * one pass over the arrays, the loop shared between OpenMP threads (OMP_NUM_THREADS)
 * and vectorized with `omp simd`, exp and log1p coming from glibc's vector math
 * library (libmvec; GCC calls its SIMD variants under -ffast-math).
 * benchmarks/xent_sigmoid.py compiles it with the system cc and calls it through ctypes.
 */
#include <math.h>
#include <stdint.h>

void xent(const double *z, const double *y, double *out, int64_t n)
{
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const double t = z[i];
        out[i] = fmax(t, 0.0) - y[i] * t + log1p(exp(-fabs(t)));
    }
}
