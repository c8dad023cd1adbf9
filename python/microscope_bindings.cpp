// featvis.microscope.build: microscope::Builder, the work of `featvis microscope build`,
// as a function returning the build summary.
#include "bindings.h"
#include "long_call.h"

#include <featvis/graph/layer_name.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/microscope/builder.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <filesystem>
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
               const std::string& spectrum, const std::string& transforms, const std::string& image_format,
               const std::vector<std::string>& lenses, const std::optional<std::string>& shard, int64_t shard_count) {
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
  options.render.image_format = image_format;
  options.lenses = lenses;
  // Explicit here (a library call should not change with the environment): "K/N", or
  // "env" for the engine's variables as the CLI reads them.
  if (shard) {
    options.shard = *shard == "env" ? microscope::resolve_shard("", shard_count) : microscope::parse_shard(*shard);
    if (*shard == "env" && !options.shard.sharded())
      throw SettingError("shard", "shard='env' found no SLURM array, Indexed Job or mpirun variables of more than one task");
  }
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
                  py::arg("interrupted") = s.interrupted,
                  py::arg("shard") = options.shard.sharded() ? py::object(py::make_tuple(options.shard.index, options.shard.count))
                                                             : py::object(py::none()));
}

py::dict finalize(const std::shared_ptr<model::Model>& model, const std::string& site, int64_t shards,
                  const std::string& spectrum) {
  const std::string record = site + "/" + dataset_examples::layer_slug(model->card.name) + "/build.json";
  if (!std::filesystem::is_regular_file(record))
    throw Error("'" + site + "' holds no microscope build of '" + model->card.name + "' (no " + record + ")");
  microscope::BuildOptions options = microscope::recorded_build_options(record, site, spectrum);
  options.shard.count = shards > 0 ? shards : 1;  // only to name the shard of what is missing
  microscope::Builder builder(*model, options);
  microscope::FinalizeSummary s;
  {
    py::gil_scoped_release no_gil;
    s = builder.finalize();
  }
  return py::dict(py::arg("manifest") = s.manifest, py::arg("units") = s.units, py::arg("layers") = s.layers,
                  py::arg("missing") = s.missing, py::arg("missing_shards") = s.missing_shards);
}

}  // namespace

void bind_microscope(py::module_& m) {
  py::module_ ms = m.def_submodule("microscope", "The Microscope site, as `featvis microscope build`.");
  ms.def("build", &build, py::arg("model"), py::arg("site"), py::arg("layers") = std::vector<std::string>{},
         py::kw_only(), py::arg("units") = 16, py::arg("steps") = 256, py::arg("size") = py::none(),
         py::arg("batch") = 16, py::arg("diversity") = 3, py::arg("diversity_weight") = 10.0, py::arg("seed") = 0,
         py::arg("thumbnail") = 128, py::arg("examples") = py::none(), py::arg("photos") = std::vector<std::string>{},
         py::arg("resume") = false, py::arg("progress") = true, py::arg("param") = "fft", py::arg("spectrum") = "",
         py::arg("transforms") = "", py::arg("image_format") = "webp", py::arg("lenses") = std::vector<std::string>{},
         py::arg("shard") = py::none(), py::arg("shard_count") = 0,
         "Builds SITE/<model>/... for the layers (default: the card's) and units (N first, or 'all'), with every "
         "lens; examples: a featvis.Examples or a `featvis examples` folder for the examples lens. Files are "
         "written atomically and a finished unit is kept: after Ctrl-C (the summary says interrupted) call again "
         "with resume=True. param: the render lenses' parameterization (fft, pixel, cppn, maco; maco reads spectrum or "
         "<model>.spectrum.npy). transforms: the render lenses' transforms ('' = lucid's standard; 'none' for a model "
         "whose dense layers need the input size kept). image_format: 'webp' (lossy, small) or 'png'. lenses: the lenses to build (default: all "
         "the inputs allow; names as `featvis microscope build --lenses`). shard: 'K/N' builds that share of the work "
         "and no pages, like `--shard K/N` ('env': K/N from SLURM_ARRAY_TASK_*, JOB_COMPLETION_INDEX with "
         "shard_count, or OMPI_COMM_WORLD_*); then microscope.finalize. Returns the build summary as a dict (manifest "
         "is '' when interrupted or sharded).");
  ms.def("finalize", &finalize, py::arg("model"), py::arg("site"), py::kw_only(), py::arg("shards") = 0,
         py::arg("spectrum") = "",
         "After the shards of a build, as `featvis microscope finalize`: writes the manifest and pages from the units "
         "present. Returns {manifest, units, layers, missing, missing_shards}; missing lists 'layer:unit' (with "
         "shards=N, each with its shard) and is empty when the site is complete.");
}

}  // namespace featvis::python
