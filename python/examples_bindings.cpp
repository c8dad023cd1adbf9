// featvis.examples: dataset_examples::build_examples_dir, the work of `featvis examples`
// (a resumable scan, then index.json and crop thumbnails), and its index as Python values.
#include "bindings.h"
#include "long_call.h"
#include "numpy_tensor.h"
#include "picture.h"

#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/dataset_examples/scan.h>
#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;
namespace de = featvis::dataset_examples;
namespace fs = std::filesystem;

namespace {

struct PyExamples {
  std::shared_ptr<model::Model> model;
  std::string dir;
  de::ExamplesIndex index;  // empty when the scan was interrupted
  int64_t images = 0, images_done = 0, images_scanned = 0, resumed_from = 0;
  double seconds = 0;
  bool interrupted = false;
  std::vector<std::string> skipped;

  const de::LayerIndex& layer(const std::string& name) const {
    if (interrupted) throw Error("the scan was interrupted; call featvis.examples again to resume it");
    const std::string full = graph::resolve_layer(model->graph, name);
    for (const de::LayerIndex& l : index.layers)
      if (l.name == full) return l;
    throw Error("layer '" + full + "' was not scanned into " + dir);
  }

  const de::UnitExamples& unit(const std::string& layer_name, int64_t unit) const {
    const de::LayerIndex& l = layer(layer_name);
    for (const de::UnitExamples& u : l.units)
      if (u.unit == unit) return u;
    throw Error("unit " + std::to_string(unit) + " is out of range for layer '" + l.name + "' (" +
                std::to_string(l.units.size()) + " units)");
  }
};

const std::vector<de::ExampleEntry>& entries(const de::UnitExamples& u, const std::string& kind) {
  if (kind == "top_max") return u.top_max;
  if (kind == "top_mean") return u.top_mean;
  if (kind == "bottom_mean") return u.bottom_mean;
  throw Error("unknown examples list '" + kind + "' (top_max, top_mean, bottom_mean)");
}

py::list unit_entries(const PyExamples& e, const std::string& layer, int64_t unit, const std::string& kind) {
  py::list out;
  for (const de::ExampleEntry& x : entries(e.unit(layer, unit), kind)) {
    py::dict d(py::arg("image") = (fs::path(e.index.images_root) / e.index.images.at(static_cast<size_t>(x.image))).string(),
               py::arg("score") = x.score);
    if (x.position) d["position"] = py::make_tuple((*x.position)[0], (*x.position)[1]);
    if (!x.crop.empty()) {
      d["box"] = py::make_tuple(x.box[0], x.box[1], x.box[2], x.box[3]);
      d["crop"] = (fs::path(e.dir) / x.crop).string();
    }
    out.append(d);
  }
  return out;
}

// The crop thumbnails of a unit's top photos (by maximum), [3,h,w] in [0,1].
std::vector<at::Tensor> unit_crops(const PyExamples& e, const std::string& layer, int64_t unit) {
  std::vector<at::Tensor> out;
  for (const de::ExampleEntry& x : e.unit(layer, unit).top_max) {
    const at::Tensor rgb8 = image::load_image_rgb8((fs::path(e.dir) / x.crop).string());
    out.push_back(rgb8.permute({2, 0, 1}).to(at::kFloat) / 255);
  }
  return out;
}

PyExamples from_index(const std::shared_ptr<model::Model>& model, const std::string& dir, de::ExamplesIndex index) {
  PyExamples e;
  e.model = model;
  e.dir = dir;
  e.index = std::move(index);
  e.images = static_cast<int64_t>(e.index.images.size());
  e.images_done = e.images;
  return e;
}

PyExamples examples(const std::shared_ptr<model::Model>& model, const std::string& images_root, const std::string& out,
                    const py::object& layers, int64_t top, int64_t batch, int64_t checkpoint_every, int thumbnail,
                    bool progress) {
  de::ScanOptions options;
  if (layers.is_none() || (py::isinstance<py::str>(layers) && layers.cast<std::string>() == "all")) {
    options.layers = de::card_ranking_tensors(*model);
  } else if (py::isinstance<py::str>(layers)) {
    options.layers = {graph::resolve_layer(model->graph, layers.cast<std::string>())};
  } else {
    options.layers = graph::resolve_layers(model->graph, layers.cast<std::vector<std::string>>());
  }
  if (top < 1) throw SettingError("top", "top must be at least 1, got " + std::to_string(top));
  if (batch < 1) throw SettingError("batch", "batch must be at least 1, got " + std::to_string(batch));
  if (checkpoint_every < 1) throw SettingError("checkpoint_every", "checkpoint_every must be at least 1");
  de::CropOptions crops;
  crops.size = thumbnail;
  de::check_crop_options(crops);
  options.top_k = top;
  options.batch_size = batch;
  options.checkpoint_every = checkpoint_every;
  LongCall call(progress);
  options.progress = call.progress();
  options.stop_requested = call.stop_requested();
  de::ExamplesDirResult run;
  {
    py::gil_scoped_release no_gil;
    run = de::build_examples_dir(*model, images_root, out, options, crops);
  }
  PyExamples e = from_index(model, out, std::move(run.index));
  e.images = static_cast<int64_t>(run.images.size());
  e.images_done = run.scan.images_done;
  e.images_scanned = run.scan.images_scanned;
  e.resumed_from = run.scan.resumed_from;
  e.seconds = run.scan.seconds;
  e.interrupted = run.scan.interrupted;
  e.skipped = run.scan.skipped;
  return e;
}

}  // namespace

