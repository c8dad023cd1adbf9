#pragma once
// The trained CNN as ONNX bytes. LibTorch's C++ frontend has no ONNX exporter, but the
// network is five layers of four op types, so the graph is written here directly with
// ONNX's protobuf classes (the ones the loader reads).
#include <ATen/ATen.h>

#include <map>
#include <string>

namespace featvis::train {

// `weights`: "conv1.weight", "conv1.bias", ... "fc2.bias" as the module names them.
std::string fashion_cnn_onnx(const std::map<std::string, at::Tensor>& weights);

}  // namespace featvis::train
