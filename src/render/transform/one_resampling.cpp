// A chain like pad -> jitter -> scale -> rotate -> jitter moves pixels only, so its
// composition is one affine map: each step contributes its warp (drawn with the same
// random calls, in the same order, as the step-by-step chain) and the product maps the
// final output straight back to the input. One bilinear sampling replaces the scale's and
// the rotation's (less blur) and autograd records one affine_sample instead of five ops.
//
// Fill: neighbours outside the input read as the padding's value v, which is constant
// padding with value v however far out the chain reaches (affine_sample). A zero-filling step
// (rotate: corners brought in are black, as in Lucid) multiplies by its frame's mask, the
// frame sampled through the rest of the chain, so its black corners stay where they were.
// Differences from step by step: one interpolation instead of two, and at the outer half
// pixel of a scaled image the sample blends with the fill instead of repeating the edge.
#include "one_resampling.h"

#include <featvis/render/transform/affine_sample.h>

namespace featvis::render::transform::detail {
namespace {

using Matrix = std::array<double, 9>;  // 3x3, row-major, last row 0 0 1

Matrix of(const std::array<double, 6>& m) { return {m[0], m[1], m[2], m[3], m[4], m[5], 0, 0, 1}; }

Matrix times(const Matrix& a, const Matrix& b) {
  Matrix c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[3 * i + j] += a[3 * i + k] * b[3 * k + j];
  return c;
}

std::array<double, 6> affine(const Matrix& m) { return {m[0], m[1], m[2], m[3], m[4], m[5]}; }

}  // namespace

bool can_resample_once(const std::vector<Transform>& steps) {
  if (steps.size() < 2) return false;
  std::optional<double> value;
  bool zero_fill_seen = false;
  for (const Transform& t : steps) {
    if (!t.geometry()) return false;
    const Fill& fill = t.geometry()->fill;
    if (fill.kind == Fill::Kind::kZero) zero_fill_seen = true;
    if (fill.kind != Fill::Kind::kConstant) continue;
    if (zero_fill_seen || (value && *value != fill.value)) return false;
    value = fill.value;
  }
  return true;
}

at::Tensor resample_once(const std::vector<Transform>& steps, const at::Tensor& image, at::Generator& generator) {
  struct Drawn {
    Warp warp;
    int64_t in_h, in_w;
    Fill fill;
  };
  std::vector<Drawn> drawn;
  int64_t h = image.size(2), w = image.size(3);
  double fill_value = 0.0;
  for (const Transform& t : steps) {
    const Geometry& g = *t.geometry();
    drawn.push_back({g.warp(h, w, generator), h, w, g.fill});
    if (g.fill.kind == Fill::Kind::kConstant) fill_value = g.fill.value;
    h = drawn.back().warp.height;
    w = drawn.back().warp.width;
  }
  // Walk back from the output: `suffix` maps output pixels to step i's input.
  Matrix suffix{1, 0, 0, 0, 1, 0, 0, 0, 1};
  at::Tensor mask;
  for (auto it = drawn.rbegin(); it != drawn.rend(); ++it) {
    suffix = times(of(it->warp.to_input), suffix);
    // A zero-filling step that did not move anything (rotate drew 0) brings nothing in.
    const bool moved = it->warp.to_input != std::array<double, 6>{1, 0, 0, 0, 1, 0};
    if (it->fill.kind != Fill::Kind::kZero || !moved) continue;
    const at::Tensor m = affine_coverage(it->in_h, it->in_w, affine(suffix), h, w, image.options());
    mask = mask.defined() ? mask * m : m;
  }
  const at::Tensor out = affine_sample(image, affine(suffix), h, w, fill_value);
  return mask.defined() ? out * mask : out;
}

}  // namespace featvis::render::transform::detail
