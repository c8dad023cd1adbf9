// See fold_pad_into_convolution.h.
#include "fold_pad_into_convolution.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/ir/constants.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace featvis::graph {

namespace {

// Where a convolution node keeps its arguments; nullopt for a node that is not one.
// aten::conv2d: (input, weight, bias, stride, padding, dilation, groups);
// aten::convolution and aten::_convolution: (..., dilation, transposed, ...).
struct ConvolutionArgs {
  size_t padding = 4, dilation = 5;
  std::optional<size_t> transposed;
};

std::optional<ConvolutionArgs> convolution_args(const torch::jit::Node* node) {
  if (node->kind() == c10::aten::conv2d) return ConvolutionArgs{};
  if (node->kind() == c10::aten::convolution || node->kind() == c10::aten::_convolution) return ConvolutionArgs{4, 5, 6};
  return std::nullopt;
}

std::optional<std::vector<int64_t>> ints(const torch::jit::Value* v) {
  auto list = torch::jit::constant_as<c10::List<int64_t>>(v);
  if (!list) return std::nullopt;
  return list->vec();
}

// Folds one constant_pad_nd into its user; false (graph untouched) when the pair does not
// qualify.
bool fold(torch::jit::Graph& graph, torch::jit::Node* pad) {
  if (pad->inputs().size() != 3 || pad->output()->uses().size() != 1) return false;
  const torch::jit::Use use = pad->output()->uses()[0];
  torch::jit::Node* conv = use.user;
  const auto args = convolution_args(conv);
  if (!args || use.offset != 0 || conv->inputs().size() <= args->dilation) return false;
  const auto value = torch::jit::toIValue(pad->input(2));
  if (!value || !value->isScalar() || value->toScalar().toDouble() != 0.0) return false;
  const auto pads = ints(pad->input(1));  // last axis first: (W before, W after, H before, H after)
  const auto weight_value = torch::jit::toIValue(conv->input(1));
  const auto padding = ints(conv->input(args->padding));
  const auto dilation = ints(conv->input(args->dilation));
  if (!pads || !weight_value || !weight_value->isTensor() || !padding || !dilation) return false;
  if (args->transposed) {
    const auto transposed = torch::jit::constant_as<bool>(conv->input(*args->transposed));
    if (!transposed || *transposed) return false;
  }
  const at::Tensor weight = weight_value->toTensor();
  if (weight.dim() != 4 || pads->size() != 4 || padding->size() != 2 || dilation->size() != 2) return false;
  if (std::any_of(pads->begin(), pads->end(), [](int64_t p) { return p < 0; })) return false;
  if ((*dilation)[0] != 1 || (*dilation)[1] != 1) return false;

  std::vector<int64_t> new_padding(2), grow_before(2), grow_after(2);
  for (int axis = 0; axis < 2; ++axis) {  // 0: H, 1: W
    const int64_t before = (*pads)[2 * (1 - axis)] + (*padding)[axis];
    const int64_t after = (*pads)[2 * (1 - axis) + 1] + (*padding)[axis];
    new_padding[axis] = std::max(before, after);
    grow_before[axis] = new_padding[axis] - before;  // zero taps where padding was short
    grow_after[axis] = new_padding[axis] - after;
  }
  const at::Tensor grown = at::constant_pad_nd(weight, {grow_before[1], grow_after[1], grow_before[0], grow_after[0]}, 0);

  torch::jit::WithInsertPoint guard(conv);
  conv->replaceInput(0, pad->input(0));
  conv->replaceInput(1, graph.insertConstant(grown));
  conv->replaceInput(args->padding, graph.insertConstant(c10::List<int64_t>(new_padding)));
  pad->destroy();
  return true;
}

}  // namespace

int fold_pad_into_convolution(const std::shared_ptr<torch::jit::Graph>& graph) {
  std::vector<torch::jit::Node*> pads;
  for (torch::jit::Node* node : graph->nodes())
    if (node->kind() == c10::aten::constant_pad_nd) pads.push_back(node);
  int folded = 0;
  for (torch::jit::Node* pad : pads) folded += fold(*graph, pad);
  return folded;
}

}  // namespace featvis::graph
