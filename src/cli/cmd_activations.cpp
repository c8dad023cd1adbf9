// featvis activations MODEL IMAGE --layer L: which units of a layer a photo excites
// most (channel means), the quickest way to pick units worth visualizing.
#include "cli_common.h"
#include "commands.h"

#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace featvis::cli {

void add_activations_command(CLI::App& app) {
  struct Args {
    std::string model, image, layer;
    int top = 10;
    RunOptions run;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("activations", "Units of a layer that a photo excites most");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("image", args->image, "photo (JPEG, PNG, WebP, TIFF)")->required();
  cmd->add_option("--layer,-l", args->layer,
                  "layer name (or its end in whole '/' segments, if only one layer ends so); see `featvis layers`")
      ->required();
  cmd->add_option("--top,-k", args->top, "how many units")->check(CLI::Range(1, 100000));
  add_run_options(cmd, args->run);
  cmd->callback([args] {
    const model::Model model = open_model(args->model, args->run);
    args->layer = graph::resolve_layer(model.graph, args->layer);
    at::Tensor input = image::load_network_input(args->image, model.card.preprocessing).unsqueeze(0);
    c10::InferenceMode guard;
    at::Tensor act = model.graph.run(input.to(model.graph.device()), {args->layer}).at(args->layer).to(at::kCPU);
    // Channel means over all positions (dim 1 = units); 2-D outputs are used as they are.
    at::Tensor per_unit = act.dim() > 2 ? act.flatten(2).mean(2)[0] : act.reshape({act.size(0), -1})[0];
    const int64_t k = std::min<int64_t>(args->top, per_unit.size(0));
    auto [values, indices] = at::topk(per_unit, k);
    nlohmann::json units = nlohmann::json::array();
    for (int64_t i = 0; i < k; ++i)
      units.push_back({{"unit", indices[i].item<int64_t>()}, {"mean", values[i].item<float>()}});
    if (args->run.json) {
      std::cout << nlohmann::json{{"model", model.card.name}, {"layer", args->layer}, {"image", args->image},
                                  {"units", per_unit.size(0)}, {"top", units}}
                       .dump(2)
                << '\n';
      return;
    }
    std::cout << args->layer << " (" << per_unit.size(0) << " units) on " << args->image << '\n';
    for (const auto& u : units) std::printf("  unit %5lld  mean %.4f\n", static_cast<long long>(u["unit"]), u["mean"].get<float>());
  });
}

}  // namespace featvis::cli
