// featvis layers MODEL: every addressable tensor, its op, shape and unit count.
#include "cli_common.h"
#include "commands.h"

#include <featvis/inference/layer_info.h>
#include <featvis/model/visualization_tensor.h>

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <set>

namespace featvis::cli {
namespace {

// The card's layer list as JSON lines, "visualize" derived from the graph.
void print_derived_card_layers(const model::Model& model) {
  std::cout << "  \"layers\": [\n";
  for (size_t i = 0; i < model.card.layers.size(); ++i) {
    const model::CardLayer& l = model.card.layers[i];
    const auto quoted = [](const std::string& s) { return nlohmann::json(s).dump(); };
    std::cout << "    {\"name\": " << quoted(l.name) << ", \"title\": " << quoted(l.title);
    const std::string visualize = model::derive_visualization_tensor(model.graph, l.name);
    if (!visualize.empty()) std::cout << ", \"visualize\": " << quoted(visualize);
    std::cout << (i + 1 < model.card.layers.size() ? "},\n" : "}\n");
  }
  std::cout << "  ]\n";
}

}  // namespace

void add_layers_command(CLI::App& app) {
  struct Args {
    std::string model;
    RunOptions run;
    bool card_only = false;
    bool derive_visualize = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("layers", "List every addressable layer of a model");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_flag("--card", args->card_only, "only the layers the model card marks as worth visualizing");
  cmd->add_flag("--derive-visualize", args->derive_visualize,
                "print the card's \"layers\" with each \"visualize\" found from the graph (the input of the "
                "Relu/Clip producing the layer), to paste into the card");
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    const model::Model model = open_model(args->model, args->run);
    if (args->derive_visualize) {
      print_derived_card_layers(model);
      return;
    }
    std::vector<inference::LayerInfo> layers = inference::describe_layers(model);
    std::set<std::string> featured;
    for (const auto& l : model.card.layers) featured.insert(l.name);
    if (args->card_only) {
      std::vector<inference::LayerInfo> kept;
      for (auto& l : layers)
        if (featured.count(l.name)) kept.push_back(std::move(l));
      layers = std::move(kept);
    }
    if (args->run.json) {
      nlohmann::json out = {{"model", model.card.name}, {"input_size", {model.card.preprocessing.height, model.card.preprocessing.width}}};
      out["layers"] = nlohmann::json::array();
      for (const auto& l : layers)
        out["layers"].push_back({{"name", l.name}, {"op", l.op}, {"shape", l.shape}, {"units", l.units}, {"role", l.role},
                                 {"featured", featured.count(l.name) > 0},
                                 {"visualize", model.card.visualization_tensor(l.name)}});
      std::cout << out.dump(2) << '\n';
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : layers) {
      std::vector<std::string> row{l.name, l.op, format_shape(l.shape) + (l.role.empty() ? "" : " " + l.role),
                                   std::to_string(l.units)};
      // With --card: the tensor the Microscope optimizes and ranks for the layer.
      if (args->card_only) row.push_back(model.card.visualization_tensor(l.name));
      else row.push_back(featured.count(l.name) ? "*" : "");
      rows.push_back(std::move(row));
    }
    std::cout << model.card.name << ": " << layers.size() << " layers at " << model.card.preprocessing.height << "x"
              << model.card.preprocessing.width
              << (args->card_only ? " (visualized: the tensor optimized and ranked for it)\n" : " (* = on the model card)\n");
    print_table(std::cout, {"layer", "op", "shape", "units", args->card_only ? "visualized" : "card"}, rows);
  });
}

}  // namespace featvis::cli
