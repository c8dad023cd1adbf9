// The transform chain's one resampling, on the CPU in plain loops: affine_grid +
// grid_sampler cost a grid of 2 floats per output pixel made by a batched matrix product,
// and grid_sampler's backward also computes the gradient of that grid, which nothing
// needs (docs/PERFORMANCE.md, "Where a render step goes"). Here each output pixel's four
// taps are computed from the map where they are used, once for all channels; the fill
// enters as a value instead of two more passes (source - fill, then + fill). The weights
// are grid_sampler's; the coordinates are computed in double instead of from a float
// grid, so results agree with it to float rounding. Other devices use affine_grid +
// grid_sampler.
#include <featvis/render/transform/affine_sample.h>
#include <featvis/util/check.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace featvis::render::transform {
namespace {

using Affine = std::array<double, 6>;

// The four bilinear taps of one output pixel: top-left corner, weights, and which of the
// four neighbours lie inside the source.
template <typename T>
struct Taps {
  int64_t corner;        // y0 * in_w + x0
  T w00, w01, w10, w11;  // (y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)
  bool inside;           // all four
  bool in00, in01, in10, in11;

  Taps(const Affine& m, int64_t x, int64_t y, int64_t in_h, int64_t in_w) {
    const double ix = m[0] * static_cast<double>(x) + m[1] * static_cast<double>(y) + m[2];
    const double iy = m[3] * static_cast<double>(x) + m[4] * static_cast<double>(y) + m[5];
    const int64_t x0 = floor_in(ix, in_w), y0 = floor_in(iy, in_h);
    const auto tx = static_cast<T>(ix - static_cast<double>(x0)), ty = static_cast<T>(iy - static_cast<double>(y0));
    w00 = (1 - tx) * (1 - ty);
    w01 = tx * (1 - ty);
    w10 = (1 - tx) * ty;
    w11 = tx * ty;
    corner = y0 * in_w + x0;
    const bool x_in = x0 >= 0 && x0 < in_w, x1_in = x0 + 1 >= 0 && x0 + 1 < in_w;
    const bool y_in = y0 >= 0 && y0 < in_h, y1_in = y0 + 1 >= 0 && y0 + 1 < in_h;
    in00 = y_in && x_in;
    in01 = y_in && x1_in;
    in10 = y1_in && x_in;
    in11 = y1_in && x1_in;
    inside = in00 && in11;
  }

