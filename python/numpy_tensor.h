#pragma once
// Copies between numpy arrays and at::Tensor, so that the module needs no torch on the
// Python side.
#include <pybind11/numpy.h>

#include <ATen/ATen.h>

namespace featvis::python {

// A float32 copy of any numeric array (other dtypes are cast), same shape.
at::Tensor tensor_from_numpy(const pybind11::array& array);

// A float32 numpy copy of a tensor (moved to the CPU first), same shape.
pybind11::array_t<float> numpy_from_tensor(const at::Tensor& tensor);

}  // namespace featvis::python
