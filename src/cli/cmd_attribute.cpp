// featvis attribute MODEL IMAGE: which pixels of a photo a target depends on. Writes the
// heatmap PNG, an overlay on the photo, the raw values (.npy) and a JSON summary.
#include "cli_common.h"
#include "commands.h"

#include <featvis/attribution/attribution.h>
#include <featvis/attribution/heatmap.h>
#include <featvis/attribution/overlay.h>
#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>
#include <featvis/io/npy.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct AttributeArgs {
  std::string model, image, target, method = "saliency", baseline = "black", smooth_on = "saliency", layer, overlay;
  double clip_percentile = 99;
  bool quiet = false;
  std::string out = "attribution.png";
  attribution::AttributionOptions options;
  RunOptions run;
};

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

// The options that shaped this result (those of other methods are left out).
nlohmann::ordered_json options_json(const attribution::AttributionOptions& o) {
  using attribution::Method;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  const Method m = o.method == Method::kSmoothGrad ? o.smoothgrad.on : o.method;
  if (o.method == Method::kSmoothGrad) {
    const attribution::SmoothGradOptions& sg = o.smoothgrad;
    j["smooth_on"] = attribution::to_string(sg.on);
    j["smooth_samples"] = sg.samples;
    j["smooth_sigma"] = sg.sigma;
    j["seed"] = sg.seed;
  }
  if (m == Method::kIntegratedGradients) {
    const attribution::IntegratedGradientsOptions& ig = o.integrated_gradients;
    j["baseline"] = attribution::to_string(ig.baseline);
    if (ig.baseline == attribution::Baseline::kBlur) j["blur_sigma"] = ig.blur_sigma;
    j["steps"] = ig.steps;
    j["rule"] = ig.adaptive ? "adaptive trapezoid" : "trapezoid";
  }
  if (m == Method::kOcclusion) {
    j["window"] = o.occlusion.window;
    j["stride"] = o.occlusion.stride;
    j["fill"] = o.occlusion.fill;
  }
  if (m == Method::kLrp) {
    j["lrp_composite"] = o.lrp.composite;
    j["lrp_epsilon"] = o.lrp.epsilon;
    j["lrp_gamma"] = o.lrp.gamma;
    j["lrp_ignore_bias"] = o.lrp.ignore_bias;
  }
  if (m == Method::kIntegratedGradients || m == Method::kOcclusion) j["batch"] = o.batch;
  return j;
}

void run_attribute(AttributeArgs& args) {
  attribution::AttributionOptions options = args.options;
  options.method = attribution::parse_method(args.method);
  options.integrated_gradients.baseline = attribution::parse_baseline(args.baseline);
  options.smoothgrad.on = attribution::parse_method(args.smooth_on);
  if (!(args.clip_percentile > 0 && args.clip_percentile <= 100)) {
    throw Error("--clip-percentile must be in (0, 100], got " + number(args.clip_percentile));
  }
  attribution::OverlayOptions display;
  display.style = args.overlay.empty() ? attribution::default_overlay_style(options.method)
                                       : attribution::parse_overlay_style(args.overlay);
  display.clip_percentile = args.clip_percentile;

  const model::Model model = open_model(args.model, args.run);
  if (!args.layer.empty()) options.grad_cam.layer = graph::resolve_layer(model.graph, args.layer);
  const at::Tensor image = image::load_image01(args.image, model.card.preprocessing).to(model.graph.device());
  const objective::Objective target =
      args.target.empty() ? attribution::top1_target(model, image) : objective::parse(args.target, model);
  options.progress = !args.quiet;
  InterruptFlag interrupt;
  options.stop_requested = [&interrupt] { return interrupt.raised(); };
  attribution::Attribution result;
  try {
    result = attribution::attribute(model, target, image, options);
  } catch (const Interrupted& e) {
    // A part-done attribution is no result: nothing is written, and the process dies of
    // SIGINT as the user asked (status 130 in shells).
    std::fprintf(stderr, "featvis: %s; nothing written\n", e.what());
    std::fflush(stderr);
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    std::_Exit(130);
  }

  const fs::path png(args.out);
  const fs::path stem = png.parent_path() / png.stem();
  if (!png.parent_path().empty()) make_output_dir(png.parent_path().string());
  const std::string overlay_path = stem.string() + "_overlay.png";
  const std::string npy_path = stem.string() + ".npy";
  const std::string json_path = stem.string() + ".json";
  const at::Tensor overlay = attribution::overlay(image, result.map, display);
  image::save_png(png.string(), attribution::heatmap(result.map, display.clip_percentile));
  image::save_png(overlay_path, overlay);
  io::save_npy(npy_path, result.raw);

  nlohmann::ordered_json record = {
      {"model", model.card.name},
      {"model_file", model.onnx_path},
      {"image", args.image},
      {"target",
       {{"text", args.target.empty() ? "(top-1 class)" : args.target},
        {"description", target.description()},
        {"value", result.target_value}}},
      {"method", attribution::to_string(options.method)},
      {"options", options_json(options)},
  };
  if (!result.layer.empty()) record["layer"] = result.layer;
  record["map"] = {{"shape", result.map.sizes().vec()},
                   {"min", result.map.min().item<double>()},
                   {"max", result.map.max().item<double>()},
                   {"sum", result.map.sum().item<double>()}};
  record["raw_shape"] = result.raw.sizes().vec();
  record["display"] = {{"overlay", attribution::to_string(display.style)},
                       {"clip_percentile", display.clip_percentile},
                       {"clip_value", attribution::clip_value(result.map, display.clip_percentile)}};
  if (result.completeness) {
    const auto& c = *result.completeness;
    record["completeness"] = {{"attribution_sum", c.attribution_sum},
                              {"target_difference", c.target_difference},
                              {"baseline_value", c.baseline_value},
                              {"relative_error", c.relative_error}};
  }
  if (result.conservation) {
    const auto& c = *result.conservation;
    record["conservation"] = {{"relevance_sum", c.relevance_sum},
                              {"target_value", c.target_value},
                              {"relative_error", c.relative_error}};
  }
  record["forward_passes"] = result.forward_passes;
  record["timing"] = {{"total_ms", result.ms}, {"threads", at::get_num_threads()}, {"device", model.graph.device().str()}};
  record["files"] = {{"heatmap", png.string()}, {"overlay", overlay_path}, {"raw", npy_path}, {"summary", json_path}};
  write_file_atomically(json_path, record.dump(2) + "\n");

  if (args.run.json) {
    std::cout << record.dump(2) << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"model", model.card.name},
      {"target", target.description() + " = " + number(result.target_value)},
      {"method", attribution::to_string(options.method)},
      {"map min / max / sum", number(result.map.min().item<double>()) + " / " +
                                  number(result.map.max().item<double>()) + " / " +
                                  number(result.map.sum().item<double>())},
  };
  if (!result.layer.empty()) rows.push_back({"layer", result.layer});
  if (result.completeness) {
    const auto& c = *result.completeness;
    rows.push_back({"completeness", "sum " + number(c.attribution_sum) + " vs f(x)-f(baseline) " +
                                        number(c.target_difference) + " (error " +
                                        number(100 * c.relative_error) + "%)"});
  }
  if (result.conservation) {
    const auto& c = *result.conservation;
    rows.push_back({"conservation", "relevance sum " + number(c.relevance_sum) + " vs target " +
                                        number(c.target_value) + " (error " + number(100 * c.relative_error) +
                                        "%; biases absorb the rest)"});
  }
  rows.push_back({"time", number(result.ms) + " ms, " + std::to_string(result.forward_passes) + " images forward"});
  rows.push_back({"wrote", png.string() + ", " + overlay_path + ", " + npy_path + ", " + json_path});
  print_table(std::cout, {"attribution", "value"}, rows);
}

}  // namespace