  // floor(v) by a cast (no libm call on baseline x86-64), after clamping v into
  // [-2, size + 1]: beyond that no tap is inside on this axis, and every tap reads the fill.
  static int64_t floor_in(double v, int64_t size) {
    v = std::min(std::max(v, -2.0), static_cast<double>(size + 1));
    const auto i = static_cast<int64_t>(v);
    return static_cast<double>(i) > v ? i - 1 : i;
  }
};

at::Tensor sample_cpu(const at::Tensor& source, const Affine& m, int64_t out_h, int64_t out_w, double fill) {
  const at::Tensor x = source.contiguous();
  const int64_t planes = x.size(0) * x.size(1), in_h = x.size(2), in_w = x.size(3);
  at::Tensor out = at::empty({x.size(0), x.size(1), out_h, out_w}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "affine_sample", [&] {
    const scalar_t* src = x.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    const auto v = static_cast<scalar_t>(fill);
    const int64_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    // Rows apart: each output value is computed alone, whatever the thread count. A row's
    // taps are computed once, then each plane's row is read and written in order: with the
    // planes innermost, a batch of 8 renders (24 planes 200 KB apart) touched 24 pages per
    // pixel and ran 5x slower per plane than a single render.
    at::parallel_for(0, out_h, 16, [&](int64_t y_begin, int64_t y_end) {
      std::vector<Taps<scalar_t>> row;
      row.reserve(static_cast<size_t>(out_w));
      for (int64_t y = y_begin; y < y_end; ++y) {
        row.clear();
        for (int64_t xo = 0; xo < out_w; ++xo) row.emplace_back(m, xo, y, in_h, in_w);
        for (int64_t p = 0; p < planes; ++p) {
          const scalar_t* plane = src + p * in_plane;
          scalar_t* d = dst + p * out_plane + y * out_w;
          for (int64_t xo = 0; xo < out_w; ++xo) {
            const Taps<scalar_t>& t = row[static_cast<size_t>(xo)];
            const scalar_t* s = plane + t.corner;
            d[xo] = t.inside ? t.w00 * s[0] + t.w01 * s[1] + t.w10 * s[in_w] + t.w11 * s[in_w + 1]
                             : t.w00 * (t.in00 ? s[0] : v) + t.w01 * (t.in01 ? s[1] : v) +
                                   t.w10 * (t.in10 ? s[in_w] : v) + t.w11 * (t.in11 ? s[in_w + 1] : v);
          }
        }
      }
    });
  });
  return out;
}

// The adjoint of sample_cpu: each output pixel's gradient spread back onto its taps.
at::Tensor adjoint_cpu(const at::Tensor& grad_out, const Affine& m, int64_t in_h, int64_t in_w) {
  const at::Tensor g = grad_out.contiguous();
  const int64_t planes = g.size(0) * g.size(1), out_h = g.size(2), out_w = g.size(3);
  at::Tensor grad_in = at::zeros({g.size(0), g.size(1), in_h, in_w}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "affine_sample_backward", [&] {
    const scalar_t* go = g.data_ptr<scalar_t>();
    scalar_t* gi = grad_in.data_ptr<scalar_t>();
    const int64_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    // Planes apart: taps of neighbouring outputs overlap, so each thread owns whole planes
    // and adds in the same order whatever the thread count (per plane: output rows, then
    // pixels, in order). A row's taps are computed once for the thread's planes, each plane's
    // row then spread in order (planes innermost thrashed the cache at batch 8, as above).
    at::parallel_for(0, planes, 1, [&](int64_t p_begin, int64_t p_end) {
      std::vector<Taps<scalar_t>> row;
      row.reserve(static_cast<size_t>(out_w));
      for (int64_t y = 0; y < out_h; ++y) {
        row.clear();
        for (int64_t xo = 0; xo < out_w; ++xo) row.emplace_back(m, xo, y, in_h, in_w);
        for (int64_t p = p_begin; p < p_end; ++p) {
          const scalar_t* d = go + p * out_plane + y * out_w;
          scalar_t* plane = gi + p * in_plane;
          for (int64_t xo = 0; xo < out_w; ++xo) {
            const Taps<scalar_t>& t = row[static_cast<size_t>(xo)];
            scalar_t* s = plane + t.corner;
            const scalar_t g = d[xo];
            if (t.inside) {
              s[0] += t.w00 * g;
              s[1] += t.w01 * g;
              s[in_w] += t.w10 * g;
              s[in_w + 1] += t.w11 * g;
              continue;
            }
            if (t.in00) s[0] += t.w00 * g;
            if (t.in01) s[1] += t.w01 * g;
            if (t.in10) s[in_w] += t.w10 * g;
            if (t.in11) s[in_w + 1] += t.w11 * g;
          }
        }
      }
    });
  });
  return grad_in;
}

// affine_sample of an all-ones [1,1,in_h,in_w] frame: the weights of the taps inside,
// with no frame to allocate and read.
at::Tensor coverage_cpu(int64_t in_h, int64_t in_w, const Affine& m, int64_t out_h, int64_t out_w,
                        const at::TensorOptions& options) {
  at::Tensor out = at::empty({1, 1, out_h, out_w}, options);
  AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "affine_coverage", [&] {
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, out_h, 16, [&](int64_t y_begin, int64_t y_end) {
      for (int64_t y = y_begin; y < y_end; ++y) {
        for (int64_t xo = 0; xo < out_w; ++xo) {
          const Taps<scalar_t> t(m, xo, y, in_h, in_w);
          dst[y * out_w + xo] = t.inside ? scalar_t(1) : (t.in00 ? t.w00 : 0) + (t.in01 ? t.w01 : 0) +
                                                             (t.in10 ? t.w10 : 0) + (t.in11 ? t.w11 : 0);
        }
      }
    });
  });
  return out;
}

