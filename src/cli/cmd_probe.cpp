// featvis probe MODEL... --train DATA --test DATA: how well a linear classifier on each
// layer's pooled activations solves a new labelled task; accuracy against depth says up
// to which layer the features are general enough to transfer (Yosinski et al. 2014).
#include "cli_common.h"
#include "commands.h"

#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>
#include <featvis/probe/chart.h>
#include <featvis/probe/data.h>
#include <featvis/probe/features.h>
#include <featvis/probe/logistic.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/interrupt.h>
#include <featvis/util/progress.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct ProbeArgs {
  std::vector<std::string> models;
  std::string train, test, out = "featvis-probe", pooling = "avg";
  std::vector<std::string> layers{"all"};
  int64_t train_count = 0, test_count = 0, batch = 32;
  probe::LogisticOptions logistic;
  bool quiet = false;
  RunOptions run;
};

// Labels -> class indices 0..K-1 in the order of the training classes.
at::Tensor class_indices(const probe::ProbeData& data, const std::map<int64_t, int64_t>& index, const std::string& role) {
  std::vector<int64_t> out;
  for (int64_t label : data.labels()) {
    const auto it = index.find(label);
    FEATVIS_CHECK(it != index.end(), "--", role, ": label ", label, " in '", data.spec(), "' is not among the ",
                  index.size(), " classes of the training data");
    out.push_back(it->second);
  }
  return at::tensor(out, at::kLong);
}

[[noreturn]] void die_interrupted(const std::string& what) {
  std::fprintf(stderr, "featvis: interrupted during %s; nothing written\n", what.c_str());
  std::fflush(stderr);
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
  std::_Exit(130);
}

