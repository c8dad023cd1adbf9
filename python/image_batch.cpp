#include "image_batch.h"

#include "numpy_tensor.h"

#include <featvis/image/image.h>
#include <featvis/image/network_input.h>
#include <featvis/inference/classify.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

std::string size_text(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

std::string type_name(const py::handle& object) { return py::str(object.get_type().attr("__name__")); }

bool type_from_module(const py::handle& object, const std::string& prefix) {
  const std::string module = py::str(object.get_type().attr("__module__"));
  return module.rfind(prefix, 0) == 0;
}

bool all_paths(const py::handle& images) {
  if (py::isinstance<py::str>(images)) return true;
  if (!py::isinstance<py::list>(images) && !py::isinstance<py::tuple>(images)) return false;
  for (const py::handle item : images)
    if (!py::isinstance<py::str>(item)) return false;
  return py::len(images) > 0;
}

// (N,H,W,3) pixels of any strides -> [N,3,H,W] in [0,1], the array itself where it can be.
at::Tensor array_images01(const model::Model& model, const py::array& array, int64_t height, int64_t width) {
  const model::Preprocessing& pre = model.card.preprocessing;
  at::Tensor pixels = tensor_view_of_numpy(array);
  if (pixels.dim() == 3) pixels = pixels.unsqueeze(0);
  // Channels first, as torch lays images out: (N,3,H,W).
  if (pixels.dim() == 4 && pixels.size(3) != 3 && pixels.size(1) == 3) pixels = pixels.permute({0, 2, 3, 1});
  if (pixels.dim() != 4 || pixels.size(3) != 3) {
    throw Error("images must be an array (H,W,3), (N,H,W,3) or (N,3,H,W) of RGB pixels");
  }
  const bool bytes = pixels.scalar_type() == at::kByte;
  if (pixels.size(1) != height || pixels.size(2) != width) {
    if (!bytes) {
      throw Error("images are " + size_text(pixels.size(1), pixels.size(2)) + " but " +
                  (height == pre.height && width == pre.width ? "model '" + model.card.name + "' takes " : "the render is ") +
                  size_text(height, width) +
                  "; pass uint8 photos, PIL images or file paths to have them cropped and resized");
    }
    std::vector<at::Tensor> crops;
    for (int64_t i = 0; i < pixels.size(0); ++i) crops.push_back(image::preprocess_image01(pixels[i], pre, height, width));
    return at::stack(crops);
  }
  const at::Tensor chw = pixels.permute({0, 3, 1, 2});
  if (bytes) return chw.to(at::kFloat).div_(255.0);
  if (chw.numel() > 0 && (chw.min().item<float>() < 0 || chw.max().item<float>() > 1)) {
    throw Error("float images must have values in [0, 1]");
  }
  return chw;
}

// The array numpy sees in `images` (a CPU copy of a torch tensor on another device, the
// RGB pixels of a PIL image), or None.
py::object as_array(const py::handle& images) {
  if (py::isinstance<py::array>(images)) return py::reinterpret_borrow<py::object>(images);
  if (type_from_module(images, "torch") && py::hasattr(images, "detach")) {
    return py::array::ensure(images.attr("detach")().attr("cpu")());
  }
  if (type_from_module(images, "PIL.")) return py::array::ensure(images.attr("convert")("RGB"));
  if (py::hasattr(images, "__array__") || py::hasattr(images, "__array_interface__")) {
    return py::array::ensure(images);
  }
  return py::none();
}

}  // namespace

at::Tensor images01(const model::Model& model, const py::handle& images, int64_t height, int64_t width) {
  const model::Preprocessing& pre = model.card.preprocessing;
  if (height == 0 || width == 0) {
    height = pre.height;
    width = pre.width;
  }
  if (py::isinstance<py::str>(images)) return image::load_image01(images.cast<std::string>(), pre, height, width).unsqueeze(0);
  if (py::isinstance<py::list>(images) || py::isinstance<py::tuple>(images)) {
    std::vector<at::Tensor> parts;
    for (const py::handle item : images) parts.push_back(images01(model, item, height, width));
    if (parts.empty()) throw Error("images: the list is empty");
    return at::cat(parts);
  }
  const py::object array = as_array(images);
  if (array.is_none()) {
    throw Error("images must be a file path, a PIL image, an array or a list of them, not " + type_name(images));
  }
  if (!array) throw Error("images: numpy cannot read a " + type_name(images));
  return array_images01(model, array.cast<py::array>(), height, width);
}

at::Tensor network_batch(const model::Model& model, const py::handle& images) {
  // Paths take the CLI's way (one preprocessing step), so results equal `featvis classify`'s.
  if (all_paths(images)) {
    const std::vector<std::string> paths = py::isinstance<py::str>(images)
                                               ? std::vector<std::string>{images.cast<std::string>()}
                                               : images.cast<std::vector<std::string>>();
    return inference::load_batch(paths, model.card.preprocessing).to(model.graph.device());
  }
  return image::network_input(images01(model, images).to(model.graph.device()), model.card.preprocessing).contiguous();
}

at::Tensor single_image01(const model::Model& model, const py::handle& images) {
  const at::Tensor batch = images01(model, images);
  if (batch.size(0) != 1) throw Error("give one image, not a batch of " + std::to_string(batch.size(0)));
  return batch[0];
}

}  // namespace featvis::python
