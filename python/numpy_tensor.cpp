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

namespace {

// numpy strides are in bytes and may be negative (a[::-1]); ATen's are whole elements >= 0.
bool strides_are_elements(const py::array& array) {
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    if (array.strides(d) % array.itemsize() != 0 || array.strides(d) < 0) return false;
  }
  return true;
}

at::Tensor borrow(const py::array& array, at::ScalarType type) {
  std::vector<int64_t> sizes, strides;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    sizes.push_back(array.shape(d));
    strides.push_back(array.strides(d) / array.itemsize());
  }
  // The tensor holds a reference to the array, so the memory lives as long as either.
  auto* owner = new py::object(array);
  return at::from_blob(
      const_cast<void*>(array.data()), sizes, strides,
      [owner](void*) {
        py::gil_scoped_acquire gil;
        delete owner;
      },
      at::TensorOptions().dtype(type));
}

}  // namespace

at::Tensor tensor_view_of_numpy(const py::array& array) {
  const bool bytes = array.dtype().is(py::dtype::of<uint8_t>());
  if (!bytes && !array.dtype().is(py::dtype::of<float>())) return tensor_from_numpy(array);
  const at::ScalarType type = bytes ? at::kByte : at::kFloat;
  if (strides_are_elements(array)) return borrow(array, type);
  return borrow(py::array::ensure(array, py::array::c_style), type).clone();
}

py::array_t<float> numpy_from_tensor(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end());
  py::array_t<float> out(shape);
  std::memcpy(out.mutable_data(), t.data_ptr<float>(), static_cast<size_t>(t.numel()) * sizeof(float));
  return out;
}

}  // namespace featvis::python
