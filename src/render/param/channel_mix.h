#pragma once
// Mixing the three colour channels of an image by a 3x3 matrix, with its gradient.
#include <ATen/ATen.h>

#include <array>

namespace featvis::render::param::detail {

using Matrix3 = std::array<double, 9>;  // row-major

// out[:, i] = sum_j m[i][j] * t[:, j] for t [N, 3, H, W]; differentiable in t (the
// gradient is the same mix by the transposed matrix).
at::Tensor mix_channels(const at::Tensor& t, const Matrix3& m);

// sigmoid(mix_channels(t, m)), differentiable in t; on the CPU one function, whose backward
// is one pass over the pixels (the sigmoid's derivative and the transposed mix).
at::Tensor mix_channels_sigmoid(const at::Tensor& t, const Matrix3& m);

}  // namespace featvis::render::param::detail
