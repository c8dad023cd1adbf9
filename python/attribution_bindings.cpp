// featvis.attribute: attribution::attribute, the function behind `featvis attribute`, with
// its options as keyword arguments; the result is the map as numpy and shows itself as
// the CLI's overlay.
#include "bindings.h"
#include "image_batch.h"
#include "long_call.h"
#include "numpy_tensor.h"
#include "py_objective.h"

#include <featvis/attribution/attribution.h>
#include <featvis/attribution/heatmap.h>
#include <featvis/attribution/overlay.h>
#include <featvis/graph/layer_name.h>
#include <featvis/image/png.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <optional>
#include <string>

namespace featvis::python {

namespace py = pybind11;

namespace {

struct PyAttribution {
  py::array_t<float> map;  // [H,W]
  py::array_t<float> raw;  // [3,H,W] or [H,W]
  std::string method, target;
  double target_value = 0;
  std::string layer;
  std::optional<py::dict> completeness;
  std::optional<py::dict> conservation;
  int64_t forward_passes = 0;
  double ms = 0;
  at::Tensor overlay;  // [3,H+bar,W] as `featvis attribute` writes <stem>_overlay.png
  at::Tensor heatmap;  // [3,H,W]

  py::bytes repr_png() const { return py::bytes(image::encode_png(overlay)); }
};

PyAttribution attribute(const model::Model& model, const py::handle& images, const py::object& target_given,
                        const std::string& method, int64_t steps, const std::string& baseline, bool even_steps,
                        double blur_sigma, int64_t smooth_samples, double smooth_sigma, const std::string& smooth_on,
                        uint64_t seed, const std::optional<std::string>& layer, int64_t window, int64_t stride,
                        int64_t batch, const std::optional<std::string>& overlay_style, double clip_percentile,
                        const std::string& lrp_composite, double lrp_epsilon, double lrp_gamma, bool lrp_ignore_bias,
                        bool progress) {
  attribution::AttributionOptions options;
  options.method = attribution::parse_method(method);
  options.integrated_gradients.baseline = attribution::parse_baseline(baseline);
  options.integrated_gradients.steps = steps;
  options.integrated_gradients.adaptive = !even_steps;
  options.integrated_gradients.blur_sigma = blur_sigma;
  options.smoothgrad.samples = smooth_samples;
  options.smoothgrad.sigma = smooth_sigma;
  options.smoothgrad.on = attribution::parse_method(smooth_on);
  options.smoothgrad.seed = seed;
  if (layer) options.grad_cam.layer = graph::resolve_layer(model.graph, *layer);
  options.occlusion.window = window;
  options.occlusion.stride = stride;
  options.batch = batch;
  options.lrp.composite = lrp_composite;
  options.lrp.epsilon = lrp_epsilon;
  options.lrp.gamma = lrp_gamma;
  options.lrp.ignore_bias = lrp_ignore_bias;
  attribution::OverlayOptions display;
  display.style = overlay_style ? attribution::parse_overlay_style(*overlay_style)
                                : attribution::default_overlay_style(options.method);
  display.clip_percentile = clip_percentile;
  // Checked before the work, with heatmap.cpp's words (it checks again when drawing).
  if (!(clip_percentile > 0 && clip_percentile <= 100)) {
    throw SettingError("clip_percentile", "clip percentile must be in (0, 100], got " + std::to_string(clip_percentile));
  }

  const at::Tensor image = single_image01(model, images).to(model.graph.device()).contiguous();
  std::optional<objective::Objective> target;
  if (!target_given.is_none()) target = objective_for(model, target_given);
  // Ctrl-C stops the method before its next forward pass; featvis::Interrupted then
  // becomes KeyboardInterrupt (errors.cpp): a part-done attribution is no result.
  LongCall call(progress);
  options.progress = call.progress();
  options.stop_requested = call.stop_requested();
  attribution::Attribution result;
  {
    py::gil_scoped_release no_gil;
    if (!target) target = attribution::top1_target(model, image);
    result = attribution::attribute(model, *target, image, options);
  }
  PyAttribution out;
  out.map = numpy_from_tensor(result.map);
  out.raw = numpy_from_tensor(result.raw);
  out.method = attribution::to_string(options.method);
  out.target = target->description();
  out.target_value = result.target_value;
  out.layer = result.layer;
  if (result.completeness) {
    const attribution::Completeness& c = *result.completeness;
    out.completeness = py::dict(py::arg("attribution_sum") = c.attribution_sum,
                                py::arg("target_difference") = c.target_difference,
                                py::arg("baseline_value") = c.baseline_value,
                                py::arg("relative_error") = c.relative_error);
  }
  if (result.conservation) {
    const attribution::Conservation& c = *result.conservation;
    out.conservation = py::dict(py::arg("relevance_sum") = c.relevance_sum, py::arg("target_value") = c.target_value,
                                py::arg("relative_error") = c.relative_error);
  }
  out.forward_passes = result.forward_passes;
  out.ms = result.ms;
  out.overlay = attribution::overlay(image.cpu(), result.map, display);
  out.heatmap = attribution::heatmap(result.map, clip_percentile);
  return out;
}

py::array_t<float> hwc(const at::Tensor& chw) { return numpy_from_tensor(chw.permute({1, 2, 0})); }

}  // namespace

void bind_attribution(py::module_& m) {
  py::class_<PyAttribution>(m, "Attribution",
                            "What featvis.attribute returns: the map (also as np.asarray(result)), the raw values "
                            "and the summary `featvis attribute` writes; a notebook shows the overlay.")
      .def_readonly("map", &PyAttribution::map,
                    "(H, W) float32: max |.| over colours for saliency and guided, the signed colour sum for "
                    "gradxinput and ig, ReLU'd for gradcam, signed for occlusion")
      .def_readonly("raw", &PyAttribution::raw, "the method's signed values: (3, H, W), or (H, W) for gradcam/occlusion")
      .def_readonly("method", &PyAttribution::method)
      .def_readonly("target", &PyAttribution::target, "the objective explained")
      .def_readonly("target_value", &PyAttribution::target_value, "its value on the image")
      .def_readonly("layer", &PyAttribution::layer, "Grad-CAM's layer ('' for other methods)")
      .def_readonly("completeness", &PyAttribution::completeness,
                    "integrated gradients: attribution_sum vs target_difference = f(x) - f(baseline)")
      .def_readonly("conservation", &PyAttribution::conservation,
                    "LRP: relevance_sum at the input vs target_value (biases absorb the difference)")
      .def_readonly("forward_passes", &PyAttribution::forward_passes)
      .def_readonly("ms", &PyAttribution::ms)
      .def_property_readonly("shape", [](const PyAttribution& a) -> py::object { return a.map.attr("shape"); })
      .def_property_readonly("overlay", [](const PyAttribution& a) { return hwc(a.overlay); },
                             "(H + colour bar, W, 3) in [0, 1]: the map on the photo")
      .def_property_readonly("heatmap", [](const PyAttribution& a) { return hwc(a.heatmap); },
                             "(H, W, 3) in [0, 1]: the map in colour")
      .def("__array__", [](const PyAttribution& a, const py::object& dtype) {
             return dtype.is_none() ? py::object(a.map) : a.map.attr("astype")(dtype);
           }, py::arg("dtype") = py::none())
      .def("_repr_png_", &PyAttribution::repr_png, "The overlay with its colour bar, as `featvis attribute` writes it.")
      .def("__repr__", [](const PyAttribution& a) {
        return "featvis.Attribution(" + a.method + ", target " + a.target + ", map " +
               std::string(py::str(a.map.attr("shape"))) + ")";
      });
  m.def("attribution_methods", &attribution::method_names, "The names featvis.attribute's `method` takes.");
  m.def("attribute", &attribute, py::arg("model"), py::arg("image"), py::arg("target") = py::none(),
        py::arg("method") = "saliency", py::kw_only(), py::arg("steps") = 64, py::arg("baseline") = "black",
        py::arg("even_steps") = false, py::arg("blur_sigma") = 12.0, py::arg("smooth_samples") = 16,
        py::arg("smooth_sigma") = 0.15, py::arg("smooth_on") = "saliency", py::arg("seed") = 0,
        py::arg("layer") = py::none(), py::arg("window") = 16, py::arg("stride") = 8, py::arg("batch") = 16,
        py::arg("overlay") = py::none(), py::arg("clip_percentile") = 99.0,
        py::arg("lrp_composite") = attribution::kDefaultLrpComposite, py::arg("lrp_epsilon") = 1e-6,
        py::arg("lrp_gamma") = 0.25, py::arg("lrp_ignore_bias") = false, py::arg("progress") = true,
        "Attribution as `featvis attribute`: which pixels of one image (path, PIL image or array) `target` "
        "(a featvis.Objective or its text form; None: the top-1 logit) depends on. method: "
        "saliency, gradxinput, ig, smoothgrad, guided, gradcam, guided-gradcam, occlusion or lrp; the keyword "
        "options are the CLI's flags (steps and baseline for ig, smooth_* for smoothgrad, layer for gradcam, "
        "window/stride for occlusion, lrp_* for lrp). progress: a tqdm bar over the images sent through the "
        "network for ig, smoothgrad and occlusion. Ctrl-C stops before the next forward pass and raises "
        "KeyboardInterrupt (a part-done attribution is no result).");
}

}  // namespace featvis::python
