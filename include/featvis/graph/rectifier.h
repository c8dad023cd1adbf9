#pragma once
// The rectifier (Relu or Clip) that produces a tensor, if any: what a layer would be
// before it, and whether it is capped above (ReLU6 = Clip(0, 6)). Feature visualization
// optimizes the input of such a node (Lucid's "*_pre_relu"), because a capped output
// stops rising and a zero output has no gradient.
#include <featvis/graph/graph.h>

#include <optional>
#include <string>

namespace featvis::graph {

struct Rectifier {
  std::string op;      // "Relu" or "Clip"
  std::string input;   // the pre-activation tensor
  bool capped = false;  // a Clip with an upper bound
  std::optional<double> cap;  // that bound, when it is a constant of the graph
};

// The Relu or Clip node whose output is `tensor`, or nothing (another op, a graph input,
// a weight, an unknown name).
std::optional<Rectifier> rectifier_producing(const Graph& graph, const std::string& tensor);

}  // namespace featvis::graph
