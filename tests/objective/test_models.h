#pragma once
// Models and helpers shared by the objective tests: the two-conv test network with a
// card (labels with a synonym and an ambiguous name), and gradient ascent on an image.
#include "support/onnx_builder.h"

#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <string>
#include <vector>

namespace featvis::testing {

// tiny_two_conv_onnx with 4 classes at size x size: conv1 [4, size, size],
// "block 2:conv" / block2 [6, size/2, size/2], logits [4].
inline model::Model tiny_model(int size = 8) {
  model::ModelCard card;
  card.name = "tiny";
  card.input = "input";
  card.output = "logits";
  card.num_classes = 4;
  card.preprocessing.width = size;
  card.preprocessing.height = size;
  card.labels = {"tench, Tinca tinca", "tiger cat", "crane", "crane, whooping crane"};
  return model::Model{card, graph::Graph::load_onnx_bytes(tiny_two_conv_onnx(4, size), "tiny.onnx"), "", ""};
}

// The network input for an image in [0,1], per the card: (255 x - mean) / std.
inline at::Tensor network_input(const at::Tensor& image, const model::ModelCard& card) {
  const auto& pre = card.preprocessing;
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}, image.options()).reshape({1, 3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}, image.options()).reshape({1, 3, 1, 1});
  return (image * 255 - mean) / std;
}

// The objective's batch total for an image, through the model.
inline at::Tensor evaluate(const model::Model& model, const objective::Objective& objective, const at::Tensor& image) {
  const std::vector<std::string> layers(objective.layers().begin(), objective.layers().end());
  const graph::TensorMap activations =
      layers.empty() ? graph::TensorMap{} : model.graph.run(network_input(image, model.card), layers);
  return objective({activations, image}).sum();
}

struct Ascent {
  double before = 0, after = 0;
  double first_gradient = 0;  // mean |d objective / d image parameter| at the start
  bool finite = true;         // every value and gradient was finite
  bool first_step_rose = false;  // the line search found a sufficient rise from the random start
  int steps_taken = 0;           // accepted steps (the ascent stops where none is found)
  double min_rise_ratio = 0;     // smallest (rise / rise predicted by the gradient) of an accepted step
};

// Gradient ascent on the logits of a sigmoid image [batch,3,size,size] (seeded random
// start) with a backtracking line search, so the test asserts a property of the gradient
// rather than of one step size. Each step tries t = rate / mean|g| along g (every
// parameter moves by about `rate`), then halves t until the objective rises by at least
// kSufficientRise of the first-order prediction t |g|^2 (Armijo's condition) and by more
// than float32 rounding could produce. From the random start a correct gradient always
// gets there: the first-order term dominates once t is small enough. A wrong or
// sign-flipped gradient never does, whatever the CPU or thread count; a fixed step
// (plain Adam at a fixed lr) can overshoot an objective that starts near its optimum,
// and whether it did depended on rounding (issue 9). Later steps may find no such rise
// once the objective is nearly at its optimum (blur near 0, a neuron whose pixels are
// all saturated): the ascent stops there.
inline Ascent ascend(const model::Model& model, const objective::Objective& objective, int64_t batch, int64_t size, int steps = 10,
                     double rate = 0.05) {
  // Armijo's usual constants are 1e-4..0.3; a quarter still rejects a gradient that is
  // off by more than a factor 4 in length or points elsewhere.
  constexpr double kSufficientRise = 0.25;
  // 20 halvings reach t0 / 1e6: far below any step where the linear term dominates.
  constexpr int kMaxHalvings = 20;
  // A float32 objective sums up to ~1e5 terms with ~6e-8 relative rounding each
  // (pairwise summation keeps the total near 1e-6 relative); a rise must exceed 1e-5 of
  // the value's size (ten times that), and more than 1e-10 so that a value that rounding
  // alone moves (a dead unit at exactly 0) never counts as a rise.
  auto rounding_floor = [](double value) { return 1e-5 * std::abs(value) + 1e-10; };

  at::manual_seed(7);
  at::Tensor p = (at::randn({batch, 3, size, size}) * 0.5).requires_grad_(true);
  Ascent result;
  result.min_rise_ratio = std::numeric_limits<double>::infinity();
  for (int step = 0; step < steps; ++step) {
    const at::Tensor value_t = evaluate(model, objective, at::sigmoid(p));
    value_t.backward();
    const at::Tensor g = p.grad().clone();
    p.grad().zero_();
    const double value = value_t.item<double>();
    if (step == 0) {
      result.before = value;
      result.first_gradient = g.abs().mean().item<double>();
    }
    result.finite = result.finite && std::isfinite(value) && at::isfinite(g).all().item<bool>();
    if (!result.finite) break;
    at::NoGradGuard no_grad;
    const double g_squared = (g.to(at::kDouble) * g.to(at::kDouble)).sum().item<double>();
    double t = rate / (g.abs().mean().item<double>() + 1e-30);
    bool accepted = false;
    for (int halving = 0; halving <= kMaxHalvings && !accepted; ++halving, t /= 2) {
      const at::Tensor candidate = p.detach() + t * g;
      const double rise = evaluate(model, objective, at::sigmoid(candidate)).item<double>() - value;
      const double predicted = t * g_squared;
      if (rise >= kSufficientRise * predicted && rise > rounding_floor(value)) {
        result.min_rise_ratio = std::min(result.min_rise_ratio, rise / predicted);
        p.copy_(candidate);
        accepted = true;
      }
    }
    if (!accepted) break;
    result.first_step_rose = result.first_step_rose || step == 0;
    ++result.steps_taken;
  }
  at::NoGradGuard no_grad;
  result.after = evaluate(model, objective, at::sigmoid(p)).item<double>();
  return result;
}

}  // namespace featvis::testing
