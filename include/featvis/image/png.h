#pragma once
// A [3,H,W] (or [1,H,W]) image in [0, 1] (clamped) as 8-bit PNG bytes in memory: what
// save_png writes, and what a notebook displays (the Python module's _repr_png_).
#include <ATen/ATen.h>

#include <string>

namespace featvis::image {

// Throws featvis::Error for another shape or when encoding fails.
std::string encode_png(const at::Tensor& chw01);

}  // namespace featvis::image
