#pragma once
// Mixing the three colour channels of an image by a 3x3 matrix, with its gradient.
#include <ATen/ATen.h>

#include <array>

namespace featvis::render::param::detail {

using Matrix3 = std::array<double, 9>;  // row-major

// out[:, i] = sum_j m[i][j] * t[:, j] for t [N, 3, H, W]; differentiable in t (the
// gradient is the same mix by the transposed matrix).
at::Tensor mix_channels(const at::Tensor& t, const Matrix3& m);

}  // namespace featvis::render::param::detail
