// featvis train-fashion-mnist --out DIR: trains the small CNN of featvis/train on
// Fashion-MNIST and writes a checkpoint series (ONNX per log-spaced step, one card,
// training.json) for `featvis timeline` and `featvis probe`.
#include "cli_common.h"
#include "commands.h"

#include <featvis/util/threads.h>
#include <featvis/train/fashion_cnn.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

struct TrainArgs {
  train::TrainOptions train;
  bool quiet = false;
  RunOptions run;
};

void run_train(TrainArgs& args) {
  if (args.run.threads > 0) use_threads(args.run.threads);
  args.train.progress = !args.quiet;
  const train::TrainResult r = train::train_fashion_cnn(args.train);
  if (args.run.json) {
    nlohmann::ordered_json cps = nlohmann::ordered_json::array();
    for (const auto& c : r.checkpoints)
      cps.push_back({{"step", c.step}, {"loss", c.loss}, {"test_accuracy", c.test_accuracy}, {"file", c.file}});
    std::cout << nlohmann::ordered_json{{"out", args.train.out_dir}, {"seconds", r.seconds}, {"checkpoints", cps}}.dump(2)
              << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.checkpoints) {
    char loss[32], acc[32];
    std::snprintf(loss, sizeof loss, "%.4f", c.loss);
    std::snprintf(acc, sizeof acc, "%.2f %%", 100 * c.test_accuracy);
    rows.push_back({std::to_string(c.step), loss, acc, c.file});
  }
  print_table(std::cout, {"step", "loss", "test accuracy", "file"}, rows);
  std::printf("trained in %.1f s on %d thread%s; wrote %zu checkpoints, fashion_cnn.card.json and training.json to %s\n",
              r.seconds, at::get_num_threads(), at::get_num_threads() == 1 ? "" : "s", r.checkpoints.size(),
              args.train.out_dir.c_str());
}

}  // namespace

void add_train_fashion_mnist_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  args->train.data_dir = "/usr/share/datasets/fashion-mnist";
  CLI::App* cmd = app.add_subcommand(
      "train-fashion-mnist",
      "Trains a small CNN (3 conv + 2 fully connected layers) from scratch on Fashion-MNIST with a fixed\n"
      "seed and writes a checkpoint series: step-NNNNNN.onnx at steps 0, 1, 2, 4, ... and the last,\n"
      "fashion_cnn.card.json and training.json (step, loss, test accuracy). For `featvis timeline` and\n"
      "`featvis probe`.");
  cmd->add_option("--data", args->train.data_dir,
                  "folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (Debian: dataset-fashion-mnist)")
      ->capture_default_str();
  cmd->add_option("--out,-o", args->train.out_dir, "output folder")->required();
  cmd->add_option("--steps", args->train.steps, "Adam steps")->capture_default_str();
  cmd->add_option("--batch", args->train.batch, "images per step")->capture_default_str();
  cmd->add_option("--lr", args->train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--test-images", args->train.test_images, "test images that measure accuracy (the first N)")
      ->capture_default_str();
  cmd->add_option("--seed", args->train.seed, "initialization and batch order")->capture_default_str();
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_train(*args); });
}

}  // namespace featvis::cli
