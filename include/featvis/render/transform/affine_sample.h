#pragma once
// One bilinear resampling of an image through an affine map: what the fused transform
// chain (compose with Resampling::kOnce) runs each render step.
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <vector>

namespace featvis::render::transform {

// out[n, c, y, x] = `source` [N,C,H,W] sampled bilinearly at x_in = m[0]*x + m[1]*y + m[2],
// y_in = m[3]*x + m[4]*y + m[5] (m = `to_input`, pixel centres at integers as in Warp),
// neighbours outside the source reading as `fill`: at::grid_sampler's bilinear sampling
// (zeros padding, align_corners false) of source - fill, plus fill. Differentiable in
// `source` (once; its backward is not differentiable again).
at::Tensor affine_sample(const at::Tensor& source, const std::array<double, 6>& to_input, int64_t out_h,
                         int64_t out_w, double fill = 0.0);

// affine_sample of an all-ones [1,1,in_h,in_w] frame, [1,1,out_h,out_w]: how much of each
// output pixel the frame covers (a zero-filling step's mask). Not differentiable.
at::Tensor affine_coverage(int64_t in_h, int64_t in_w, const std::array<double, 6>& to_input, int64_t out_h,
                           int64_t out_w, const at::TensorOptions& options = at::kFloat);

// The same by affine_grid + grid_sampler: what affine_sample runs on devices other than
// the CPU (there, its own loops).
at::Tensor affine_sample_by_grid_sampler(const at::Tensor& source, const std::array<double, 6>& to_input,
                                         int64_t out_h, int64_t out_w, double fill = 0.0);

// The table of taps affine_sample computes once per call, filled `lanes` output pixels at
// a time (1; 4 in AVX2; 8 in AVX-512F; affine_sample takes the widest this CPU runs), for
// tests that compare the loops: {top-left corner y0 * in_w + x0 (int64), the weights of
// (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1) (`dtype`), which of the four lie
// inside (uint8, bits 1, 2, 4, 8)}, each [out_h, out_w]. Empty where this CPU cannot run
// that width.
std::vector<at::Tensor> affine_taps_in_lanes(int lanes, const std::array<double, 6>& to_input, int64_t in_h,
                                             int64_t in_w, int64_t out_h, int64_t out_w, at::ScalarType dtype);

}  // namespace featvis::render::transform
