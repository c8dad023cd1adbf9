#pragma once
// The non-exact rectifier gradients of featvis/graph/relu_gradient.h, for the ops.
#include <ATen/ATen.h>
#include <c10/util/Optional.h>

namespace featvis::graph::ops {

// clamp(x, lo, hi) whose backward is Lucid's redirected ReLU gradient. Either bound may be
// absent (Relu = lower bound 0).
at::Tensor redirected_clamp(const at::Tensor& x, c10::optional<double> lo, c10::optional<double> hi);

// Returns a rectifier's `output` unchanged; when it is part of an autograd graph, its
// incoming gradient is first clamped at zero, so the op's own backward then applies its
// mask to positive gradients only: guided backpropagation.
at::Tensor guided_output(const at::Tensor& output);

}  // namespace featvis::graph::ops
