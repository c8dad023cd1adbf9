// See leaky_relu_in_blocked_ops.h.
#include "leaky_relu_in_blocked_ops.h"

#include <torch/csrc/jit/ir/constants.h>

#include <vector>

namespace featvis::graph {

int leaky_relu_in_blocked_ops(const std::shared_ptr<torch::jit::Graph>& graph) {
  std::vector<torch::jit::Node*> found;
  for (torch::jit::Node* node : graph->nodes())
    if (node->kind() == c10::aten::leaky_relu && node->inputs().size() == 2) found.push_back(node);
  int replaced = 0;
  for (torch::jit::Node* node : found) {
    const auto slope = torch::jit::toIValue(node->input(1));
    if (!slope || !slope->isScalar()) continue;
    const double a = slope->toScalar().toDouble();
    if (!(a >= 0.0 && a <= 1.0)) continue;
    torch::jit::WithInsertPoint guard(node);
    torch::jit::Value* x = node->input(0);
    torch::jit::Value* scaled = graph->insert(c10::aten::mul, {x, a});
    torch::jit::Value* positive = graph->insert(c10::aten::relu, {x});
    torch::jit::Value* rest = graph->insert(c10::aten::mul, {positive, 1.0 - a});
    torch::jit::Value* sum = graph->insert(c10::aten::add, {scaled, rest});
    node->output()->replaceAllUsesWith(sum);
    node->destroy();
    ++replaced;
  }
  return replaced;
}

}  // namespace featvis::graph
