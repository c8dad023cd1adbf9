#include "numpy_tensor.h"

#include <cstring>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

at::Tensor tensor_from_numpy(const py::array& array) {
  // forcecast + c_style: numpy makes a contiguous float32 view or copy as needed.
  const auto floats = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!floats) throw py::value_error("expected a numeric array");
  std::vector<int64_t> sizes(floats.shape(), floats.shape() + floats.ndim());
  return at::from_blob(const_cast<float*>(floats.data()), sizes, at::kFloat).clone();
}

py::array_t<float> numpy_from_tensor(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end());
  py::array_t<float> out(shape);
  std::memcpy(out.mutable_data(), t.data_ptr<float>(), static_cast<size_t>(t.numel()) * sizeof(float));
  return out;
}

}  // namespace featvis::python
