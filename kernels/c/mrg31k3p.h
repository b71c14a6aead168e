/* mrg31k3p.h: one step of the MRG31k3p generator (L'Ecuyer and Touzin), shared by every C kernel
 * (and written so a CUDA kernel can include it: plain C99, no library calls, TL_MRG_FN prefix).
 *
 * State layout: an int32 matrix (n_streams, 6); row j = stream j = {x11, x12, x13, x21, x22, x23}.
 * Sample i of a draw comes from stream i % n_streams, so stream j gives samples j, j + n_streams, ...
 * in order: one thread per stream reproduces the sequential order exactly.
 *
 * Every intermediate value is below 2**32, so int64 arithmetic with `if (y >= M) y -= M` is exact
 * (Theano's int32 code relied on wrap-around, which in C is undefined behaviour).
 */
#ifndef THEANOLAB_MRG31K3P_H
#define THEANOLAB_MRG31K3P_H

#ifndef __CUDACC_RTC__ /* NVRTC has no system headers: kernels/cuda/prelude.cuh stands in */
#include <stdint.h>
#endif

#ifndef TL_MRG_FN
#define TL_MRG_FN static inline
#endif

#define TL_MRG_M1 2147483647LL   /* 2**31 - 1 */
#define TL_MRG_M2 2147462579LL   /* 2**31 - 21069 */

/* Advance the state s[6] one step; return the sample's numerator in [1, M1]. */
TL_MRG_FN int64_t tl_mrg31k3p_next(int64_t *s)
{
    int64_t y1 = ((s[1] & 511) << 22) + (s[1] >> 9) + ((s[2] & 16777215) << 7) + (s[2] >> 24);
    if (y1 >= TL_MRG_M1) y1 -= TL_MRG_M1;
    y1 += s[2];
    if (y1 >= TL_MRG_M1) y1 -= TL_MRG_M1;
    s[2] = s[1]; s[1] = s[0]; s[0] = y1;

    int64_t z1 = ((s[3] & 65535) << 15) + 21069 * (s[3] >> 16);
    if (z1 >= TL_MRG_M2) z1 -= TL_MRG_M2;
    int64_t z2 = ((s[5] & 65535) << 15) + 21069 * (s[5] >> 16);
    if (z2 >= TL_MRG_M2) z2 -= TL_MRG_M2;
    z2 += s[5];
    if (z2 >= TL_MRG_M2) z2 -= TL_MRG_M2;
    z2 += z1;
    if (z2 >= TL_MRG_M2) z2 -= TL_MRG_M2;
    s[5] = s[4]; s[4] = s[3]; s[3] = z2;

    return s[0] <= s[3] ? s[0] - s[3] + TL_MRG_M1 : s[0] - s[3];
}

/* The sample in (0, 1]: float64 exactly (numerator * 2**-31), float32 with float32 arithmetic. */
#define TL_MRG_FLOAT64(k) ((double)(k) * 4.656612873077392578125e-10)
#define TL_MRG_FLOAT32(k) ((float)(k) * 4.6566126e-10f)

#endif
