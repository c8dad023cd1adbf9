// plane_rfft2's kernels with 4 lanes: plain x86-64 (SSE2) or any other CPU's 16-byte vectors.
// Compiled with -ffp-contract=off (src/CMakeLists.txt).
#include "plane_rfft2_kernels_includes.h"
typedef float FeatvisRfft2Lanes4 __attribute__((vector_size(16)));
#define FEATVIS_RFFT2_VECTOR FeatvisRfft2Lanes4
#define FEATVIS_RFFT2_LANES_NS lanes4
#include "plane_rfft2_kernels.h"
