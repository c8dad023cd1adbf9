// featvis layers MODEL: every addressable tensor, its op, shape and unit count.
#include "cli_common.h"
#include "commands.h"

#include <featvis/inference/layer_info.h>

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <set>

namespace featvis::cli {

void add_layers_command(CLI::App& app) {
  struct Args {
    std::string model;
    RunOptions run;
    bool card_only = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("layers", "List every addressable layer of a model");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_flag("--card", args->card_only, "only the layers the model card marks as worth visualizing");
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    const model::Model model = open_model(args->model, args->run);
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
        out["layers"].push_back({{"name", l.name}, {"op", l.op}, {"shape", l.shape}, {"units", l.units},
                                 {"featured", featured.count(l.name) > 0}});
      std::cout << out.dump(2) << '\n';
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : layers)
      rows.push_back({l.name, l.op, format_shape(l.shape), std::to_string(l.units), featured.count(l.name) ? "*" : ""});
    std::cout << model.card.name << ": " << layers.size() << " layers at " << model.card.preprocessing.height << "x"
              << model.card.preprocessing.width << " (* = on the model card)\n";
    print_table(std::cout, {"layer", "op", "shape", "units", "card"}, rows);
  });
}

}  // namespace featvis::cli
