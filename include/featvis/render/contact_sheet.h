#pragma once
// Several rendered images side by side in one picture, for batches.
#include <ATen/ATen.h>

#include <cstdint>

namespace featvis::render {

// [N,3,H,W] -> [3, rows*(H+gap)-gap, cols*(W+gap)-gap] with white gaps; `columns` 0
// picks a near-square grid. Unused cells stay white.
at::Tensor contact_sheet(const at::Tensor& images, int64_t columns = 0, int64_t gap = 4);

}  // namespace featvis::render
