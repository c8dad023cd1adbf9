// featvis.Picture and featvis.contact_sheet: images side by side, shown in a notebook
// through render::contact_sheet (the CLI's batch sheet).
#include "bindings.h"
#include "numpy_tensor.h"
#include "picture.h"

#include <featvis/image/image.h>
#include <featvis/image/png.h>
#include <featvis/render/contact_sheet.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

at::Tensor picture_chw(const py::handle& image) {
  if (py::isinstance<Picture>(image)) return image.cast<const Picture&>().chw;
  if (py::hasattr(image, "detach")) return picture_chw(image.attr("detach")().attr("cpu")());
  const py::array array = py::array::ensure(image);
  if (!array) throw Error("a picture must be an image array, not " + std::string(py::str(image.get_type().attr("__name__"))));
  at::Tensor t = tensor_view_of_numpy(array);
  const bool bytes = t.scalar_type() == at::kByte;
  if (t.dim() == 4 && t.size(0) == 1) t = t[0];
  if (t.dim() == 3 && t.size(2) == 3) t = t.permute({2, 0, 1});
  if (t.dim() != 3 || t.size(0) != 3) throw Error("a picture must be (H,W,3) or (3,H,W) RGB");
  t = t.to(at::kFloat).contiguous();
  return bytes ? t / 255 : t.clamp(0, 1);
}

namespace {

// Pictures of different sizes in cells of the largest: each scaled to fill its cell
// (aspect kept, bilinear), centred on white, so small crops show beside large renders.
at::Tensor same_size(const std::vector<at::Tensor>& pictures) {
  int64_t h = 0, w = 0;
  for (const at::Tensor& p : pictures) {
    h = std::max(h, p.size(1));
    w = std::max(w, p.size(2));
  }
  at::Tensor batch = at::ones({static_cast<int64_t>(pictures.size()), 3, h, w});
  for (size_t i = 0; i < pictures.size(); ++i) {
    at::Tensor p = pictures[i];
    const double scale = std::min(static_cast<double>(h) / p.size(1), static_cast<double>(w) / p.size(2));
    const int64_t ph = std::max<int64_t>(1, std::llround(p.size(1) * scale));
    const int64_t pw = std::max<int64_t>(1, std::llround(p.size(2) * scale));
    if (ph != p.size(1) || pw != p.size(2)) {
      p = at::upsample_bilinear2d(p.unsqueeze(0), {ph, pw}, /*align_corners=*/false)[0].clamp(0, 1);
    }
    const int64_t top = (h - ph) / 2, left = (w - pw) / 2;
    batch[static_cast<int64_t>(i)].slice(1, top, top + ph).slice(2, left, left + pw).copy_(p);
  }
  return batch;
}

}  // namespace

Picture contact_sheet_of(const std::vector<at::Tensor>& pictures, int64_t columns) {
  if (pictures.empty()) throw Error("contact_sheet: no images");
  return Picture{render::contact_sheet(same_size(pictures), columns)};
}

void bind_picture(py::module_& m) {
  py::class_<Picture>(m, "Picture", "An RGB image a notebook shows; np.asarray gives (H, W, 3) floats in [0, 1].")
      .def(py::init([](const py::handle& image) { return Picture{picture_chw(image)}; }), py::arg("image"))
      .def_property_readonly("array", [](const Picture& p) { return numpy_from_tensor(p.chw.permute({1, 2, 0})); })
      .def("__array__", [](const Picture& p, const py::object&) { return numpy_from_tensor(p.chw.permute({1, 2, 0})); },
           py::arg("dtype") = py::none())
      .def("save", [](const Picture& p, const std::string& path) { image::save_png(path, p.chw); }, py::arg("path"),
           "Writes a PNG (atomically).")
      .def("_repr_png_", [](const Picture& p) { return py::bytes(image::encode_png(p.chw)); })
      .def("__repr__", [](const Picture& p) {
        return "featvis.Picture(" + std::to_string(p.chw.size(1)) + "x" + std::to_string(p.chw.size(2)) + ")";
      });
  m.def("contact_sheet",
        [](const py::iterable& images, int64_t columns) {
          std::vector<at::Tensor> pictures;
          for (const py::handle image : images) pictures.push_back(picture_chw(image));
          return contact_sheet_of(pictures, columns);
        },
        py::arg("images"), py::arg("columns") = 0,
        "Images (arrays (H,W,3) or (3,H,W), Pictures, torch tensors) side by side with white gaps, as one Picture; "
        "smaller ones are scaled to the largest one's cell. columns 0 picks a near-square grid.");
}

}  // namespace featvis::python
