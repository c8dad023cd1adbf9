// plane_rfft2's kernels with 16 lanes (AVX-512F), run only where the CPU has it; the target
// pragma as in plane_rfft2_lanes8.cpp. -ffp-contract=off, no FMA: the same bits as 4 and 8 lanes.
#include <featvis/render/param/plane_rfft2.h>
#if FEATVIS_RFFT2_WIDE_LANES
#include "plane_rfft2_kernels_includes.h"
#pragma GCC push_options
#pragma GCC target("avx512f")
typedef float FeatvisRfft2Lanes16 __attribute__((vector_size(64)));
#define FEATVIS_RFFT2_VECTOR FeatvisRfft2Lanes16
#define FEATVIS_RFFT2_LANES_NS lanes16
#include "plane_rfft2_kernels.h"
#pragma GCC pop_options
#endif
