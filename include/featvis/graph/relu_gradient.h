#pragma once
// How the backward pass treats ReLU-like clamps (Relu, Clip such as ReLU6) of graphs run
// on this thread. The mode is read when the forward pass is built, so a guard around
// Graph::run decides the gradient of the whole step.
//
// kRedirected is Lucid's "redirected ReLU gradient" (lucid/misc/redirected_relu_grad.py):
// where a unit is clamped (x below the lower bound, or above the upper one) the true
// gradient is zero, so a feature visualization whose target starts out dead never moves.
// The redirected gradient lets it through where a descent step would move x back into
// range, and it is used only for a batch item whose true gradient at that clamp is all
// zero. Renders use it for their first steps only.
//
// kGuided is guided backpropagation (Springenberg et al. 2015), used for attribution:
// besides the usual mask of where the input was active, a rectifier (Relu, Clip, LeakyRelu)
// passes back only positive gradients. Forward values are unchanged in every mode.
namespace featvis::graph {

enum class ReluGradient { kExact, kRedirected, kGuided };

ReluGradient current_relu_gradient();

class ReluGradientGuard {
 public:
  explicit ReluGradientGuard(ReluGradient mode);
  ~ReluGradientGuard();
  ReluGradientGuard(const ReluGradientGuard&) = delete;
  ReluGradientGuard& operator=(const ReluGradientGuard&) = delete;

 private:
  ReluGradient previous_;
};

}  // namespace featvis::graph
