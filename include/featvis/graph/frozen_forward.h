#pragma once
// The inference fast path behind Graph::run_inference: for one input shape and one set of
// wanted tensors, Graph::run is traced once into a TorchScript graph whose weights are
// constants, and LibTorch's frozen-graph passes rewrite it the way
// torch.jit.optimize_for_inference does: convolutions fold constant adds and multiplies,
// Conv+Add+ReLU fuse, and chains of convolutions and ReLU/ReLU6/Add run in oneDNN's blocked
// layout with weights reordered once (not on every call, as eager ATen does at 2 threads).
// Two passes of ours run first, so that the chain stays in the blocked layout: a zero pad
// before a convolution (TensorFlow "SAME" exports) becomes that convolution's padding
// (fold_pad_into_convolution.h), and LeakyReLU becomes ops the conversion knows
// (leaky_relu_in_blocked_ops.h).
//
// Why not always: the result is the same function computed by other kernels, so it differs
// from Graph::run (and from PyTorch eager) by float rounding, ~1e-5 relative on
// MobileNetV2's logits. Gradients never go this way; renders and attributions are
// unchanged. Batches of one image keep Graph::run (tracing would cost more than it saves).
// The trace is taken on zeros and checked once against Graph::run on the first real batch
// of its shape; a shape whose program disagrees runs Graph::run for good
// (docs/PERFORMANCE.md). Which way a call goes depends on its shape only, so results do
// not depend on what ran earlier in the process.
#include <featvis/graph/graph.h>

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace featvis::graph {

// Whether run_inference may take the frozen path at all: FEATVIS_FROZEN_FORWARD=0 turns it
// off for the process (to measure both sides with one binary, or to rule it out).
bool frozen_forward_enabled();

// One traced and optimized program for (input shape, wanted tensors). Built by
// Graph::run_inference; exposed for tests and benchmarks.
class FrozenForward {
 public:
  // Traces graph.run(example, wanted) and optimizes it. `example` gives the shape only.
  // Throws featvis::Error when the graph cannot be traced.
  FrozenForward(const Graph& graph, const at::Tensor& example, std::vector<std::string> wanted);
  ~FrozenForward();
  FrozenForward(const FrozenForward&) = delete;
  FrozenForward& operator=(const FrozenForward&) = delete;

  // Runs the optimized program; `input` must have the example's shape, dtype and device.
  TensorMap run(const at::Tensor& input) const;
  // How many convolutions run in oneDNN's blocked layout (0: the passes found nothing).
  int blocked_convolutions() const;
  // How many zero pads became part of the convolution after them (fold_pad_into_convolution).
  int folded_pads() const;
  // How many nodes of one kind the optimized program has ("aten::to_dense": layout changes).
  int op_count(const std::string& kind) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace featvis::graph
