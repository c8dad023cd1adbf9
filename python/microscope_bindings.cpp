// featvis.microscope.build: microscope::Builder, the work of `featvis microscope build`,
// as a function returning the build summary.
#include "bindings.h"
#include "long_call.h"

#include <featvis/graph/layer_name.h>
#include <featvis/microscope/builder.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

py::dict build(const std::shared_ptr<model::Model>& model, const std::string& site, const std::vector<std::string>& layers,
               const py::object& units, int64_t steps, std::optional<int64_t> size, int64_t batch, int64_t diversity,
               double diversity_weight, uint64_t seed, int64_t thumbnail, const py::object& examples,
               const std::vector<std::string>& photos, bool resume, bool progress, const std::string& param,
               const std::string& spectrum, const std::string& transforms) {
  microscope::BuildOptions options;
  options.site = site;
  options.layers = graph::resolve_layers(model->graph, layers);
  options.units = py::str(units);
  options.render.steps = steps;
  if (size && *size < 8) throw SettingError("size", "size must be at least 8, got " + std::to_string(*size));
  options.render.size = size.value_or(0);
  options.render.batch = batch;
  options.render.diversity = diversity;
  options.render.diversity_weight = diversity_weight;
  options.render.seed = seed;
  options.render.thumb = thumbnail;
  options.render.param = param;
  options.render.spectrum = spectrum;
  options.render.transforms = transforms;
  // A featvis.Examples (its folder) or a folder written by `featvis examples`.
  if (!examples.is_none()) {
    options.examples = py::isinstance<py::str>(examples) ? examples.cast<std::string>() : examples.attr("dir").cast<std::string>();
  }
  options.photos = photos;
  options.resume = resume;
  LongCall call(progress);
  options.progress = call.progress();
  options.stop_requested = call.stop_requested();
  microscope::Builder builder(*model, options);
  microscope::BuildSummary s;
  {
    py::gil_scoped_release no_gil;
    s = builder.build();
  }
  return py::dict(py::arg("site") = site, py::arg("model_dir") = builder.model_dir(),
                  py::arg("manifest") = s.manifest, py::arg("lenses") = builder.lens_names(),
                  py::arg("notes") = builder.notes(), py::arg("units_rendered") = s.units_rendered,
                  py::arg("units_skipped") = s.units_skipped, py::arg("layers_rendered") = s.layers_rendered,
                  py::arg("seconds") = s.seconds, py::arg("seconds_per_unit") = s.seconds_per_unit,
                  py::arg("interrupted") = s.interrupted);
}

}  // namespace

void bind_microscope(py::module_& m) {
  py::module_ ms = m.def_submodule("microscope", "The Microscope site, as `featvis microscope build`.");
  ms.def("build", &build, py::arg("model"), py::arg("site"), py::arg("layers") = std::vector<std::string>{},
         py::kw_only(), py::arg("units") = 16, py::arg("steps") = 256, py::arg("size") = py::none(),
         py::arg("batch") = 16, py::arg("diversity") = 3, py::arg("diversity_weight") = 10.0, py::arg("seed") = 0,
         py::arg("thumbnail") = 128, py::arg("examples") = py::none(), py::arg("photos") = std::vector<std::string>{},
         py::arg("resume") = false, py::arg("progress") = true, py::arg("param") = "fft", py::arg("spectrum") = "", py::arg("transforms") = "",
         "Builds SITE/<model>/... for the layers (default: the card's) and units (N first, or 'all'), with every "
         "lens; examples: a featvis.Examples or a `featvis examples` folder for the examples lens. Files are "
         "written atomically and a finished unit is kept: after Ctrl-C (the summary says interrupted) call again "
         "with resume=True. param: the render lenses' parameterization (fft, pixel, cppn, maco; maco reads spectrum or "
         "<model>.spectrum.npy). transforms: the render lenses' transforms ('' = lucid's standard; 'none' for a model "
         "whose dense layers need the input size kept). Returns the build summary as a dict (manifest is '' when interrupted).");
}

}  // namespace featvis::python
