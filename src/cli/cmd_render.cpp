// featvis render MODEL OBJECTIVE: feature visualization by optimization (Lucid's
// render_vis). Writes PNG snapshots, a contact sheet for batches and render.json.
#include "cli_common.h"
#include "commands.h"

#include <featvis/image/image.h>
#include <featvis/model/visualization_tensor.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kind_table.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/render/contact_sheet.h>
#include <featvis/render/preset.h>
#include <featvis/render/recipe.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct RenderArgs {
  std::string model, objective;
  std::string preset = "lucid";
  int64_t steps = 512;
  int64_t size = 0;   // 0: the card's input size
  int64_t batch = 0;  // 0: what the objective needs, else 1
  std::string param, squash, transforms;
  bool decorrelate = true;
  double decay_power = 1.0, sd = 0.01, lr = 0, weight_decay = 0;
  int64_t redirect_relu = 0;
  uint64_t seed = 0;
  std::vector<int64_t> thresholds;
  std::string init, out = "featvis-render";
  std::string spectrum;  // maco
  // Feature accentuation: start from this photo, objective + w * distance(photo) per weight.
  std::string accentuate;
  std::vector<double> distance_weights{20.0};
  CLI::Option* distance_weight_opt = nullptr;
  bool quiet = false;
  RunOptions run;
  // Set flags override the preset.
  CLI::Option *param_opt, *squash_opt, *transforms_opt, *decorrelate_opt, *lr_opt, *weight_decay_opt, *redirect_relu_opt;
};

nlohmann::ordered_json values_json(const std::vector<double>& values) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double v : values) a.push_back(v);
  return a;
}

// Feature accentuation (Hamblin et al. 2024), one batch item per distance weight: each
// raises the objective from the photo while w * distance(photo) holds it near.
struct Accentuation {
  objective::Objective objective;
  at::Tensor photo;  // the card's crop in [0, 1]; undefined without --accentuate
};

Accentuation accentuation_for(const RenderArgs& args, const model::Model& model, const objective::Objective& target) {
  if (args.accentuate.empty()) {
    if (args.distance_weight_opt->count()) throw Error("--distance-weight needs --accentuate PHOTO");
    return {};
  }
  if (!args.init.empty()) throw Error("--accentuate starts from its photo; leave out --init");
  if (target.batch_size() > 1) {
    throw Error("--accentuate raises one objective per weight; '" + target.description() + "' needs a batch of " +
                std::to_string(target.batch_size()));
  }
  for (double w : args.distance_weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw Error("--distance-weight must be >= 0, got " + std::to_string(w));
  }
  Accentuation a;
  a.photo = image::load_image01(args.accentuate, model.card.preprocessing);
  const std::string name = fs::path(args.accentuate).filename().string();
  std::vector<objective::Objective> items;
  for (double w : args.distance_weights) items.push_back(target + w * objective::distance(a.photo, name));
  a.objective = items.size() == 1 ? items.front() : objective::per_item(items);
  return a;
}

// Per weight: the objective's value and the RMS distance from the photo, beside the photo's own value.
nlohmann::ordered_json accentuation_record(const RenderArgs& args, const model::Model& model,
                                           const objective::Objective& target, const at::Tensor& start,
                                           const at::Tensor& images) {
  const at::Tensor photo = start.to(images.device()).unsqueeze(0);
  const std::vector<double> values = objective::values(model, target, images);
  const at::Tensor rms = (images.detach() - photo).pow(2).flatten(1).mean(1).sqrt().to(at::kCPU, at::kDouble);
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (size_t i = 0; i < args.distance_weights.size(); ++i) {
    items.push_back({{"weight", args.distance_weights[i]},
                     {"value", values[i]},
                     {"distance", rms[static_cast<int64_t>(i)].item<double>()}});
  }
  return {{"photo", args.accentuate},
          {"objective", target.description()},
          {"photo_value", objective::values(model, target, photo)[0]},
          {"items", items},
          {"strip", "accentuation_strip.png"}};
}

