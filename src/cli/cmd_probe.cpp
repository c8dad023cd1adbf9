// featvis probe MODEL... --train DATA --test DATA: how well a linear classifier on each
// layer's pooled activations solves a new labelled task; accuracy against depth says up
// to which layer the features are general enough to transfer (Yosinski et al. 2014).
#include "cli_common.h"
#include "commands.h"

#include <featvis/image/image.h>
#include <featvis/probe/chart.h>
#include <featvis/probe/data.h>
#include <featvis/probe/experiment.h>
#include <featvis/util/atomic_file.h>
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

struct ProbeArgs {
  std::vector<std::string> models;
  std::string train, test, out = "featvis-probe", pooling = "avg";
  std::vector<std::string> layers{"all"};
  int64_t train_count = 0, test_count = 0, batch = 32;
  probe::LogisticOptions logistic;
  bool quiet = false;
  RunOptions run;
};

[[noreturn]] void die_interrupted(const std::string& what, const std::string& state) {
  std::fprintf(stderr, "featvis: interrupted during %s; what is done is kept in %s: rerun the same command to continue\n",
               what.c_str(), state.c_str());
  std::fflush(stderr);
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
  std::_Exit(130);
}

void run_probe(ProbeArgs& args) {
  probe::ExperimentOptions options;
  options.pooling = probe::parse_pooling(args.pooling);
  options.layers = args.layers;
  options.batch_size = args.batch;
  options.logistic = args.logistic;
  options.progress = !args.quiet;
  options.state_dir = (fs::path(args.out) / "probe-state").string();
  const probe::ProbeData train = probe::ProbeData::open(args.train, args.train_count);
  const probe::ProbeData test = probe::ProbeData::open(args.test, args.test_count);
  InterruptFlag interrupt;
  options.stop_requested = [&interrupt] { return interrupt.raised(); };
  const probe::ExperimentResult result = probe::run_experiment(
      args.models, [&](const std::string& ref) { return open_model(ref, args.run); }, train, test, options);
  if (result.interrupted) die_interrupted(result.stopped_during, options.state_dir);
  const auto k = static_cast<int64_t>(result.classes.size());
  make_output_dir(args.out);

  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  std::vector<probe::ChartLine> lines;
  std::vector<std::vector<std::string>> rows;
  for (const probe::ModelResult& m : result.models) {
    probe::ChartLine line;
    line.name = m.model;
    nlohmann::ordered_json layer_json = nlohmann::ordered_json::array();
    for (const probe::LayerResult& r : m.layers) {
      const probe::ProbeScore& s = r.score;
      line.x.push_back(r.relative_depth);
      line.y.push_back(s.test_accuracy);
      layer_json.push_back({{"layer", r.layer},
                            {"title", r.title},
                            {"relative_depth", r.relative_depth},
                            {"features", s.features},
                            {"l2", s.l2},
                            {"held_out_accuracy", s.held_out_accuracy},
                            {"train_accuracy", s.train_accuracy},
                            {"test_accuracy", s.test_accuracy}});
      char l2[32], held[32], acc[32];
      std::snprintf(l2, sizeof l2, "%g", s.l2);
      std::snprintf(held, sizeof held, "%.2f %%", 100 * s.held_out_accuracy);
      std::snprintf(acc, sizeof acc, "%.2f %%", 100 * s.test_accuracy);
      rows.push_back({m.model, r.layer, std::to_string(s.features), l2, held, acc});
    }
    lines.push_back(line);
    models.push_back({{"model", m.model},
                      {"model_file", m.model_file},
                      {"feature_seconds", m.feature_seconds},
                      {"images_per_second", m.images_per_second},
                      {"layers", layer_json}});
  }

  probe::ChartOptions co;
  co.title = "Linear probes (" + probe::to_string(options.pooling) + " pooling): " + std::to_string(k) + " classes, " +
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
      {"classes", result.classes},
      {"pooling", probe::to_string(options.pooling)},
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
      "Ctrl-C stops after the current batch or fit and exits 130; finished work (pooled features, fits) is kept\n"
      "in OUT/probe-state, and the same command continues from it (other settings are refused).");
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
