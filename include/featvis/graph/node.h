#pragma once
#include <featvis/graph/attributes.h>

#include <string>
#include <vector>

namespace featvis {

// One operator application. Input names may be empty strings (ONNX's "optional input
// left out"). Output names are the addressable "layers".
struct Node {
  std::string name;     // ONNX node name (may be empty in the file; filled as "<op>_<index>")
  std::string op_type;  // e.g. "Conv"
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  Attributes attributes;
  int64_t opset = 13;   // the model's ai.onnx opset: some ops changed meaning over versions
};

}  // namespace featvis
