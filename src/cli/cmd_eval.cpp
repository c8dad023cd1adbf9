// featvis eval MODEL --images DIR --labels CSV: top-1/top-5 accuracy.
#include "cli_common.h"
#include "commands.h"

#include <featvis/inference/evaluate.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string model, images, labels;
    inference::EvalOptions eval;
    RunOptions run;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "Top-1/top-5 accuracy over a labelled folder of photos");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("--images", args->images, "folder of photos")->required();
  cmd->add_option("--labels", args->labels, "CSV with columns file,class_index (default: DIR/labels.csv)");
  cmd->add_option("--batch", args->eval.batch_size, "photos per forward pass")->check(CLI::Range(1, 4096));
  cmd->add_option("--limit", args->eval.limit, "only the first N photos of the CSV")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    if (!std::filesystem::is_directory(args->images))
      throw Error("--images '" + args->images + "' is not a folder");
    const std::string labels = args->labels.empty() ? (std::filesystem::path(args->images) / "labels.csv").string() : args->labels;
    const model::Model model = open_model(args->model, args->run);
    const auto items = inference::read_labels_csv(labels, args->images);
    args->eval.progress = !args->quiet;
    const inference::EvalResult r = inference::evaluate(model, items, args->eval);
    for (const auto& s : r.skipped) std::cerr << "featvis: warning: skipped " << s << '\n';
    if (args->run.json) {
      std::cout << nlohmann::json{{"model", model.card.name}, {"images", r.images}, {"top1", r.top1_percent()},
                                  {"top5", r.top5_percent()},
                                  {"top1_near_ties", r.top1_near_ties}, {"top5_near_ties", r.top5_near_ties},
                                  {"skipped", r.skipped}, {"seconds", r.seconds},
                                  {"images_per_second", r.seconds > 0 ? r.images / r.seconds : 0.0}}
                       .dump(2)
                << '\n';
      return;
    }
    std::printf("%s: %lld images, top-1 %.2f%%, top-5 %.2f%%  (%.1f s, %.1f images/s%s)\n", model.card.name.c_str(),
                static_cast<long long>(r.images), r.top1_percent(), r.top5_percent(), r.seconds,
                r.seconds > 0 ? r.images / r.seconds : 0.0,
                r.skipped.empty() ? "" : (", " + std::to_string(r.skipped.size()) + " unreadable skipped").c_str());
  });
}

}  // namespace featvis::cli
