// Objectives through a model: see evaluate.h.
#include <featvis/image/network_input.h>
#include <featvis/objective/evaluate.h>

#include <ATen/core/grad_mode.h>

namespace featvis::objective {

Evaluation evaluate(const model::Model& model, const Objective& objective, const at::Tensor& images,
                    const std::vector<std::string>& extra_layers, const at::Tensor& network_view) {
  std::vector<std::string> layers(objective.layers().begin(), objective.layers().end());
  for (const auto& layer : extra_layers)
    if (!objective.layers().count(layer)) layers.push_back(layer);
  const at::Tensor& seen = network_view.defined() ? network_view : images;
  Evaluation evaluation;
  evaluation.activations = model.graph.run(image::network_input(seen, model.card.preprocessing), layers);
  evaluation.values = objective(ObjectiveInput{evaluation.activations, images});
  return evaluation;
}

std::vector<double> values(const model::Model& model, const Objective& objective, const at::Tensor& images) {
  at::NoGradGuard no_grad;
  const at::Tensor cpu = evaluate(model, objective, images).values.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

}  // namespace featvis::objective
