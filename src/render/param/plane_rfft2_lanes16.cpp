// plane_rfft2's kernels with 16 lanes, compiled with -mavx512f and -ffp-contract=off (no
// FMA: the same bits as 4 and 8 lanes); run only where the CPU has AVX-512F.
#include <featvis/util/cpu_features.h>
#if FEATVIS_X86_TARGETS && defined(__AVX512F__)
typedef float FeatvisRfft2Lanes16 __attribute__((vector_size(64)));
#define FEATVIS_RFFT2_VECTOR FeatvisRfft2Lanes16
#define FEATVIS_RFFT2_LANES_NS lanes16
#include "plane_rfft2_kernels.h"
#endif
