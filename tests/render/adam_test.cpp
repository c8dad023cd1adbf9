// The render loop's Adam against torch::optim::Adam: the same parameters after the same
// gradients, on the one-pass CPU path and on the op-by-op path (a non-contiguous parameter).
#include "support/test_support.h"

#include <featvis/render/adam.h>

#include <torch/optim/adam.h>

namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Runs `steps` updates on copies of `start` with the same random gradients through both
// optimizers; returns the largest difference of the parameters relative to their size.
double largest_difference(const std::vector<at::Tensor>& start, double lr, double weight_decay, int steps) {
  std::vector<at::Tensor> ours, theirs;
  for (const at::Tensor& t : start) {
    ours.push_back(t.detach().clone().set_requires_grad(true));
    theirs.push_back(t.detach().clone().set_requires_grad(true));
  }
  featvis::render::Adam adam(ours, lr, weight_decay);
  torch::optim::Adam reference(theirs, torch::optim::AdamOptions(lr).weight_decay(weight_decay));
  at::Generator g = seeded(5);
  for (int s = 0; s < steps; ++s) {
    adam.zero_grad();
    reference.zero_grad();
    for (size_t i = 0; i < ours.size(); ++i) {
      // Gradients of one sign for a few steps, then the other: Adam's moments matter.
      const at::Tensor grad = at::randn(ours[i].sizes(), g, at::kFloat) + (s < 6 ? 0.5 : -0.5);
      ours[i].mutable_grad() = grad.clone();
      theirs[i].mutable_grad() = grad.clone();
    }
    adam.step();
    reference.step();
  }
  double largest = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double scale = theirs[i].abs().max().item<double>();
    largest = std::max(largest, (ours[i] - theirs[i]).abs().max().item<double>() / scale);
  }
  return largest;
}

TEST(RenderAdam, MatchesTorchAdamOnePassAndOpByOp) {
  at::Generator g = seeded(1);
  const at::Tensor spectrum = at::randn({2, 3, 16, 9, 2}, g, at::kFloat) * 0.01;
  const at::Tensor weights = at::randn({5, 7}, g, at::kFloat);
  // Float rounding only (a fused multiply-add may round once where ATen rounds twice):
  // measured below 1e-6 of the parameters' size after 12 steps.
  for (double weight_decay : {0.0, 1e-3}) {
    EXPECT_LT(largest_difference({spectrum, weights}, 0.05, weight_decay, 12), 1e-5) << weight_decay;
  }
  // The update moved the parameters by many times that tolerance.
  std::vector<at::Tensor> moved{spectrum.clone().set_requires_grad(true)};
  featvis::render::Adam adam(moved, 0.05, 0.0);
  moved[0].mutable_grad() = at::ones_like(spectrum);
  adam.step();
  EXPECT_NEAR((moved[0] - spectrum).abs().max().item<double>(), 0.05, 1e-6);  // lr on the first step
  // A transposed (non-contiguous) parameter takes torch's own ops: exactly its result.
  const at::Tensor transposed = at::randn({6, 4}, g, at::kFloat).t();
  ASSERT_FALSE(transposed.is_contiguous());
  EXPECT_EQ(largest_difference({transposed}, 0.05, 1e-3, 12), 0.0);
}

TEST(RenderAdam, ZeroGradDropsTheGradientAndSkipsParametersWithout) {
  std::vector<at::Tensor> p{at::ones({3}).set_requires_grad(true), at::ones({2}).set_requires_grad(true)};
  featvis::render::Adam adam(p, 0.1, 0.0);
  p[0].mutable_grad() = at::ones({3});
  adam.step();
  EXPECT_TRUE(at::allclose(p[0], at::full({3}, 0.9), 0, 1e-6));
  EXPECT_TRUE(at::equal(p[1], at::ones({2})));  // no gradient, no update
  adam.zero_grad();
  EXPECT_FALSE(p[0].grad().defined());
}

}  // namespace
