#pragma once
#include <featvis/graph/attributes.h>

#include <cstdint>
#include <string>
#include <vector>

namespace featvis::graph {

// The ai.onnx opset of a model that imports none (ONNX before IR version 3).
inline constexpr int64_t kDefaultOpset = 13;

// One operator application. Input names may be empty strings (ONNX's "optional input
// left out"). Output names are the addressable "layers".
struct Node {
  std::string name;     // ONNX node name (may be empty in the file; filled as "<op>_<index>")
  std::string op_type;  // e.g. "Conv"
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  Attributes attributes;
  int64_t opset = kDefaultOpset;  // the model's ai.onnx opset: some ops changed meaning over versions
};

}  // namespace featvis::graph