void run_render(const RenderArgs& args) {
  render::Recipe recipe;
  recipe.preset = args.preset;
  if (args.param_opt->count()) recipe.space = render::param::parse_space(args.param);
  if (args.squash_opt->count()) recipe.squash = render::param::parse_squash(args.squash);
  if (args.decorrelate_opt->count()) recipe.decorrelate = args.decorrelate;
  if (args.transforms_opt->count()) recipe.transforms = args.transforms;
  if (args.lr_opt->count()) recipe.lr = args.lr;
  if (args.weight_decay_opt->count()) recipe.weight_decay = args.weight_decay;
  if (args.redirect_relu_opt->count()) recipe.redirected_relu_steps = args.redirect_relu;
  recipe.size = args.size;
  recipe.batch = args.batch;
  recipe.steps = args.steps;
  recipe.seed = args.seed;
  recipe.decay_power = args.decay_power;
  recipe.sd = args.sd;
  recipe.thresholds = args.thresholds;
  recipe.spectrum = args.spectrum;

  const model::Model model = open_model(args.model, args.run);
  const objective::Objective target = objective::parse(args.objective, model);
  const Accentuation accentuation = accentuation_for(args, model, target);
  const objective::Objective& objective = accentuation.photo.defined() ? accentuation.objective : target;
  if (accentuation.photo.defined()) recipe.batch = static_cast<int64_t>(args.distance_weights.size());
  for (const std::string& layer : objective.layers()) {
    const std::string note = model::capped_layer_note(model, layer);
    if (!note.empty()) std::cerr << "featvis: note: " << note << '\n';
  }
  render::Prepared prepared = render::prepare(recipe, model, objective);
  const render::param::ImageParamOptions& po = prepared.image;
  const int64_t batch = po.batch;
  const std::string& init = accentuation.photo.defined() ? args.accentuate : args.init;
  if (!init.empty()) prepared.image.init_image = image::load_image01(init, model.card.preprocessing, po.height, po.width);

  make_output_dir(args.out);
  nlohmann::ordered_json written = nlohmann::ordered_json::array();
  auto save = [&](const std::string& name, const at::Tensor& chw) {
    const std::string path = (fs::path(args.out) / name).string();
    image::save_png(path, chw);
    written.push_back(path);
  };
  // Snapshots are written as they come, so Ctrl-C or a NaN keeps the finished ones.
  auto on_snapshot = [&](const render::Snapshot& s) {
    std::vector<std::string> prefixes;
    if (s.threshold || s.interrupted) prefixes.push_back(std::to_string(s.step));
    if (s.final && !s.interrupted) prefixes.push_back("final");
    for (const auto& prefix : prefixes) {
      for (int64_t i = 0; i < s.images.size(0); ++i) save(prefix + "_" + std::to_string(i) + ".png", s.images[i]);
      if (s.images.size(0) > 1) save(prefix + "_sheet.png", render::contact_sheet(s.images));
    }
  };
  render::RenderOptions& options = prepared.options;
  options.progress = !args.quiet;
  InterruptFlag interrupt;
  options.stop_requested = [&interrupt] { return interrupt.raised(); };
  const render::RenderResult result = prepared.run(model, objective, on_snapshot);

  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& h : result.history) history.push_back({{"step", h.step}, {"values", values_json(h.values)}});
  const nlohmann::ordered_json record = {
      {"model", model.card.name},
      {"model_file", model.onnx_path},
      {"objective", {{"text", args.objective}, {"description", objective.description()}}},
      {"settings",
       {{"preset", prepared.preset.name},
        {"steps", args.steps},
        {"size", {po.height, po.width}},
        {"batch", batch},
        {"param", render::param::to_string(po.space)},
        {"decorrelate", po.decorrelate},
        {"squash", render::param::to_string(po.squash)},
        {"decay_power", po.decay_power},
        {"sd", po.sd},
        {"init", args.init.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(args.init)},
        {"transforms", prepared.transform_text},
        {"transforms_expanded", prepared.transform.description()},
        {"lr", options.lr},
        {"weight_decay", options.weight_decay},
        {"redirected_relu_steps", options.redirected_relu_steps},
        {"optimizer", "adam"},
        {"seed", args.seed},
        {"thresholds", options.thresholds},
        {"threads", at::get_num_threads()},
        {"device", model.graph.device().str()}}},
      {"values", history},
      {"initial_values", values_json(result.initial_values())},
      {"final_values", values_json(result.final_values())},
      {"steps_done", result.steps_done},
      {"interrupted", result.interrupted},
      {"timing", {{"ms_per_step", result.ms_per_step}, {"total_ms", result.total_ms}}},
      {"images", written},
  };
  nlohmann::ordered_json full_record = record;
  if (result.importance.defined()) {
    // MACO's transparency map per item, scaled to its maximum: where the image mattered.
    for (int64_t i = 0; i < result.importance.size(0); ++i) {
      const at::Tensor map = result.importance[i];
      const double peak = map.max().item<double>();
      save("importance_" + std::to_string(i) + ".png", (peak > 0 ? map / peak : map).unsqueeze(0).expand({3, -1, -1}));
    }
    full_record["images"] = written;
  }
  if (accentuation.photo.defined() && !result.interrupted) {
    full_record["accentuation"] = accentuation_record(args, model, target, prepared.image.init_image, result.images);
    // The photo, then one result per weight, in the order of --distance-weight.
    save("accentuation_strip.png",
         render::contact_sheet(at::cat({prepared.image.init_image.unsqueeze(0), result.images.to(at::kCPU)}),
                               static_cast<int64_t>(args.distance_weights.size()) + 1));
    full_record["images"] = written;
  }
  const std::string json_path = (fs::path(args.out) / "render.json").string();
  write_file_atomically(json_path, full_record.dump(2) + "\n");

  if (args.run.json) {
    std::cout << full_record.dump(2) << '\n';
  } else {
    std::printf("%s on %s: %lld steps, %lld x %lldx%lld, %.1f ms/step\n", objective.description().c_str(),
                model.card.name.c_str(), static_cast<long long>(result.steps_done), static_cast<long long>(batch),
                static_cast<long long>(po.height), static_cast<long long>(po.width), result.ms_per_step);
    for (int64_t i = 0; i < batch; ++i) {
      std::printf("  item %lld: objective %.4g -> %.4g\n", static_cast<long long>(i),
                  result.initial_values()[static_cast<size_t>(i)], result.final_values()[static_cast<size_t>(i)]);
    }
    if (full_record.contains("accentuation")) {
      const auto& a = full_record["accentuation"];
      std::printf("  photo: %s %.4g\n", target.description().c_str(), a["photo_value"].get<double>());
      for (const auto& item : a["items"]) {
        std::printf("  distance weight %g: %s %.4g at RMS distance %.4f from the photo\n", item["weight"].get<double>(),
                    target.description().c_str(), item["value"].get<double>(), item["distance"].get<double>());
      }
    }
    std::printf("wrote %zu image%s and %s\n", written.size(), written.size() == 1 ? "" : "s", json_path.c_str());
  }
  std::fflush(stdout);
  if (result.interrupted) {
    std::fprintf(stderr, "featvis: interrupted after step %lld; snapshots and render.json are in %s\n",
                 static_cast<long long>(result.steps_done), args.out.c_str());
    std::fflush(stderr);
    // Die of SIGINT as the user asked (status 130 in shells), now that all is written.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    std::_Exit(130);
  }
}

