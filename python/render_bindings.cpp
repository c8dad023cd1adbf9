// featvis.render: feature visualization through render::Recipe, the recipe `featvis
// render` uses, returning the images and the objective history as Python values.
#include "bindings.h"
#include "image_batch.h"
#include "long_call.h"
#include "numpy_tensor.h"
#include "py_objective.h"

#include <featvis/image/png.h>
#include <featvis/model/model.h>
#include <featvis/render/contact_sheet.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/recipe.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

struct PyRenderResult {
  py::array_t<float> images;  // (N, H, W, 3) in [0, 1]
  std::vector<std::pair<int64_t, std::vector<double>>> history;  // (step, value per item)
  int64_t steps_done = 0;
  bool interrupted = false;
  double ms_per_step = 0;
  py::object importance = py::none();  // (N, H, W) float32 >= 0 for MACO, else None
  at::Tensor sheet;  // [3,H,W]: the image, or a contact sheet of the batch

  // Notebooks show the result as this picture.
  py::bytes repr_png() const { return py::bytes(image::encode_png(sheet)); }
};

PyRenderResult render_objective(const model::Model& model, const py::object& objective_or_text, int64_t steps,
                                std::optional<int64_t> size, std::optional<int64_t> batch,
                                std::optional<std::string> space, std::optional<std::string> transforms,
                                uint64_t seed, const std::vector<int64_t>& thresholds, std::optional<double> lr,
                                const std::string& preset, const py::object& init, bool progress,
                                const std::string& spectrum) {
  const objective::Objective objective = objective_for(model, objective_or_text);
  render::Recipe recipe;
  recipe.preset = preset;
  if (space) recipe.space = render::param::parse_space(*space);
  recipe.transforms = transforms;
  recipe.lr = lr;
  recipe.size = size.value_or(0);
  if (size && *size < 1) throw SettingError("size", "size must be at least 1, got " + std::to_string(*size));
  recipe.batch = batch.value_or(0);
  if (batch && *batch < 1) throw SettingError("batch", "batch must be at least 1, got " + std::to_string(*batch));
  recipe.steps = steps;
  recipe.seed = seed;
  recipe.thresholds = thresholds;
  recipe.spectrum = spectrum;
  render::Prepared prepared = render::prepare(recipe, model, objective);
  if (!init.is_none()) {
    prepared.image.init_image = images01(model, init, prepared.image.height, prepared.image.width);
    if (prepared.image.init_image.size(0) == 1) prepared.image.init_image = prepared.image.init_image[0];
    prepared.image.init_image = prepared.image.init_image.to(model.graph.device());
  }
  // Ctrl-C in Python stops the loop after the current step; the result so far comes back.
  LongCall call(progress);
  prepared.options.progress = call.progress();
  prepared.options.stop_requested = call.stop_requested();
  render::RenderResult result;
  {
    py::gil_scoped_release no_gil;
    result = prepared.run(model, objective);
  }
  PyRenderResult out;
  out.images = numpy_from_tensor(result.images.permute({0, 2, 3, 1}));
  for (const auto& h : result.history) out.history.emplace_back(h.step, h.values);
  out.sheet = result.images.size(0) == 1 ? result.images[0] : render::contact_sheet(result.images);
  out.steps_done = result.steps_done;
  out.interrupted = result.interrupted;
  out.ms_per_step = result.ms_per_step;
  if (result.importance.defined()) out.importance = numpy_from_tensor(result.importance);
  return out;
}

}  // namespace

void bind_render(py::module_& m) {
  py::class_<PyRenderResult>(m, "RenderResult", "What featvis.render returns.")
      .def_readonly("images", &PyRenderResult::images, "(N, H, W, 3) float32 in [0, 1]")
      .def_readonly("history", &PyRenderResult::history,
                    "[(step, [value per item])]: step 0, each threshold, the last step")
      .def_readonly("steps_done", &PyRenderResult::steps_done)
      .def_readonly("interrupted", &PyRenderResult::interrupted, "True when Ctrl-C stopped it early")
      .def_readonly("ms_per_step", &PyRenderResult::ms_per_step)
      .def_readonly("importance", &PyRenderResult::importance,
                    "MACO's transparency map, (N, H, W) >= 0: where the image mattered; None for other params")
      .def("_repr_png_", &PyRenderResult::repr_png, "The images as one PNG (a contact sheet for a batch).");
  m.def("render", &render_objective, py::arg("model"), py::arg("objective"), py::arg("steps") = 512,
        py::arg("size") = py::none(), py::arg("batch") = py::none(), py::arg("param") = py::none(),
        py::arg("transforms") = py::none(), py::arg("seed") = 0, py::arg("thresholds") = std::vector<int64_t>{},
        py::arg("lr") = py::none(), py::arg("preset") = "lucid", py::arg("init") = py::none(),
        py::arg("progress") = true, py::arg("spectrum") = "",
        "Feature visualization by optimization, as `featvis render`: `objective` is a featvis.Objective or "
        "its text form; size/batch/param/transforms/lr left as None take the card's or the preset's value. init: a "
        "start image instead of noise (a path, PIL image or array: DeepDream, caricatures), one for the batch or "
        "one per item. progress: a tqdm bar (plain lines without tqdm). param='maco': spectrum is the .npy of "
        "`featvis spectrum` (default: <model>.spectrum.npy on the model search path).");
}

}  // namespace featvis::python
