#pragma once
// The render step's network, forward and input gradient, in oneDNN's blocked layout.
//
// A feature visualization step runs the network up to the target layer and back to the
// image. Through ATen that is one eager op after another in the plain NCHW layout: at batch
// 1 ATen sends MobileNetV2's 1x1 convolutions to its own GEMM path (`_slow_conv2d`) and
// reorders weights and activations to and from oneDNN's layout on every call of the
// others (docs/PERFORMANCE.md, "Where a render step goes"). Here the pruned graph is
// compiled once per (wanted tensors, input shape) into oneDNN primitives: convolutions with
// their ReLU / ReLU6 / LeakyReLU fused, weights reordered once, activations kept blocked
// from the first convolution to the last, and the backward made of oneDNN's own
// backward-data convolutions and eltwise backwards, which take the activation's output
// (where the clamp was inactive), so nothing else is kept for the backward pass.
//
// Which graphs: Conv (any groups, strides, dilations, pads, a zero Pad before it),
// Relu, LeakyRelu (alpha >= 0), Clip, Add of two same-shape tensors, MaxPool and
// AveragePool (no ceil mode or dilation) and GlobalAveragePool; the exact or Lucid's
// redirected ReLU gradient (graph/relu_gradient.h). A graph with other ops too (a
// classifier's Flatten and Gemm after its convolutions) runs the part before them here
// and the rest on ATen's path (Graph::run); the guided gradient, or the mode below at
// kMatchPyTorch (the default), and all of it takes ATen's path.
//
// Why not always: it is the same function computed by other kernels. Forward values differ
// from ATen's by float rounding (~1e-6 relative); gradients too, except where a ReLU6
// input sits within rounding of 0 or 6, whose gradient is then on one side in one path and
// off in the other. PyTorch's own results move the same way with its thread count. So
// parity with PyTorch (tests/parity) is checked on the ATen path, and renders, where the
// optimization amplifies any rounding anyway, opt in (render_loop.cpp).
#include <featvis/graph/graph.h>

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace featvis::graph {

// Which kernels Graph::run uses when it records a gradient to the input, on this thread.
enum class GradientKernels { kMatchPyTorch, kBlocked };
GradientKernels current_gradient_kernels();

class GradientKernelsGuard {
 public:
  explicit GradientKernelsGuard(GradientKernels kernels);
  ~GradientKernelsGuard();
  GradientKernelsGuard(const GradientKernelsGuard&) = delete;
  GradientKernelsGuard& operator=(const GradientKernelsGuard&) = delete;

 private:
  GradientKernels previous_;
};

// Whether this build has the blocked path (oneDNN's headers were found) and the process
// allows it: FEATVIS_BLOCKED_BACKPROP=0 turns it off (to measure both sides with one binary);
// =verbose says on stderr why a graph keeps ATen's kernels.
bool blocked_backprop_enabled();

// Whether the blocked network may take a node of this op (its attributes decide the rest):
// how Graph::run finds the part of a graph to run here.
bool blocked_op(const std::string& op_type);

// One compiled program. Built and cached by Graph::run; exposed for tests and benchmarks.
class BlockedBackprop {
 public:
  // The pruned graph for `wanted` at `input_shape` ([N,C,H,W], float), or nullptr with
  // `why_not` saying which node is not supported.
  static std::shared_ptr<const BlockedBackprop> compile(const Graph& graph, const std::vector<int64_t>& input_shape,
                                                        const std::vector<std::string>& wanted,
                                                        std::string* why_not);
  ~BlockedBackprop();

  // The wanted tensors (dense NCHW), differentiable to `input` when it requires grad.
  TensorMap run(const at::Tensor& input) const;
  // Per channel of each wanted tensor, without autograd: the mean and the maximum over H x W
  // and the maximum's flattened position y*W+x (the first, in that order), each [N, C]
  // (float, float, int64). Read from the blocked layout right after the tensor is made, so
  // no dense copy is written (the examples scan: 53 layers of MobileNetV2 per photo).
  struct ChannelStats {
    at::Tensor mean, max, where;
  };
  std::unordered_map<std::string, ChannelStats> channel_stats(const at::Tensor& input) const;
  // The [N, C, H, W] sizes of a wanted tensor, known from compiling: no forward needed.
  std::vector<int64_t> shape(const std::string& name) const;
  // The bytes of every value the forward makes (dense f32 sizes; the blocked layouts pad
  // channels to 8 or 16): what a batch's activations weigh.
  int64_t value_bytes() const;
  // How many oneDNN primitives the forward has (a fused convolution counts once).
  int forward_primitives() const;
  // The implementations oneDNN chose ("jit:avx512_core", ...), one per forward primitive.
  std::vector<std::string> implementations() const;

  struct Impl;

 private:
  explicit BlockedBackprop(std::unique_ptr<Impl> impl);
  void check_input(const at::Tensor& input) const;  // the compiled shape, float, CPU
  std::shared_ptr<Impl> impl_;
};

}  // namespace featvis::graph
