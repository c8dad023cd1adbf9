#pragma once
// Every supported ONNX operator is a function from (node attributes, input tensors) to
// output tensors, written with differentiable ATen ops so autograd reaches the input.
#include <featvis/graph/node.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::graph {

// Inputs in ONNX order; an omitted optional input is an undefined at::Tensor.
using OpInputs = std::vector<at::Tensor>;
using OpFunction = std::function<std::vector<at::Tensor>(const Node&, const OpInputs&)>;

// Looks an op up; nullptr if the op is not supported.
const OpFunction* find_op(const std::string& op_type);

// Sorted list of supported op types (for `--help` texts and error messages).
std::vector<std::string> supported_ops();

// Used by the op files to register themselves (see src/graph/ops/*.cpp).
void register_op(const std::string& op_type, OpFunction fn);

}  // namespace featvis::graph
