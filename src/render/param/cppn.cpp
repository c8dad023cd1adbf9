#include <featvis/render/param/cppn.h>

#include <cmath>

namespace featvis::render::param {
namespace {

// tf.initializers.variance_scaling() (scale 1, fan_in, truncated normal): N(0, s) cut at
// 2 s, with s = sqrt(1 / fan_in) / 0.8796 so the truncated values keep variance 1/fan_in.
at::Tensor truncated_normal(std::vector<int64_t> shape, double stddev, at::Generator& generator) {
  at::Tensor x = at::normal(0.0, stddev, shape, generator, at::TensorOptions().dtype(at::kFloat));
  for (at::Tensor out = x.abs() > 2 * stddev; out.any().item<bool>(); out = x.abs() > 2 * stddev) {
    x = at::where(out, at::normal(0.0, stddev, shape, generator, at::TensorOptions().dtype(at::kFloat)), x);
  }
  return x;
}

// atan, then its two halves scaled to unit RMS for N(0, 1) inputs (Lucid's constants).
at::Tensor composite_activation(const at::Tensor& z) {
  const at::Tensor a = at::atan(z);
  return at::cat({a / 0.67, a * a / 0.6}, 1);
}

}  // namespace

std::vector<at::Tensor> cppn_parameters(int64_t batch, const CppnShape& shape, at::Generator& generator,
                                        const at::TensorOptions& options) {
  std::vector<at::Tensor> parameters;
  int64_t in = 2;  // x, y
  for (int64_t layer = 0; layer <= shape.hidden_layers; ++layer) {
    const bool last = layer == shape.hidden_layers;
    const int64_t out = last ? 3 : shape.hidden_units;
    const at::Tensor w = last ? at::zeros({batch * out, in, 1, 1})
                              : truncated_normal({batch * out, in, 1, 1}, std::sqrt(1.0 / in) / 0.87962566103423978,
                                                 generator);
    const at::Tensor b = at::normal(0.0, 0.1, {batch * out}, generator, at::TensorOptions().dtype(at::kFloat));
    parameters.push_back(w.to(options).set_requires_grad(true));
    parameters.push_back(b.to(options).set_requires_grad(true));
    in = 2 * out;  // the composite activation doubles the channels
  }
  return parameters;
}

at::Tensor cppn_coordinates(int64_t height, int64_t width, const at::TensorOptions& options) {
  const double r = std::sqrt(3.0);  // coordinates with unit standard deviation
  const at::TensorOptions o = options.requires_grad(false);
  const at::Tensor ys = at::linspace(-r, r, height, o), xs = at::linspace(-r, r, width, o);
  const std::vector<at::Tensor> grid = at::meshgrid({ys, xs}, "ij");
  return at::stack({grid[1], grid[0]}, 0).reshape({2, height * width});
}

at::Tensor cppn_logits(const std::vector<at::Tensor>& parameters, const at::Tensor& coordinates, int64_t batch,
                       int64_t height, int64_t width) {
  // [batch, 2, H*W]: every item sees the same (x, y) planes; a 1x1 convolution per item is
  // one batched matrix product with that item's weights.
  at::Tensor net = coordinates.view({1, 2, height * width}).expand({batch, 2, height * width});
  for (size_t i = 0; i < parameters.size(); i += 2) {
    const at::Tensor w = parameters[i].view({batch, -1, net.size(1)});
    const at::Tensor z = at::baddbmm(parameters[i + 1].view({batch, -1, 1}), w, net);
    net = i + 2 == parameters.size() ? z : composite_activation(z);
  }
  return net.view({batch, 3, height, width});
}

}  // namespace featvis::render::param
