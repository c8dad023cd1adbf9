#pragma once
// Antialiased bilinear downscaling of 8-bit RGB images in plain loops: the filter of
// ATen's _upsample_bilinear2d_aa (PIL's triangle filter, support scaled with the
// reduction; weights and sums in float), without ATen's per-call set-up, which costs more
// than the arithmetic for thumbnail-sized images. The height pass comes first (ATen's
// comes second): it runs on whole rows, and the per-pixel width pass (a pixel's RGB as one
// 4-float vector, a fixed number of taps per output) on fewer of them.
#include <ATen/ATen.h>

namespace featvis::image {

// [H, W, 3] uint8 -> [height, width, 3] uint8 (or [N, H, W, 3] -> [N, height, width, 3],
// the weights computed once for the batch), rounded half to even and clamped as
// preprocess_image rounds. Equal to ATen's result up to float rounding (the pass order,
// fused multiply-adds in ATen's build): a level at a rounding tie can differ by 1
// (tests/dataset_examples/crops_test.cpp: 40 of 367,128 levels).
at::Tensor resize_rgb8_aa(const at::Tensor& images, int64_t height, int64_t width);

}  // namespace featvis::image
