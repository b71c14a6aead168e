/* scalar.h: helper functions called by the scalar ops' C expressions
 * (theanolab/backends/c/scalar.py), where one C operator does not give
 * NumPy's value:
 *
 *   - floor division and remainder take the sign of the divisor, as Python's;
 *     for floats the quotient and remainder follow NumPy's npy_divmod step by
 *     step (fmod, then a fix-up), so every rounding is NumPy's;
 *   - integer division or remainder by zero gives 0 (NumPy warns and gives 0),
 *     and MIN // -1 wraps to MIN instead of trapping;
 *   - integer powers multiply by repeated squaring, wrapping like NumPy's.
 *
 * Plain C99.  TL_SCALAR_FN qualifies every function, so a GPU renderer can
 * define it (e.g. as `static __device__ inline`) before including this file.
 */
#ifndef THEANOLAB_SCALAR_H
#define THEANOLAB_SCALAR_H

#ifndef __CUDACC_RTC__ /* NVRTC has no system headers: kernels/cuda/prelude.cuh stands in */
#include <stdint.h>
#include <math.h>
#endif

#ifndef TL_SCALAR_FN
#define TL_SCALAR_FN static inline
#endif

/* Quotient rounded down and remainder with the divisor's sign (NumPy's npy_divmod). */
#define TL_FLOAT_DIVISION(S, T, FMOD, FLOOR, COPYSIGN)                               \
    TL_SCALAR_FN T tl_divmod_##S(T a, T b, T *modulus)                               \
    {                                                                                 \
        T mod = FMOD(a, b);                                                           \
        if (!b) {                                                                     \
            *modulus = mod;                                                           \
            return a / b;                                                             \
        }                                                                             \
        T div = (a - mod) / b; /* very nearly an integer multiple of b */             \
        if (mod) {                                                                    \
            if ((b < 0) != (mod < 0)) {                                               \
                mod += b;                                                             \
                div -= (T)1;                                                          \
            }                                                                         \
        } else {                                                                      \
            mod = COPYSIGN((T)0, b);                                                  \
        }                                                                             \
        T floordiv;                                                                   \
        if (div) {                                                                    \
            floordiv = FLOOR(div);                                                    \
            if (div - floordiv > (T)0.5) floordiv += (T)1;                            \
        } else {                                                                      \
            floordiv = COPYSIGN((T)0, a / b);                                         \
        }                                                                             \
        *modulus = mod;                                                               \
        return floordiv;                                                              \
    }                                                                                 \
    TL_SCALAR_FN T tl_floor_divide_##S(T a, T b)                                     \
    {                                                                                 \
        T mod;                                                                        \
        return b ? tl_divmod_##S(a, b, &mod) : a / b;                                 \
    }                                                                                 \
    TL_SCALAR_FN T tl_mod_##S(T a, T b)                                              \
    {                                                                                 \
        T mod;                                                                        \
        if (!b) return FMOD(a, b);                                                    \
        tl_divmod_##S(a, b, &mod);                                                    \
        return mod;                                                                   \
    }

TL_FLOAT_DIVISION(float32, float, fmodf, floorf, copysignf)
TL_FLOAT_DIVISION(float64, double, fmod, floor, copysign)

/* Signed integers: -x computed on the unsigned bits, so -MIN wraps to MIN. */
#define TL_SIGNED_DIVISION(S, T)                                                      \
    TL_SCALAR_FN T tl_floor_divide_##S(T a, T b)                                     \
    {                                                                                 \
        if (b == 0) return 0;                                                         \
        if (b == -1) return (T)(0 - (uint64_t)a);                                     \
        T q = (T)(a / b);                                                             \
        if (((a > 0) != (b > 0)) && (T)(q * b) != a) q = (T)(q - 1);                  \
        return q;                                                                     \
    }                                                                                 \
    TL_SCALAR_FN T tl_mod_##S(T a, T b)                                              \
    {                                                                                 \
        if (b == 0 || b == -1) return 0;                                              \
        T r = (T)(a % b);                                                             \
        return (r != 0 && ((r < 0) != (b < 0))) ? (T)(r + b) : r;                     \
    }

TL_SIGNED_DIVISION(int8, int8_t)
TL_SIGNED_DIVISION(int16, int16_t)
TL_SIGNED_DIVISION(int32, int32_t)
TL_SIGNED_DIVISION(int64, int64_t)

#define TL_UNSIGNED_DIVISION(S, T)                                                    \
    TL_SCALAR_FN T tl_floor_divide_##S(T a, T b) { return b ? (T)(a / b) : 0; }     \
    TL_SCALAR_FN T tl_mod_##S(T a, T b) { return b ? (T)(a % b) : 0; }

TL_UNSIGNED_DIVISION(uint8, uint8_t)
TL_UNSIGNED_DIVISION(uint16, uint16_t)
TL_UNSIGNED_DIVISION(uint32, uint32_t)
TL_UNSIGNED_DIVISION(uint64, uint64_t)

/* base ** exponent (exponent >= 0) modulo 2**64: the low bits are those of any
 * narrower integer type, so casting the result gives NumPy's wrapped power. */
TL_SCALAR_FN uint64_t tl_ipow(uint64_t base, uint64_t exponent)
{
    uint64_t result = 1;
    while (exponent) {
        if (exponent & 1) result *= base;
        base *= base;
        exponent >>= 1;
    }
    return result;
}

#endif
