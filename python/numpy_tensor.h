#pragma once
// Between numpy arrays and at::Tensor, so that the module needs no torch on the Python side.
#include <pybind11/numpy.h>

#include <ATen/ATen.h>

namespace featvis::python {

// A float32 copy of any numeric array (other dtypes are cast), same shape.
at::Tensor tensor_from_numpy(const pybind11::array& array);

// The array's own memory as a tensor, without a copy, when it holds uint8 or float32 at
// strides that are whole elements (any order: slices and transposes included); otherwise
// a float32 copy. The tensor keeps a reference to the array while it lives.
at::Tensor tensor_view_of_numpy(const pybind11::array& array);

// A float32 numpy copy of a tensor (moved to the CPU first), same shape.
pybind11::array_t<float> numpy_from_tensor(const at::Tensor& tensor);

}  // namespace featvis::python
