// plane_rfft2's kernels with 8 lanes, compiled with -mavx2 and -ffp-contract=off (no FMA:
// the same bits as 4 and 16 lanes); run only where the CPU has AVX2.
#include <featvis/util/cpu_features.h>
#if FEATVIS_X86_TARGETS && defined(__AVX2__)
typedef float FeatvisRfft2Lanes8 __attribute__((vector_size(32)));
#define FEATVIS_RFFT2_VECTOR FeatvisRfft2Lanes8
#define FEATVIS_RFFT2_LANES_NS lanes8
#include "plane_rfft2_kernels.h"
#endif
