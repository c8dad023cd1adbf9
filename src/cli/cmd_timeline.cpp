// featvis timeline SERIES OBJECTIVE --out DIR: the same render (same recipe, same seed)
// at every checkpoint of a training run, so that what differs between the pictures is
// the network's; a labelled strip in step order, timeline.json, and with --images the
// unit's top dataset examples per checkpoint and how much consecutive sets overlap.
#include "cli_common.h"
#include "commands.h"

#include <featvis/util/threads.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>
#include <featvis/model/series.h>
#include <featvis/objective/parse.h>
#include <featvis/render/contact_sheet.h>
#include <featvis/render/labelled_strip.h>
#include <featvis/render/preset.h>
#include <featvis/render/recipe.h>
#include <featvis/timeline/timeline.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/interrupt.h>
#include <featvis/util/progress.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct TimelineArgs {
  std::string series, card, objective, out = "featvis-timeline";
  render::Recipe recipe;
  std::string transforms;
  CLI::Option* transforms_opt = nullptr;
  std::string images, unit;
  int64_t top_k = 9;
  std::string rank = "mean";
  int64_t batch = 64;
  bool quiet = false;
  RunOptions run;
};

// The unit whose examples --images ranks: --unit, else the objective when it is one
// channel ("LAYER:N"); the layer resolved in `model`.
std::pair<std::string, int64_t> examples_unit(const TimelineArgs& args, const model::Model& model) {
  const std::string text = args.unit.empty() ? args.objective : args.unit;
  static const std::regex channel(R"(^\s*([^+*|()]+?):(\d+)\s*$)");
  std::smatch m;
  FEATVIS_CHECK(std::regex_match(text, m, channel),
                "--images: the objective '", args.objective, "' is not one unit (LAYER:N); name the unit with --unit");
  return {graph::resolve_layer(model.graph, m[1].str()), std::stoll(m[2].str())};
}

std::string step_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%06lld", static_cast<long long>(step));
  return name;
}

void run_timeline(TimelineArgs& args) {
  if (args.run.threads > 0) use_threads(args.run.threads);
  if (args.transforms_opt->count()) args.recipe.transforms = args.transforms;
  const model::Series series = model::open_series(args.series, args.card);
  model::check_series(series);
  make_output_dir(args.out);

  std::vector<std::string> photos;
  std::string unit_layer;
  int64_t unit_channel = -1;
  if (!args.images.empty()) {
    std::tie(unit_layer, unit_channel) = examples_unit(args, model::load_checkpoint(series, 0));  // fail before rendering
    photos = dataset_examples::list_images(args.images);
    FEATVIS_CHECK(!photos.empty(), "--images: no photos in '", args.images, "'");
  }
  InterruptFlag interrupt;
  auto stop = [&interrupt] { return interrupt.raised(); };
  ProgressBar bar(static_cast<int64_t>(series.checkpoints.size()), "timeline", !args.quiet);
  nlohmann::ordered_json checkpoints = nlohmann::ordered_json::array();
  std::vector<at::Tensor> finals;
  std::vector<std::string> captions;
  std::vector<std::vector<int64_t>> tops;  // the unit's top-K per checkpoint, with --images
  nlohmann::ordered_json settings;
  std::string description;
  bool interrupted = false;
  for (size_t i = 0; i < series.checkpoints.size() && !interrupted; ++i) {
    const model::SeriesCheckpoint& cp = series.checkpoints[i];
    const model::Model model = model::load_checkpoint(series, i);
    const objective::Objective objective = objective::parse(args.objective, model);
    description = objective.description();
    const timeline::Frame frame = timeline::render_checkpoint(model, args.recipe, objective, stop);
    const render::RenderResult& result = frame.result;
    if (result.interrupted) {
      interrupted = true;
      break;
    }
    const std::string image_file = step_name(cp.step) + ".png";
    const at::Tensor picture = result.images.size(0) > 1 ? render::contact_sheet(result.images) : result.images[0];
    image::save_png((fs::path(args.out) / image_file).string(), picture);
    finals.push_back(result.images[0]);
    const auto& values = result.final_values();
    double value = 0;
    for (double v : values) value += v / static_cast<double>(values.size());
    const std::string caption = timeline::caption(cp);
    captions.push_back(caption);
    nlohmann::ordered_json entry = {{"step", cp.step},
                                    {"file", cp.onnx_path},
                                    {"image", image_file},
                                    {"objective_value", value},
                                    {"initial_value", result.initial_values()[0]},
                                    {"values", values},
                                    {"test_accuracy", cp.test_accuracy ? nlohmann::ordered_json(*cp.test_accuracy) : nullptr},
                                    {"loss", cp.loss ? nlohmann::ordered_json(*cp.loss) : nullptr}};
    if (settings.is_null()) {
      settings = frame.settings;
      settings["threads"] = at::get_num_threads();
    }
    if (!photos.empty()) {
      timeline::TopOptions top;
      top.top_k = args.top_k;
      top.rank = timeline::parse_rank(args.rank);
      top.batch = args.batch;
      top.stop_requested = stop;
      const timeline::TopPhotos r =
          timeline::top_photos(model, args.images, photos, model.card.visualization_tensor(unit_layer), {unit_channel}, top);
      if (r.interrupted) {
        interrupted = true;
        break;
      }
      nlohmann::ordered_json top_examples = nlohmann::ordered_json::array();
      for (int64_t index : r.top[0]) top_examples.push_back(photos[static_cast<size_t>(index)]);
      entry["top_examples"] = top_examples;
      tops.push_back(r.top[0]);
    }
    checkpoints.push_back(entry);
    bar.update(static_cast<int64_t>(i + 1), caption.substr(0, caption.find('\n')));
    if (interrupt.raised()) interrupted = true;
  }
  bar.finish();
  // Overlaps with the previous and the last checkpoint's set: when the unit's meaning settles.
  nlohmann::ordered_json settle_step;
  if (!tops.empty()) {
    const timeline::Overlap o = timeline::overlap(tops);
    for (size_t i = 0; i < tops.size(); ++i) {
      checkpoints[i]["jaccard_with_previous"] = o.with_previous[i] ? nlohmann::ordered_json(*o.with_previous[i]) : nullptr;
      checkpoints[i]["jaccard_with_final"] = o.with_final[i];
    }
    settle_step = checkpoints[o.settle_index]["step"];
  }
  std::string strip_file;
  if (!finals.empty()) {
    strip_file = "strip.png";
    image::save_png((fs::path(args.out) / strip_file).string(), render::labelled_strip(at::stack(finals), captions));
  }
  const nlohmann::ordered_json record = {
      {"series", args.series},
      {"model", series.card.name},
      {"objective", {{"text", args.objective}, {"description", description}}},
      {"settings", settings},
      {"examples", args.images.empty() ? nlohmann::ordered_json(nullptr)
                                       : nlohmann::ordered_json{{"images", args.images},
                                                                {"photos", photos.size()},
                                                                {"unit", unit_layer + ":" + std::to_string(unit_channel)},
                                                                {"top_k", args.top_k},
                                                                {"rank", args.rank},
                                                                {"settle_step", settle_step}}},
      {"checkpoints", checkpoints},
      {"strip", strip_file},
      {"interrupted", interrupted}};
  const std::string json_path = (fs::path(args.out) / "timeline.json").string();
  write_file_atomically(json_path, record.dump(2) + "\n");
  if (args.run.json) {
    std::cout << record.dump(2) << '\n';
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : checkpoints) {
      char value[32], acc[32] = "-", jac[32] = "-";
      std::snprintf(value, sizeof value, "%.4g", c["objective_value"].get<double>());
      if (!c["test_accuracy"].is_null()) std::snprintf(acc, sizeof acc, "%.2f %%", 100 * c["test_accuracy"].get<double>());
      if (c.contains("jaccard_with_previous") && !c["jaccard_with_previous"].is_null())
        std::snprintf(jac, sizeof jac, "%.2f", c["jaccard_with_previous"].get<double>());
      rows.push_back({std::to_string(c["step"].get<int64_t>()), value, acc, jac, c["image"].get<std::string>()});
    }
    print_table(std::cout, {"step", "objective", "test accuracy", "top-K overlap", "image"}, rows);
    std::printf("%s over %zu checkpoints of %s; wrote %s and %s\n", description.c_str(), checkpoints.size(),
                series.card.name.c_str(), (fs::path(args.out) / strip_file).string().c_str(), json_path.c_str());
  }
  std::fflush(stdout);
  if (interrupted) {
    std::fprintf(stderr, "featvis: interrupted after %zu of %zu checkpoints; what is done is in %s\n", checkpoints.size(),
                 series.checkpoints.size(), args.out.c_str());
    std::fflush(stderr);
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    std::_Exit(130);
  }
}

}  // namespace

