#include "image_batch.h"

#include "numpy_tensor.h"

#include <featvis/image/network_input.h>
#include <featvis/inference/classify.h>
#include <featvis/util/error.h>

#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

std::string size_text(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

at::Tensor array_batch(const model::Model& model, const py::array& array) {
  const model::Preprocessing& pre = model.card.preprocessing;
  at::Tensor pixels = tensor_from_numpy(array);
  if (pixels.dim() == 3) pixels = pixels.unsqueeze(0);
  // Channels first, as torch lays images out: (N,3,H,W).
  if (pixels.dim() == 4 && pixels.size(3) != 3 && pixels.size(1) == 3) pixels = pixels.permute({0, 2, 3, 1});
  if (pixels.dim() != 4 || pixels.size(3) != 3) {
    throw Error("images must be an array (H,W,3), (N,H,W,3) or (N,3,H,W) of RGB pixels");
  }
  if (pixels.size(1) != pre.height || pixels.size(2) != pre.width) {
    throw Error("images are " + size_text(pixels.size(1), pixels.size(2)) + " but model '" + model.card.name +
                "' takes " + size_text(pre.height, pre.width) + "; pass file paths to have them cropped and resized");
  }
  if (array.dtype().is(py::dtype::of<uint8_t>())) {
    pixels = pixels / 255.0;
  } else if (pixels.numel() > 0 && (pixels.min().item<float>() < 0 || pixels.max().item<float>() > 1)) {
    throw Error("float images must have values in [0, 1]");
  }
  return image::network_input(pixels.permute({0, 3, 1, 2}).contiguous(), pre);
}

}  // namespace

at::Tensor network_batch(const model::Model& model, const py::handle& images) {
  at::Tensor batch;
  if (py::isinstance<py::str>(images)) {
    batch = inference::load_batch({images.cast<std::string>()}, model.card.preprocessing);
  } else if (py::isinstance<py::array>(images)) {
    batch = array_batch(model, images.cast<py::array>());
  } else if (py::hasattr(images, "__array__") || py::hasattr(images, "__array_interface__")) {
    // torch tensors, PIL images and other array-likes, through numpy.
    const py::array array = py::array::ensure(images);
    if (!array) throw Error("images: numpy cannot read a " + std::string(py::str(images.get_type().attr("__name__"))));
    batch = array_batch(model, array);
  } else if (py::isinstance<py::list>(images) || py::isinstance<py::tuple>(images)) {
    std::vector<std::string> paths;
    for (const py::handle item : images) {
      if (!py::isinstance<py::str>(item)) throw Error("images: a list must hold file paths (str)");
      paths.push_back(item.cast<std::string>());
    }
    if (paths.empty()) throw Error("images: the list is empty");
    batch = inference::load_batch(paths, model.card.preprocessing);
  } else {
    throw Error("images must be a file path, a list of paths or a numpy array, not " +
                std::string(py::str(images.get_type().attr("__name__"))));
  }
  return batch.to(model.graph.device());
}

}  // namespace featvis::python
