/* host_emulation.h: compile a CUDA kernel of ours as C, for the GPU simulator
 * (theanolab/backends/cuda/simulator.py), so the CUDA sources are run and tested on machines
 * without a GPU.
 *
 * CUDA's qualifiers become C ones (a __device__ function is an ordinary static inline one, a
 * kernel an ordinary function), and the built-in thread coordinates are thread-local globals that
 * the simulator's launcher sets before calling the kernel once per (block, thread): threads run
 * one after another, so a kernel that synchronizes its threads (__syncthreads, __shared__
 * memory) cannot be simulated and the simulator refuses it.  Thread-local, because cffi releases
 * the GIL: two Python threads may launch kernels of one module at the same time.
 *
 * Math functions are C99 <math.h>'s, with the names CUDA's device library gives them.
 */
#ifndef THEANOLAB_HOST_EMULATION_H
#define THEANOLAB_HOST_EMULATION_H

#include <stdint.h>
#include <math.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ restrict
#define TL_KERNEL

typedef struct {
    unsigned int x, y, z;
} tl_dim3;

static _Thread_local tl_dim3 blockIdx, threadIdx, blockDim, gridDim;

#endif
