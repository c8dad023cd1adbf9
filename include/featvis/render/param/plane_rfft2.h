#pragma once
// The FFT image's 2-D real transforms, one float plane at a time, with the SIMD lanes across
// independent 1-D transforms: 16 columns (or rows) in one AVX-512 register instead of one
// transform's butterflies split over a register. This LibTorch's pocketfft is compiled for
// SSE2 and was the largest part of a render step's fixed cost (docs/PERFORMANCE.md).
//
//   irfft2:  image = irfft2(gain * spectrum), "ortho" norm, as ATen's _fft_c2r
//   adjoint: grad_spectrum = gain * r2c(grad_image), "ortho", the bins whose mirror is not
//            stored doubled: ATen's _fft_c2r_backward, then the gain
//
// Even widths whose half and whose height have no prime factor above 13; other sizes stay on
// ATen (plane_rfft2_plan returns null). The kernels are one template compiled three times,
// with 4, 8 (AVX2) and 16 (AVX-512) lanes, all without fused multiply-adds: each lane does the
// same operations in the same order whatever the width, so every CPU gets the same bits.
#include <cstdint>
#include <vector>

// The 8- and 16-lane kernels need GCC's `#pragma GCC target` (plane_rfft2_lanes8.cpp).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FEATVIS_RFFT2_WIDE_LANES 1
#else
#define FEATVIS_RFFT2_WIDE_LANES 0
#endif

namespace featvis::render::param::detail {

// A complex FFT of length n as a sequence of Stockham stages (self-sorting, no bit reversal).
struct LaneFftPlan {
  struct Stage {
    int radix = 0;
    int span = 0;  // the length of the sub-transforms this stage combines (product of earlier radices)
    // Twiddles w^(k r), w = e^(-2 pi i / (span radix)), k < span, 1 <= r < radix: [k * (radix-1) + r-1].
    // The inverse uses the conjugates (imag negated, stored).
    std::vector<float> re, im, im_inverse;
    // Odd radices: cos and sin(2 pi j k / radix) for 1 <= j, k <= (radix-1)/2, [(j-1) * half + k-1].
    std::vector<float> cos_jk, sin_jk;
  };
  int n = 1;
  std::vector<Stage> stages;
};

struct PlaneRfft2Plan {
  int64_t h = 0, w = 0;
  int64_t half = 0;  // w / 2: the row transforms are complex FFTs of this length
  LaneFftPlan columns;   // length h
  LaneFftPlan rows;      // length w / 2
  float norm = 0;        // 1 / sqrt(h w), the "ortho" norm
  // e^(2 pi i k / w), k <= w / 2: packs a real row of w into w / 2 complex values and back.
  std::vector<float> pack_re, pack_im;
  // The adjoint's factor per column k <= w / 2: norm, twice that where the mirror is not stored.
  std::vector<float> column_factor;
};

// The plan for h x w planes, made once per size; null where these kernels do not apply.
const PlaneRfft2Plan* plane_rfft2_plan(int64_t h, int64_t w);

// spectrum and gain: [h][w/2+1][2] floats; image: [h][w].
void plane_irfft2(const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image);
// grad_image: [h][w]; gain and grad_spectrum: [h][w/2+1][2].
void plane_rfft2_adjoint(const PlaneRfft2Plan& plan, const float* grad_image, const float* gain, float* grad_spectrum);

// Each lane width's kernels (plane_rfft2_lanes*.cpp); the functions above pick the widest the
// CPU runs. Exposed so the test can check that all widths give the same bits.
enum class Rfft2Lanes { k4, k8, k16 };
bool cpu_runs(Rfft2Lanes lanes);
void plane_irfft2(Rfft2Lanes lanes, const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image);
void plane_rfft2_adjoint(Rfft2Lanes lanes, const PlaneRfft2Plan& plan, const float* grad_image, const float* gain,
                         float* grad_spectrum);

#define FEATVIS_RFFT2_DECLARE_LANES(ns)                                                                            \
  namespace ns {                                                                                                   \
  void irfft2(const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image);                 \
  void adjoint(const PlaneRfft2Plan& plan, const float* grad_image, const float* gain, float* grad_spectrum);      \
  }
FEATVIS_RFFT2_DECLARE_LANES(lanes4)
FEATVIS_RFFT2_DECLARE_LANES(lanes8)
FEATVIS_RFFT2_DECLARE_LANES(lanes16)
#undef FEATVIS_RFFT2_DECLARE_LANES

}  // namespace featvis::render::param::detail
