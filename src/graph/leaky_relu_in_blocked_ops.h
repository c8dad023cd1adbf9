#pragma once
// A frozen-graph pass for FrozenForward: LeakyReLU (darknet, YOLO-style backbones) written
// with ops that LibTorch 1.13's oneDNN conversion keeps in the blocked layout. That
// conversion knows ReLU, scalar multiplies and adds but not `leaky_relu`, so each one left
// the chain: a reorder out of the blocked layout before it and one back after it (16 pairs
// in darknet_tiny). For 0 <= a <= 1, leaky_relu(x, a) = a*x + (1 - a)*relu(x): the negative
// side is a*x exactly, the positive side a*x + (1-a)*x, equal to x up to one rounding.
#include <torch/csrc/jit/ir/ir.h>

#include <memory>

namespace featvis::graph {

// Rewrites `graph` in place; returns how many leaky_relu nodes it replaced. A slope that
// is not a constant in [0, 1] is left as it is.
int leaky_relu_in_blocked_ops(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace featvis::graph