void bind_examples(py::module_& m) {
  py::class_<PyExamples>(m, "Examples", "Dataset examples: what featvis.examples returns (and load_examples reads).")
      .def_readonly("dir", &PyExamples::dir)
      .def_readonly("images", &PyExamples::images, "photos in the folder")
      .def_readonly("images_done", &PyExamples::images_done, "photos covered (with those of a resumed checkpoint)")
      .def_readonly("images_scanned", &PyExamples::images_scanned, "photos run through the network by this call")
      .def_readonly("resumed_from", &PyExamples::resumed_from)
      .def_readonly("seconds", &PyExamples::seconds)
      .def_readonly("interrupted", &PyExamples::interrupted,
                    "True when Ctrl-C stopped the scan: the checkpoint is kept, call again to resume")
      .def_readonly("skipped", &PyExamples::skipped, "unreadable photos, 'path: reason'")
      .def_property_readonly("layers", [](const PyExamples& e) {
        std::vector<std::string> names;
        for (const auto& l : e.index.layers) names.push_back(l.name);
        return names;
      })
      .def("unit", &unit_entries, py::arg("layer"), py::arg("unit"), py::arg("kind") = "top_max",
           "A unit's examples, best first: dicts with image (path), score and, for top_max, position, box "
           "(x0, y0, x1, y1 in network-input pixels) and crop (thumbnail path). kind: top_max, top_mean or "
           "bottom_mean.")
      .def("crops",
           [](const PyExamples& e, const std::string& layer, int64_t unit) {
             py::list out;
             for (const at::Tensor& crop : unit_crops(e, layer, unit)) out.append(numpy_from_tensor(crop.permute({1, 2, 0})));
             return out;
           },
           py::arg("layer"), py::arg("unit"),
           "The crop thumbnails of the unit's top photos (by maximum) as (h, w, 3) arrays in [0, 1].")
      .def("sheet",
           [](const PyExamples& e, const std::string& layer, int64_t unit, int64_t columns) {
             return contact_sheet_of(unit_crops(e, layer, unit), columns);
           },
           py::arg("layer"), py::arg("unit"), py::arg("columns") = 0, "The crops side by side, as a featvis.Picture.");
  m.def("examples", &examples, py::arg("model"), py::arg("images"), py::arg("out"), py::arg("layers") = "all",
        py::kw_only(), py::arg("top") = 9, py::arg("batch") = 16, py::arg("checkpoint_every") = 64,
        py::arg("thumbnail") = 128, py::arg("progress") = true,
        "Dataset examples as `featvis examples MODEL --images IMAGES --out OUT`: one pass over a folder of "
        "photos keeping each unit's top photos; writes OUT/index.json and crop thumbnails. layers: 'all' (the "
        "card's), a name or a list (short names work). Ctrl-C stops after a batch with a checkpoint; the same "
        "call resumes.");
  m.def("load_examples",
        [](const std::shared_ptr<model::Model>& model, const std::string& dir) {
          return from_index(model, dir, de::read_examples_index((fs::path(dir) / "index.json").string()));
        },
        py::arg("model"), py::arg("dir"), "An examples directory written before (by featvis.examples or the CLI).");
}

}  // namespace featvis::python
