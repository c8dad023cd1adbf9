// featvis models: the known model cards and where each model file was found.
#include "cli_common.h"
#include "commands.h"

#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

struct Row {
  model::ModelCard card;
  std::string status;  // found, missing, invalid, sha256 mismatch
  std::string path;    // ONNX file when found
  std::string labels_path;
  std::vector<std::string> searched;
  std::string error;   // why the card cannot be used (status "invalid")
  std::string sha256;  // computed with --verify
};

Row inspect(const model::ModelCard& card, bool verify) {
  Row row;
  row.card = card;
  try {
    const model::ModelLocation loc = model::locate_model(card.name);
    row.card = loc.card;
    row.path = loc.onnx_path;
    row.labels_path = loc.labels_path;
    row.searched = loc.searched;
    row.status = loc.onnx_path.empty() ? "missing" : "found";
    if (!card.labels_file.empty() && loc.labels_path.empty()) {
      row.status = "invalid";
      row.error = "labels file '" + card.labels_file + "' not found";
    }
  } catch (const Error& e) {
    row.status = "invalid";
    row.error = e.what();
  }
  if (verify && !row.path.empty()) {
    row.sha256 = model::sha256_file(row.path);
    if (!card.sha256.empty() && row.sha256 != card.sha256) row.status = "sha256 mismatch";
  }
  return row;
}

// JSON readers may run elsewhere than the current directory: give absolute paths.
std::string absolute(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
}

nlohmann::json to_json(const Row& r, bool verify) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json j = {
      {"name", r.card.name},
      {"description", r.card.description},
      {"default", r.card.is_default},
      {"status", r.status},
      {"path", or_null(absolute(r.path))},
      {"file", r.card.file},
      {"card", absolute(r.card.card_path)},
      {"sha256", or_null(r.card.sha256)},
      {"url", or_null(r.card.url)},
      {"fetchable", !r.card.url.empty()},
      {"source", or_null(r.card.source)},
      {"input", r.card.input},
      {"output", r.card.output},
      {"input_size", {r.card.preprocessing.height, r.card.preprocessing.width}},
      {"classes", r.card.num_classes},
      {"labels", or_null(absolute(r.labels_path))},
      {"layers", r.card.layers.size()},
      {"searched", r.searched},
  };
  if (!r.error.empty()) j["error"] = r.error;
  if (verify) j["sha256_actual"] = or_null(r.sha256);
  return j;
}

std::string where(const Row& r) {
  if (!r.error.empty()) return r.error;
  if (!r.path.empty()) return r.path;
  if (!r.card.url.empty()) return r.card.file + " (get it: featvis fetch " + r.card.name + ")";
  return r.card.file + " (no download URL; copy it onto the search path)";
}

}  // namespace

void add_models_command(CLI::App& app) {
  struct Args {
    bool json = false;
    bool verify = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("models", "List the known model cards and where each model file was found");
  cmd->footer(
      "Cards come from the repo's cards/ folder and *.card.json files on the model search path:\n"
      "FEATVIS_MODEL_PATH (':'-separated), ./models, ../shared/models, ~/.cache/featvis/models.\n");
  cmd->add_flag("--json", args->json, "machine-readable JSON on stdout");
  cmd->add_flag("--verify", args->verify, "also check the SHA-256 of every model file found");
  cmd->callback([args] {
    const auto cards = model::known_cards();
    std::vector<Row> rows;
    for (const auto& card : cards) rows.push_back(inspect(card, args->verify));
    const auto search = model::model_search_path();

    if (args->json) {
      nlohmann::json out;
      out["models"] = nlohmann::json::array();
      for (const auto& r : rows) out["models"].push_back(to_json(r, args->verify));
      out["default"] = nullptr;
      for (const auto& c : cards)
        if (c.is_default) out["default"] = c.name;
      out["cards_dir"] = model::builtin_cards_dir();
      out["search_path"] = search;
      std::cout << out.dump(2) << '\n';
      return;
    }
    if (rows.empty()) {
      std::cout << "no model cards found\n";
      return;
    }
    std::vector<std::vector<std::string>> table;
    for (const auto& r : rows)
      table.push_back({r.card.name + (r.card.is_default ? " *" : ""), r.status, r.card.description, where(r)});
    print_table(std::cout, {"model", "status", "description", "model file"}, table);
    std::string dirs;
    for (const auto& d : search) dirs += (dirs.empty() ? "" : ", ") + d;
    std::cout << "\n* default model.  Search path: " << dirs << "\n";
  });
}

}  // namespace featvis::cli
