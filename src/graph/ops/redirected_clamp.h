#pragma once
// clamp(x, lo, hi) whose backward is Lucid's redirected ReLU gradient (see
// featvis/graph/relu_gradient.h). Either bound may be absent (Relu = lower bound 0).
#include <ATen/ATen.h>
#include <c10/util/Optional.h>

namespace featvis::ops {

at::Tensor redirected_clamp(const at::Tensor& x, c10::optional<double> lo, c10::optional<double> hi);

}  // namespace featvis::ops
