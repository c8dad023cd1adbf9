#pragma once
// Transformation robustness (Lucid's optvis.transform): before each step the image is
// randomly padded, shifted, scaled and rotated, so only patterns that excite the unit
// wherever and however large they appear survive; high-frequency adversarial noise does
// not. A Transform is a value: a description plus a differentiable function of the
// [N,3,H,W] image. Every random choice comes from the at::Generator passed in and is
// shared by the whole batch, as in Lucid.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::render::transform {

class Transform {
 public:
  using Function = std::function<at::Tensor(const at::Tensor& image, at::Generator& generator)>;

  Transform();  // the identity, described as "none"
  Transform(std::string description, Function function);

  at::Tensor operator()(const at::Tensor& image, at::Generator& generator) const;
  // Text form, parseable by transform::parse ("pad(12),jitter(8)", "none").
  const std::string& description() const { return description_; }
  bool is_identity() const { return !function_; }

 private:
  std::string description_;
  Function function_;
};

// Applies the transforms in order; an empty list is the identity.
Transform compose(const std::vector<Transform>& transforms);

// Random integer in [low, high] and random double in [low, high) from `generator`
// (drawn on the CPU, so the same seed gives the same choices on every device).
int64_t random_int(at::Generator& generator, int64_t low, int64_t high);
double random_uniform(at::Generator& generator, double low, double high);

// Where a random transform parameter comes from: one of `values`, each entry equally
// likely (a repeated value is more likely, like Lucid's extra zero angles), or with
// `range` set, uniform in [values[0], values[1]].
struct RandomChoice {
  std::vector<double> values;
  bool range = false;

  static RandomChoice one_of(std::vector<double> values);
  static RandomChoice uniform(double low, double high);
  double draw(at::Generator& generator) const;
  // "{0.9,1,1.1}" for a list, "(0.9,1.1)" for a range, "(1)" for a single value.
  std::string text() const;
};

}  // namespace featvis::render::transform