// The objective argument's help, from the kind table.
std::string objective_help() {
  std::string kinds;
  for (const objective::Kind& k : objective::kinds()) kinds += (kinds.empty() ? "" : ", ") + k.signature();
  return "what to maximize: " + kinds + "; combined as a + b, a - b, 2.5*a, -a, a | b (one per batch item); "
         "`featvis objectives` explains each";
}

}  // namespace

void add_render_command(CLI::App& app) {
  auto args = std::make_shared<RenderArgs>();
  CLI::App* cmd =
      app.add_subcommand("render",
                         "Feature visualization by optimization: an image that maximizes an objective\n"
                         "(Olah et al., Distill 2017). Ctrl-C stops after the current step, keeps the snapshots\n"
                         "written so far, writes render.json with \"interrupted\": true and exits by SIGINT (130).");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("objective", args->objective, objective_help())->required();
  cmd->add_option("--preset", args->preset, "lucid (FFT, decorrelated, transforms) or naive (pixels, none)")
      ->check(CLI::IsMember(render::preset_names()));
  cmd->add_option("--steps", args->steps, "optimization steps")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--size", args->size, "image side in pixels (default: the model's input size)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--batch", args->batch, "images rendered together (default: 1, or the objective's count)")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  args->param_opt =
      cmd->add_option("--param", args->param, "parameterization: fft, pixel, cppn (a coordinate network, Lucid's cppn; lr 0.005 unless --lr) or maco (phase "
                          "only, magnitude of natural photos; renders at twice the input size and optimizes random "
                          "crops, lr 1, writes importance_N.png)")
          ->check(CLI::IsMember({"fft", "pixel", "cppn", "maco"}));
  cmd->add_option("--spectrum", args->spectrum,
                  "maco: the natural-image spectrum .npy (default: <model>.spectrum.npy from `featvis spectrum`)");
  args->decorrelate_opt =
      cmd->add_flag("--decorrelate,!--no-decorrelate", args->decorrelate, "optimize in decorrelated colour space");
  args->squash_opt = cmd->add_option("--squash", args->squash, "to valid RGB by sigmoid or clamp")
                         ->check(CLI::IsMember({"sigmoid", "clamp"}));
  cmd->add_option("--decay-power", args->decay_power, "FFT: spectrum scaled by 1/f^power")
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--sd", args->sd, "std of the random start parameters")->check(CLI::Range(0.0, 10.0));
  args->transforms_opt =
      cmd->add_option("--transforms", args->transforms,
                      "standard, none, or e.g. pad(12),jitter(8),scale(0.9,1.1),rotate(-10,10),jitter(4)");
  args->lr_opt = cmd->add_option("--lr", args->lr, "Adam learning rate (preset: 0.05 lucid, 0.1 naive)");
  args->weight_decay_opt = cmd->add_option("--weight-decay", args->weight_decay, "Adam weight decay (naive: 1e-6)");
  args->redirect_relu_opt =
      cmd->add_option("--redirect-relu", args->redirect_relu,
                      "steps that use Lucid's redirected ReLU gradient, so dead units can wake (lucid 16, naive 0)")
          ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", args->seed, "random seed (start image and transforms)");
  cmd->add_option("--thresholds", args->thresholds, "steps to save snapshots at, e.g. 1,32,128")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--init", args->init, "start from this photo instead of noise (DeepDream, caricatures)");
  cmd->add_option("--accentuate", args->accentuate,
                  "feature accentuation: start from this photo and add W*distance(PHOTO) to the objective, so the "
                  "result shows what the unit sees in the photo; writes accentuation_strip.png");
  args->distance_weight_opt =
      cmd->add_option("--distance-weight", args->distance_weights,
                      "with --accentuate: the distance weight W (default 20); several (0,5,20,80) render one item "
                      "each, a sweep")
          ->delimiter(',');
  cmd->add_option("--out,-o", args->out, "output directory");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_render(*args); });
}

}  // namespace featvis::cli
