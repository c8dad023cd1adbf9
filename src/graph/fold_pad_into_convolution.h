#pragma once
// A frozen-graph pass for FrozenForward: a zero `constant_pad_nd` whose only user is a
// convolution becomes part of that convolution. TensorFlow "SAME" exports pad stride-2
// convolutions asymmetrically ([0,0,1,1]); ATen's convolution takes symmetric padding only,
// so Graph::run pads first, and in the oneDNN program every such pad costs a fill, a copy
// and a to_dense/to_mkldnn round trip (30 % of MobileNetV2's frozen forward).
//
// How, per spatial axis, with A and B the total zeros before and after: the convolution
// gets symmetric padding max(A, B) and its kernel grows by |A - B| zero taps on the side
// that has less padding, so every output reads the same inputs with the same weights (the
// extra taps multiply padding or zero weights). The answer is the same sum with extra exact
// zeros; only oneDNN's summation order may differ (float rounding).
#include <torch/csrc/jit/ir/ir.h>

#include <memory>

namespace featvis::graph {

// Rewrites `graph` in place (weights must already be constants); returns how many pads
// it folded. Pads with another value, negative pads (crops), dilated or transposed
// convolutions and pads with several users are left as they are.
int fold_pad_into_convolution(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace featvis::graph