class AffineSample : public torch::autograd::Function<AffineSample> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& source, const Affine& m,
                            int64_t out_h, int64_t out_w, double fill) {
    ctx->saved_data["m"] = std::vector<double>(m.begin(), m.end());
    ctx->saved_data["in_h"] = source.size(2);
    ctx->saved_data["in_w"] = source.size(3);
    return sample_cpu(source, m, out_h, out_w, fill);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const std::vector<double> saved = ctx->saved_data["m"].toDoubleVector();
    Affine m;
    std::copy(saved.begin(), saved.end(), m.begin());
    const at::Tensor grad =
        adjoint_cpu(grads[0], m, ctx->saved_data["in_h"].toInt(), ctx->saved_data["in_w"].toInt());
    return {grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// `to_input` as affine_grid's theta, which maps output coordinates in [-1,1] to input
// coordinates in [-1,1] (align_corners = false).
at::Tensor theta(const Affine& m, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                 const at::TensorOptions& options) {
  const auto ow = static_cast<double>(out_w), oh = static_cast<double>(out_h);
  const auto iw = static_cast<double>(in_w), ih = static_cast<double>(in_h);
  // to_unit_in * m * from_unit_out, with from_unit_out: u -> u * o/2 + (o-1)/2 and
  // to_unit_in: x -> 2x/i + 1/i - 1 (per axis).
  const double a = 2 / iw, b = 1 / iw - 1, c = 2 / ih, d = 1 / ih - 1;
  const double t[6] = {a * m[0] * ow / 2,
                       a * m[1] * oh / 2,
                       a * (m[0] * (ow - 1) / 2 + m[1] * (oh - 1) / 2 + m[2]) + b,
                       c * m[3] * ow / 2,
                       c * m[4] * oh / 2,
                       c * (m[3] * (ow - 1) / 2 + m[4] * (oh - 1) / 2 + m[5]) + d};
  return at::tensor(std::vector<double>(t, t + 6), at::TensorOptions().dtype(at::kDouble)).view({1, 2, 3}).to(options);
}

at::Tensor sample_by_grid(const at::Tensor& source, const Affine& m, int64_t out_h, int64_t out_w) {
  const at::Tensor t = theta(m, source.size(2), source.size(3), out_h, out_w, source.options())
                           .expand({source.size(0), 2, 3});
  const at::Tensor grid =
      at::affine_grid_generator(t, {source.size(0), source.size(1), out_h, out_w}, /*align_corners=*/false);
  return at::grid_sampler(source, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false);
}

}  // namespace

at::Tensor affine_sample(const at::Tensor& source, const std::array<double, 6>& to_input, int64_t out_h,
                         int64_t out_w, double fill) {
  FEATVIS_CHECK(source.dim() == 4, "affine_sample expects an [N,C,H,W] tensor, got ", source.sizes());
  FEATVIS_CHECK(out_h > 0 && out_w > 0, "affine_sample: output size ", out_h, "x", out_w, " is empty");
  if (source.device().is_cpu()) return AffineSample::apply(source, to_input, out_h, out_w, fill);
  return affine_sample_by_grid_sampler(source, to_input, out_h, out_w, fill);
}

at::Tensor affine_coverage(int64_t in_h, int64_t in_w, const std::array<double, 6>& to_input, int64_t out_h,
                           int64_t out_w, const at::TensorOptions& options) {
  FEATVIS_CHECK(out_h > 0 && out_w > 0, "affine_coverage: output size ", out_h, "x", out_w, " is empty");
  if (options.device().is_cpu()) return coverage_cpu(in_h, in_w, to_input, out_h, out_w, options);
  return affine_sample(at::ones({1, 1, in_h, in_w}, options), to_input, out_h, out_w);
}

at::Tensor affine_sample_by_grid_sampler(const at::Tensor& source, const std::array<double, 6>& to_input,
                                         int64_t out_h, int64_t out_w, double fill) {
  FEATVIS_CHECK(source.dim() == 4, "affine_sample expects an [N,C,H,W] tensor, got ", source.sizes());
  if (fill == 0.0) return sample_by_grid(source, to_input, out_h, out_w);
  return sample_by_grid(source - fill, to_input, out_h, out_w) + fill;
}

}  // namespace featvis::render::transform
