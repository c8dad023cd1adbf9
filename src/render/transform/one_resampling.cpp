// A chain like pad -> jitter -> scale -> rotate -> jitter moves pixels only, so its
// composition is one affine map: each step contributes its warp (drawn with the same
// random calls, in the same order, as the step-by-step chain) and the product maps the
// final output straight back to the input. One bilinear sampling replaces the scale's and
// the rotation's (less blur) and autograd records one grid_sample instead of five ops.
//
// Fill: the input is sampled as (image - v) with zeros outside, then v added back, which
// is constant padding with value v however far out the chain reaches. A zero-filling step
// (rotate: corners brought in are black, as in Lucid) multiplies by its frame's mask, the
// frame sampled through the rest of the chain, so its black corners stay where they were.
// Differences from step by step: one interpolation instead of two, and at the outer half
// pixel of a scaled image the sample blends with the fill instead of repeating the edge.
#include "one_resampling.h"

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

// `to_input` (output pixels -> input pixels) as affine_grid's theta, which maps output
// coordinates in [-1,1] to input coordinates in [-1,1] (align_corners = false).
at::Tensor theta(const Matrix& to_input, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                 const at::TensorOptions& options) {
  const auto ow = static_cast<double>(out_w), oh = static_cast<double>(out_h);
  const auto iw = static_cast<double>(in_w), ih = static_cast<double>(in_h);
  const Matrix from_unit_out{ow / 2, 0, (ow - 1) / 2, 0, oh / 2, (oh - 1) / 2, 0, 0, 1};
  const Matrix to_unit_in{2 / iw, 0, 1 / iw - 1, 0, 2 / ih, 1 / ih - 1, 0, 0, 1};
  const Matrix t = times(to_unit_in, times(to_input, from_unit_out));
  return at::tensor({t[0], t[1], t[2], t[3], t[4], t[5]}, at::TensorOptions().dtype(at::kDouble))
      .view({1, 2, 3})
      .to(options);
}

at::Tensor sample(const at::Tensor& source, const Matrix& to_input, int64_t out_h, int64_t out_w) {
  const at::Tensor t = theta(to_input, source.size(2), source.size(3), out_h, out_w, source.options())
                           .expand({source.size(0), 2, 3});
  const at::Tensor grid =
      at::affine_grid_generator(t, {source.size(0), source.size(1), out_h, out_w}, /*align_corners=*/false);
  return at::grid_sampler(source, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false);
}

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
    const at::Tensor frame = at::ones({1, 1, it->in_h, it->in_w}, image.options().requires_grad(false));
    const at::Tensor m = sample(frame, suffix, h, w);
    mask = mask.defined() ? mask * m : m;
  }
  at::Tensor out = fill_value == 0.0 ? sample(image, suffix, h, w) : sample(image - fill_value, suffix, h, w) + fill_value;
  return mask.defined() ? out * mask : out;
}

}  // namespace featvis::render::transform::detail
