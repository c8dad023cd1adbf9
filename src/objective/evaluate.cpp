// Objectives through a model: see evaluate.h.
#include <featvis/image/network_input.h>
#include <featvis/objective/evaluate.h>
#include <featvis/util/check.h>

#include <ATen/core/grad_mode.h>

#include <cstdlib>

namespace featvis::objective {
namespace {

// The objective's one layer cut to the channels it reads (graph::Graph::channel_slice),
// where that is at most half of them: no layer asked for besides (a caller that asks for
// one, like Grad-CAM, reads it whole), no reference photos (they are compared over whole
// layers), and a graph that can cut the layer.
// FEATVIS_CHANNEL_SLICE=0 turns it off (benchmarks' A/B, a check of a surprising render).
graph::ChannelSlice slice_for(const model::Model& model, const Objective& objective,
                              const std::vector<std::string>& extra_layers) {
  static const bool enabled = [] {
    const char* v = std::getenv("FEATVIS_CHANNEL_SLICE");
    return !(v && std::string(v) == "0");
  }();
  if (!enabled || !extra_layers.empty() || objective.layers().size() != 1 || objective.channels_read().size() != 1 ||
      !objective.references().empty())
    return {};
  const auto& [layer, read] = *objective.channels_read().begin();
  graph::ChannelSlice slice = model.graph.channel_slice(layer, std::vector<int64_t>(read.begin(), read.end()));
  if (!slice.graph || 2 * static_cast<int64_t>(read.size()) > slice.channels) return {};
  return slice;
}

}  // namespace

Evaluation evaluate(const model::Model& model, const Objective& objective, const at::Tensor& images,
                    const std::vector<std::string>& extra_layers, const at::Tensor& network_view) {
  std::vector<std::string> layers(objective.layers().begin(), objective.layers().end());
  for (const auto& layer : extra_layers)
    if (!objective.layers().count(layer)) layers.push_back(layer);
  const at::Tensor seen = network_view.defined() ? network_view : network_batch(objective, images);
  const int64_t n = images.size(0), m = static_cast<int64_t>(objective.references().size());
  FEATVIS_CHECK(seen.size(0) == n + m, "the network's batch has ", seen.size(0), " rows, expected ", n,
                " images and ", m, " reference photos");
  Evaluation evaluation;
  const at::Tensor input = image::network_input(seen, model.card.preprocessing);
  if (const graph::ChannelSlice slice = slice_for(model, objective, extra_layers); slice.graph) {
    const auto& [layer, read] = *objective.channels_read().begin();
    evaluation.subsets[layer] = ChannelSubset{slice.channels, std::vector<int64_t>(read.begin(), read.end())};
    evaluation.activations[layer] = slice.graph->run(input, {slice.tensor}).at(slice.tensor);
    evaluation.values = objective(ObjectiveInput{evaluation.activations, images, nullptr, &model.graph, &evaluation.subsets});
    return evaluation;
  }
  evaluation.activations = model.graph.run(input, layers);
  if (m == 0) {
    evaluation.values = objective(ObjectiveInput{evaluation.activations, images, nullptr, &model.graph});
    return evaluation;
  }
  // The references' rows go to their own maps; the objective and callers see N rows.
  std::map<std::string, graph::TensorMap> references;
  for (auto& [layer, tensor] : evaluation.activations) {
    int64_t row = n;
    for (const auto& reference : objective.references()) references[reference.first][layer] = tensor.narrow(0, row++, 1);
    tensor = tensor.narrow(0, 0, n);
  }
  evaluation.values = objective(ObjectiveInput{evaluation.activations, images, &references, &model.graph});
  return evaluation;
}

at::Tensor reference_rows(const Objective& objective, int64_t h, int64_t w, const at::Tensor& like) {
  if (objective.references().empty()) return {};
  std::vector<at::Tensor> rows;
  for (const auto& reference : objective.references()) {
    at::Tensor photo = reference.second.to(like.options().requires_grad(false)).unsqueeze(0);
    if (photo.size(2) != h || photo.size(3) != w) {
      photo = at::_upsample_bilinear2d_aa(photo, {h, w}, /*align_corners=*/false);
    }
    rows.push_back(photo);
  }
  return at::cat(rows, 0);
}

at::Tensor network_batch(const Objective& objective, const at::Tensor& images) {
  const at::Tensor rows = reference_rows(objective, images.size(2), images.size(3), images);
  return rows.defined() ? at::cat({images, rows}, 0) : images;
}

std::vector<double> values(const model::Model& model, const Objective& objective, const at::Tensor& images) {
  at::NoGradGuard no_grad;
  const at::Tensor cpu = evaluate(model, objective, images).values.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}

}  // namespace featvis::objective