void add_attribute_command(CLI::App& app) {
  auto args = std::make_shared<AttributeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "attribute",
      "Attribution: which pixels of a photo a target depends on (saliency, gradient x input, integrated\n"
      "gradients, SmoothGrad, guided backprop, Grad-CAM, guided Grad-CAM, occlusion, LRP). Writes the heatmap\n"
      "PNG at --out, <stem>_overlay.png (with a colour bar), <stem>.npy (raw values) and <stem>.json (summary).\n"
      "Ctrl-C stops before the next forward pass, writes nothing and exits by SIGINT (130).");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("image", args->image, "photo (JPEG, PNG, WebP, TIFF), cropped as the model card says")->required();
  cmd->add_option("--target", args->target,
                  "an objective, e.g. logit:K, prob:K (K index or label), LAYER:C; `featvis objectives` lists "
                  "all (default: top-1 logit)");
  cmd->add_option("--method,-m", args->method,
                  "saliency, gradxinput, ig, smoothgrad, guided, gradcam, guided-gradcam, occlusion or lrp");
  cmd->add_option("--baseline", args->baseline, "integrated gradients: black or blur");
  cmd->add_option("--steps", args->options.integrated_gradients.steps,
                  "integrated gradients: intervals on the path (trapezoid rule)");
  cmd->add_flag("!--even-steps", args->options.integrated_gradients.adaptive,
                "integrated gradients: equal steps instead of refining where the path integrand is rough");
  cmd->add_option("--smooth-samples", args->options.smoothgrad.samples, "SmoothGrad: noisy copies");
  cmd->add_option("--smooth-sigma", args->options.smoothgrad.sigma,
                  "SmoothGrad: noise std (fraction of pixel range)");
  cmd->add_option("--smooth-on", args->smooth_on, "SmoothGrad: saliency, gradxinput, ig or guided");
  cmd->add_option("--seed", args->options.smoothgrad.seed, "SmoothGrad: noise seed");
  cmd->add_option("--layer", args->layer, "Grad-CAM layer (default: the last spatial layer before the target)");
  cmd->add_option("--window", args->options.occlusion.window, "occlusion: patch side in pixels");
  cmd->add_option("--stride", args->options.occlusion.stride, "occlusion: patch step in pixels");
  cmd->add_option("--lrp-composite", args->options.lrp.composite,
                  "LRP: rules by layer: epsilon-plus (default: z^B first layer, z+ convolutions, epsilon dense), "
                  "epsilon-gamma-box (gamma convolutions), epsilon-alpha2-beta1 or epsilon");
  cmd->add_option("--lrp-epsilon", args->options.lrp.epsilon, "LRP: stabilizer of the epsilon rule and every division");
  cmd->add_option("--lrp-gamma", args->options.lrp.gamma, "LRP: gamma rule's weight on positive parameters");
  cmd->add_flag("--lrp-ignore-bias", args->options.lrp.ignore_bias,
                "LRP: rules leave biases out, so relevance is conserved instead of absorbed by them");
  cmd->add_option("--batch", args->options.batch, "images per forward pass (IG points, occluded copies)");
  cmd->add_option("--out,-o", args->out, "heatmap PNG; the other files are named after it");
  cmd->add_option("--overlay", args->overlay,
                  "blend (heat over the photo in grey) or mask (the photo where |value| is high); default: mask "
                  "for per-pixel methods, blend for gradcam and occlusion");
  cmd->add_option("--clip-percentile", args->clip_percentile,
                  "display: |value| at this percentile is full strength, higher ones are clipped (Captum's default "
                  "is 98; 100 = the maximum)");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar (ig, smoothgrad and occlusion show one)");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_attribute(*args); });
}

}  // namespace featvis::cli
