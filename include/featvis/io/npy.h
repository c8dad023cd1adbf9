#pragma once
// NumPy .npy files (float32/float64/int64, C order) for raw tensors: fixtures from
// Python, direction vectors, attribution maps.
#include <ATen/ATen.h>

#include <string>

namespace featvis::io {

at::Tensor load_npy(const std::string& path);  // throws featvis::Error on bad files
void save_npy(const std::string& path, const at::Tensor& tensor);  // atomic write

}  // namespace featvis::io
