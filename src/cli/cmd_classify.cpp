// featvis classify MODEL IMAGE|FOLDER...: top-k labels with probabilities.
#include "cli_common.h"
#include "commands.h"

#include <featvis/dataset_examples/image_list.h>
#include <featvis/inference/classify.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

// Photos as named, each folder replaced by the photos below it (sorted, as `examples` scans).
std::vector<std::string> expand_folders(const std::vector<std::string>& named) {
  std::vector<std::string> photos;
  for (const auto& path : named) {
    if (!std::filesystem::is_directory(path)) {
      photos.push_back(path);
      continue;
    }
    for (const auto& relative : dataset_examples::list_images(path)) photos.push_back((std::filesystem::path(path) / relative).string());
  }
  return photos;
}

}  // namespace

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
  cmd->add_option("images", args->images, "photos (JPEG, PNG, WebP, TIFF) or folders of them")->required();
  cmd->add_option("--top,-k", args->top, "how many classes per photo")->check(CLI::Range(1, 1000));
  cmd->add_option("--batch", args->batch, "photos per forward pass")->check(CLI::Range(1, 4096));
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    const model::Model model = open_model(args->model, args->run);
    args->images = expand_folders(args->images);
    nlohmann::json results = nlohmann::json::array();
    for (size_t begin = 0; begin < args->images.size(); begin += static_cast<size_t>(args->batch)) {
      const size_t end = std::min(args->images.size(), begin + static_cast<size_t>(args->batch));
      std::vector<std::string> paths(args->images.begin() + begin, args->images.begin() + end);
      const auto predictions = inference::classify(model, inference::load_batch(paths, model.card.preprocessing), args->top);
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
