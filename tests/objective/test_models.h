#pragma once
// Models and helpers shared by the objective tests: the two-conv test network with a
// card (labels with a synonym and an ambiguous name), and gradient ascent on an image.
#include "support/onnx_builder.h"

#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <ATen/ATen.h>

#include <cmath>

#include <string>
#include <vector>

namespace featvis::testing {

// tiny_two_conv_onnx with 4 classes at size x size: conv1 [4, size, size],
// "block 2:conv" / block2 [6, size/2, size/2], logits [4].
inline Model tiny_model(int size = 8) {
  ModelCard card;
  card.name = "tiny";
  card.input = "input";
  card.output = "logits";
  card.num_classes = 4;
  card.preprocessing.width = size;
  card.preprocessing.height = size;
  card.labels = {"tench, Tinca tinca", "tiger cat", "crane", "crane, whooping crane"};
  return Model{card, Graph::load_onnx_bytes(tiny_two_conv_onnx(4, size), "tiny.onnx"), "", ""};
}

// The network input for an image in [0,1], per the card: (255 x - mean) / std.
inline at::Tensor network_input(const at::Tensor& image, const ModelCard& card) {
  const auto& pre = card.preprocessing;
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}, image.options()).reshape({1, 3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}, image.options()).reshape({1, 3, 1, 1});
  return (image * 255 - mean) / std;
}

// The objective's batch total for an image, through the model.
inline at::Tensor evaluate(const Model& model, const objective::Objective& objective, const at::Tensor& image) {
  const std::vector<std::string> layers(objective.layers().begin(), objective.layers().end());
  const TensorMap activations =
      layers.empty() ? TensorMap{} : model.graph.run(network_input(image, model.card), layers);
  return objective({activations, image}).sum();
}

struct Ascent {
  double before = 0, after = 0;
  double first_gradient = 0;  // mean |d objective / d image parameter| at the start
  bool finite = true;         // every value and gradient was finite
};

// `steps` steps of normalized gradient ascent on the logits of a sigmoid image
// [batch,3,size,size] (seeded random start).
inline Ascent ascend(const Model& model, const objective::Objective& objective, int64_t batch, int64_t size, int steps = 10,
                     double rate = 0.05) {
  at::manual_seed(7);
  at::Tensor p = (at::randn({batch, 3, size, size}) * 0.5).requires_grad_(true);
  Ascent result;
  for (int step = 0; step < steps; ++step) {
    const at::Tensor value = evaluate(model, objective, at::sigmoid(p));
    value.backward();
    const at::Tensor g = p.grad();
    if (step == 0) {
      result.before = value.item<double>();
      result.first_gradient = g.abs().mean().item<double>();
    }
    result.finite = result.finite && std::isfinite(value.item<double>()) && at::isfinite(g).all().item<bool>();
    {
      at::NoGradGuard no_grad;
      p.add_(g / (g.abs().mean() + 1e-12) * rate);
      p.grad().zero_();
    }
  }
  at::NoGradGuard no_grad;
  result.after = evaluate(model, objective, at::sigmoid(p)).item<double>();
  return result;
}

}  // namespace featvis::testing
