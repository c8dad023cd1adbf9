// featvis classify MODEL IMAGE...: top-k labels with probabilities.
#include "cli_common.h"
#include "commands.h"

#include <featvis/inference/classify.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace featvis::cli {

void add_classify_command(CLI::App& app) {
  struct Args {
    std::string model;
    std::vector<std::string> images;
    int top = 5;
    int batch = 16;
    RunOptions run;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("classify", "Top-k classes of photos (card preprocessing)");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("images", args->images, "JPEG/PNG photos")->required();
  cmd->add_option("--top,-k", args->top, "how many classes per photo")->check(CLI::Range(1, 1000));
  cmd->add_option("--batch", args->batch, "photos per forward pass")->check(CLI::Range(1, 4096));
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    const Model model = open_model(args->model, args->run);
    nlohmann::json results = nlohmann::json::array();
    for (size_t begin = 0; begin < args->images.size(); begin += static_cast<size_t>(args->batch)) {
      const size_t end = std::min(args->images.size(), begin + static_cast<size_t>(args->batch));
      std::vector<std::string> paths(args->images.begin() + begin, args->images.begin() + end);
      const auto predictions = classify(model, load_batch(paths, model.card.preprocessing), args->top);
      for (size_t i = 0; i < paths.size(); ++i) {
        if (args->run.json) {
          nlohmann::json top = nlohmann::json::array();
          for (const auto& p : predictions[i])
            top.push_back({{"index", p.index}, {"label", p.label}, {"probability", p.probability}, {"logit", p.logit}});
          results.push_back({{"image", paths[i]}, {"top", top}});
          continue;
        }
        std::cout << paths[i] << '\n';
        for (const auto& p : predictions[i]) {
          char line[64];
          std::snprintf(line, sizeof line, "  %6.2f%%  %4lld  ", 100.0 * p.probability, static_cast<long long>(p.index));
          std::cout << line << p.label << '\n';
        }
      }
    }
    if (args->run.json) std::cout << nlohmann::json{{"model", model.card.name}, {"results", results}}.dump(2) << '\n';
  });
}

}  // namespace featvis::cli