void run_probe(ProbeArgs& args) {
  const probe::Pooling pooling = probe::parse_pooling(args.pooling);
  const probe::ProbeData train = probe::ProbeData::open(args.train, args.train_count);
  const probe::ProbeData test = probe::ProbeData::open(args.test, args.test_count);
  const std::vector<int64_t> classes = train.classes();
  FEATVIS_CHECK(classes.size() >= 2, "--train: '", args.train, "' has ", classes.size(),
                " class; a probe needs at least 2");
  std::map<int64_t, int64_t> index;
  for (size_t i = 0; i < classes.size(); ++i) index[classes[i]] = static_cast<int64_t>(i);
  const at::Tensor train_y = class_indices(train, index, "train");
  const at::Tensor test_y = class_indices(test, index, "test");
  const auto k = static_cast<int64_t>(classes.size());

  InterruptFlag interrupt;
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  std::vector<probe::ChartLine> lines;
  std::vector<std::vector<std::string>> rows;
  for (const std::string& ref : args.models) {
    const model::Model model = open_model(ref, args.run);
    std::vector<std::string> layers, titles;
    if (args.layers.size() == 1 && args.layers[0] == "all") {
      FEATVIS_CHECK(!model.card.layers.empty(), "model '", model.card.name, "' has no layers on its card; name them with --layers");
      for (const auto& l : model.card.layers) {
        layers.push_back(l.name);
        titles.push_back(l.title);
      }
    } else {
      layers = graph::resolve_layers(model.graph, args.layers);
      titles.assign(layers.size(), "");
    }
    probe::FeatureOptions fo;
    fo.layers = layers;
    fo.pooling = pooling;
    fo.batch_size = args.batch;
    fo.progress = !args.quiet;
    fo.stop_requested = [&interrupt] { return interrupt.raised(); };
    fo.progress_label = model.card.name + " train";
    const probe::Features ftrain = probe::pooled_features(model, train, fo);
    if (ftrain.interrupted) die_interrupted("the training images of " + model.card.name);
    fo.progress_label = model.card.name + " test";
    const probe::Features ftest = probe::pooled_features(model, test, fo);
    if (ftest.interrupted) die_interrupted("the test images of " + model.card.name);
    const double seconds = ftrain.seconds + ftest.seconds;
    const double rate = seconds > 0 ? static_cast<double>(train.size() + test.size()) / seconds : 0;

    probe::ChartLine line;
    line.name = model.card.name;
    nlohmann::ordered_json layer_json = nlohmann::ordered_json::array();
    ProgressBar fits(static_cast<int64_t>(layers.size()), model.card.name + " probes", !args.quiet);
    for (size_t l = 0; l < layers.size(); ++l) {
      fits.update(static_cast<int64_t>(l), layers[l]);
      if (interrupt.raised()) die_interrupted("the regressions of " + model.card.name);
      const probe::ProbeScore s =
          probe::fit_probe(ftrain.per_layer[l], train_y, ftest.per_layer[l], test_y, k, args.logistic);
      const double depth = layers.size() > 1 ? static_cast<double>(l) / static_cast<double>(layers.size() - 1) : 0.0;
      line.x.push_back(depth);
      line.y.push_back(s.test_accuracy);
      layer_json.push_back({{"layer", layers[l]},
                            {"title", titles[l]},
                            {"relative_depth", depth},
                            {"features", s.features},
                            {"l2", s.l2},
                            {"held_out_accuracy", s.held_out_accuracy},
                            {"train_accuracy", s.train_accuracy},
                            {"test_accuracy", s.test_accuracy}});
      char l2[32], held[32], acc[32];
      std::snprintf(l2, sizeof l2, "%g", s.l2);
      std::snprintf(held, sizeof held, "%.2f %%", 100 * s.held_out_accuracy);
      std::snprintf(acc, sizeof acc, "%.2f %%", 100 * s.test_accuracy);
      rows.push_back({model.card.name, layers[l], std::to_string(s.features), l2, held, acc});
    }
    fits.finish();
    lines.push_back(line);
    models.push_back({{"model", model.card.name},
                      {"model_file", model.onnx_path},
                      {"feature_seconds", seconds},
                      {"images_per_second", rate},
                      {"layers", layer_json}});
  }

  make_output_dir(args.out);
  probe::ChartOptions co;
  co.title = "Linear probes (" + probe::to_string(pooling) + " pooling): " + std::to_string(k) + " classes, " +
             std::to_string(train.size()) + " train / " + std::to_string(test.size()) + " test images";
  co.x_label = "relative depth (card layer i of n: i / (n - 1))";
  co.y_label = "test accuracy";
  co.reference = 1.0 / static_cast<double>(k);
  co.reference_label = "chance";
  const std::string chart = (fs::path(args.out) / "probe.png").string();
  image::save_png(chart, probe::line_chart(lines, co));
  const nlohmann::ordered_json record = {
      {"train", {{"data", args.train}, {"images", train.size()}}},
      {"test", {{"data", args.test}, {"images", test.size()}}},
      {"classes", classes},
      {"pooling", probe::to_string(pooling)},
      {"l2_candidates", args.logistic.l2},
      {"held_out", args.logistic.held_out},
      {"threads", at::get_num_threads()},
      {"models", models},
      {"chart", chart}};
  const std::string json_path = (fs::path(args.out) / "probe.json").string();
  write_file_atomically(json_path, record.dump(2) + "\n");
  if (args.run.json) {
    std::cout << record.dump(2) << '\n';
    return;
  }
  print_table(std::cout, {"model", "layer", "features", "l2", "held-out", "test accuracy"}, rows);
  for (const auto& m : models)
    std::printf("%s: features of %lld images in %.1f s (%.1f images/s through the probed layers)\n",
                m["model"].get<std::string>().c_str(), static_cast<long long>(train.size() + test.size()),
                m["feature_seconds"].get<double>(), m["images_per_second"].get<double>());
  std::printf("chance: %.1f %%; wrote %s and %s\n", 100.0 / static_cast<double>(k), chart.c_str(), json_path.c_str());
}

}  // namespace

void add_probe_command(CLI::App& app) {
  auto args = std::make_shared<ProbeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "probe",
      "Linear probes: for each layer, a multinomial logistic regression on its spatially pooled\n"
      "activations (one batched pass; standardized; L2 chosen on a held-out fifth of the training\n"
      "images) and its accuracy on the test images. Accuracy against depth says how far a network's\n"
      "features serve a new task. Writes OUT/probe.json and OUT/probe.png (one line per model).\n"
      "Ctrl-C stops after the current batch and exits 130.");
  cmd->add_option("models", args->models, "model names, .onnx or .card.json paths (one chart line each)")->required();
  cmd->add_option("--train", args->train,
                  "training data: a folder with labels.csv (file,class_index), an IDX images file "
                  "(*images-idx3*, labels beside it), or IMAGES,LABELS")
      ->required();
  cmd->add_option("--test", args->test, "test data, as --train")->required();
  cmd->add_option("--layers,-l", args->layers, "comma-separated layer names, or 'all' (the card's layers)")->delimiter(',');
  cmd->add_option("--pooling", args->pooling, "avg (global average per channel) or grid (2x2 grid of averages)")
      ->check(CLI::IsMember({"avg", "grid"}));
  cmd->add_option("--train-count", args->train_count, "use the first N training images (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--test-count", args->test_count, "use the first N test images (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", args->batch, "images per forward pass")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--l2", args->logistic.l2, "L2 weights to choose from")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--max-iterations", args->logistic.max_iterations, "L-BFGS iterations per fit")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--out,-o", args->out, "output directory");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_probe(*args); });
}

}  // namespace featvis::cli
