#pragma once
// Transformation robustness (Lucid's optvis.transform): before each step the image is
// randomly padded, shifted, scaled and rotated, so only patterns that excite the unit
// wherever and however large they appear survive; high-frequency adversarial noise does
// not. A Transform is a value: a description plus a differentiable function of the
// [N,3,H,W] image. Every random choice comes from the at::Generator passed in and is
// shared by the whole batch, as in Lucid.
#include <ATen/ATen.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace featvis::render::transform {

// What a transform that only moves pixels does to an image of a given size, once its
// random choices are drawn: the output size, and where each output pixel (x, y) is taken
// from in the input, x_in = m[0]*x + m[1]*y + m[2], y_in = m[3]*x + m[4]*y + m[5] (pixel
// centres at integers). compose() chains these into one resampling.
struct Warp {
  int64_t height = 0;
  int64_t width = 0;
  std::array<double, 6> to_input{1, 0, 0, 0, 1, 0};
};

// What a geometric transform shows where it reaches outside its input: nothing (a crop
// or resize stays inside), zeros (rotate's black corners), or a constant (padding).
struct Fill {
  enum class Kind { kNone, kZero, kConstant } kind = Kind::kNone;
  double value = 0.0;  // kConstant
};

// A geometric transform's description for fusion: draws its choices (in the same order as
// its function does, so fused and step-by-step chains see the same choices) and says the
// warp. Transforms without one (reflect padding) are applied step by step.
struct Geometry {
  std::function<Warp(int64_t height, int64_t width, at::Generator& generator)> warp;
  Fill fill;
};

class Transform {
 public:
  using Function = std::function<at::Tensor(const at::Tensor& image, at::Generator& generator)>;

  Transform();  // the identity, described as "none"
  Transform(std::string description, Function function, std::optional<Geometry> geometry = std::nullopt);

  at::Tensor operator()(const at::Tensor& image, at::Generator& generator) const;
  // Text form, parseable by transform::parse ("pad(12),jitter(8)", "none").
  const std::string& description() const { return description_; }
  bool is_identity() const { return !function_; }
  const std::optional<Geometry>& geometry() const { return geometry_; }

 private:
  std::string description_;
  Function function_;
  std::optional<Geometry> geometry_;
};

// kOnce: a chain of geometric transforms (pad, jitter, scale, rotate) is applied as one
// affine resampling of the input (affine_sample.h), one bilinear sampling forward and
// backward per step instead of one interpolation per transform (less blur, less time).
// The random choices, their order and the output size are those of the step-by-step
// chain. kPerTransform applies each transform to the previous one's output (the
// reference, for tests and benchmarks).
enum class Resampling { kOnce, kPerTransform };

// Applies the transforms in order; an empty list is the identity.
Transform compose(const std::vector<Transform>& transforms, Resampling resampling = Resampling::kOnce);

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
