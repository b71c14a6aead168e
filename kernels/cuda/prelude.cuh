/* prelude.cuh: what the shared C sources (kernels/c/scalar.h, kernels/c/mrg31k3p.h) need to compile
 * as CUDA device code.  The CUDA backend pastes this file, then those headers, at the top of every
 * kernel (theanolab/backends/cuda/sources.py): CuPy compiles with NVRTC, which has no include path
 * of ours and no system headers.
 *
 * - NVRTC (__CUDACC_RTC__) has no <stdint.h> or <math.h>: the fixed-width types and their limits are
 *   defined here (64 bits are `long long` on every platform), and the math functions are NVRTC
 *   built-ins.  nvcc, and the C compiler of the simulator, use the real headers.
 * - NAN and INFINITY, missing under NVRTC, are the bit patterns of the float NaN and infinity.
 * - TL_SCALAR_FN / TL_MRG_FN make the helpers device functions; TL_KERNEL is a kernel with a C
 *   name (what RawKernel looks up).  The simulator's host_emulation.h defines these first.
 */
#ifndef THEANOLAB_CUDA_PRELUDE
#define THEANOLAB_CUDA_PRELUDE

#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define INT8_MIN (-128)
#define INT16_MIN (-32767 - 1)
#define INT32_MIN (-2147483647 - 1)
#define INT64_MIN (-9223372036854775807LL - 1)
#define INT8_MAX 127
#define INT16_MAX 32767
#define INT32_MAX 2147483647
#define INT64_MAX 9223372036854775807LL
#define UINT8_MAX 255
#define UINT16_MAX 65535
#define UINT32_MAX 4294967295U
#define UINT64_MAX 18446744073709551615ULL
#else
#include <stdint.h>
#include <math.h>
#endif

#ifndef NAN
#define NAN __int_as_float(0x7fc00000)
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

#ifndef TL_SCALAR_FN
#define TL_SCALAR_FN static __device__ __forceinline__
#endif
#ifndef TL_MRG_FN
#define TL_MRG_FN static __device__ __forceinline__
#endif
#ifndef TL_KERNEL
#define TL_KERNEL extern "C" __global__
#endif

#endif
