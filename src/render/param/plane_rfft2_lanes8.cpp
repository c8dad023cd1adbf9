// plane_rfft2's kernels with 8 lanes (AVX2), run only where the CPU has AVX2. The instruction
// set comes from `#pragma GCC target` around the kernels alone, not from -mavx2 on the file:
// with the flag, the standard library's templates instantiated here (vector's growth, say)
// would be AVX2 code that the linker may keep for the whole program. Compiled with
// -ffp-contract=off and without FMA: the same bits as 4 and 16 lanes.
#include <featvis/render/param/plane_rfft2.h>
#if FEATVIS_RFFT2_WIDE_LANES
#include "plane_rfft2_kernels_includes.h"
#pragma GCC push_options
#pragma GCC target("avx2")
typedef float FeatvisRfft2Lanes8 __attribute__((vector_size(32)));
#define FEATVIS_RFFT2_VECTOR FeatvisRfft2Lanes8
#define FEATVIS_RFFT2_LANES_NS lanes8
#include "plane_rfft2_kernels.h"
#pragma GCC pop_options
#endif