void add_timeline_command(CLI::App& app) {
  auto args = std::make_shared<TimelineArgs>();
  CLI::App* cmd = app.add_subcommand(
      "timeline",
      "Features over training: renders OBJECTIVE at every checkpoint of a series with the same seed and\n"
      "settings, so that the differences are the network's. Writes one PNG per checkpoint, strip.png (in step\n"
      "order, labelled with step and test accuracy) and timeline.json. With --images, also the unit's top-K\n"
      "dataset examples at each checkpoint and the overlap (Jaccard) of consecutive top-K sets: when it stops\n"
      "changing, the unit's meaning has settled. Ctrl-C stops after the current checkpoint.");
  cmd->add_option("series", args->series,
                  "folder of .onnx checkpoints (step = last number in the name) with one *.card.json, or a "
                  "comma-separated list of .onnx files")
      ->required();
  cmd->add_option("objective", args->objective, "what to render, as in `featvis render` (e.g. conv2:3)")->required();
  cmd->add_option("--out,-o", args->out, "output directory");
  cmd->add_option("--card", args->card, "the series' model card (default: the one *.card.json beside the files)");
  cmd->add_option("--preset", args->recipe.preset, "lucid or naive")->check(CLI::IsMember(render::preset_names()));
  cmd->add_option("--steps", args->recipe.steps, "optimization steps per checkpoint")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--size", args->recipe.size, "image side in pixels (default: the model's input size)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  args->transforms_opt =
      cmd->add_option("--transforms", args->transforms, "standard, none, or a list as in `featvis render`");
  cmd->add_option("--seed", args->recipe.seed, "random seed, the same for every checkpoint");
  cmd->add_option("--images", args->images, "folder of photos: also rank the unit's top-K examples at every checkpoint");
  cmd->add_option("--unit", args->unit, "the unit whose examples --images ranks, LAYER:N (default: the objective)");
  cmd->add_option("--top,-k", args->top_k, "examples per checkpoint")->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--rank", args->rank,
                  "rank photos by the unit's mean over positions (as `featvis examples` lists first) or its maximum")
      ->check(CLI::IsMember({"mean", "max"}));
  cmd->add_option("--batch", args->batch, "photos per forward pass for --images")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_timeline(*args); });
}

}  // namespace featvis::cli
