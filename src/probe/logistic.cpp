#include <featvis/probe/logistic.h>

#include <featvis/util/check.h>

#include <torch/torch.h>

namespace featvis::probe {
namespace {

struct Fit {
  at::Tensor mean, std, w, b;

  at::Tensor logits(const at::Tensor& x) const { return ((x - mean) / std).mm(w) + b; }
  double accuracy(const at::Tensor& x, const at::Tensor& y) const {
    at::NoGradGuard no_grad;
    return logits(x).argmax(1).eq(y).to(at::kDouble).mean().item<double>();
  }
};

Fit fit(const at::Tensor& x_raw, const at::Tensor& y, int64_t classes, double l2, int64_t max_iterations) {
  Fit f;
  f.mean = x_raw.mean(0, true);
  // A constant feature (a dead unit) would divide by zero; it stays 0 after centring.
  f.std = x_raw.std(0, /*unbiased=*/false, true).clamp_min(1e-6);
  const at::Tensor x = ((x_raw - f.mean) / f.std).contiguous();
  f.w = torch::zeros({x.size(1), classes}, torch::requires_grad());
  f.b = torch::zeros({classes}, torch::requires_grad());
  torch::optim::LBFGS lbfgs({f.w, f.b}, torch::optim::LBFGSOptions(1)
                                            .max_iter(max_iterations)
                                            .history_size(20)
                                            .tolerance_grad(1e-6)
                                            .tolerance_change(1e-10)
                                            .line_search_fn("strong_wolfe"));
  auto closure = [&] {
    lbfgs.zero_grad();
    at::Tensor loss = torch::nn::functional::cross_entropy(x.mm(f.w) + f.b, y) + 0.5 * l2 * f.w.pow(2).sum();
    loss.backward();
    return loss;
  };
  lbfgs.step(closure);
  f.w = f.w.detach();
  f.b = f.b.detach();
  return f;
}

}  // namespace

ProbeScore fit_probe(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x, const at::Tensor& test_y,
                     int64_t classes, const LogisticOptions& o) {
  FEATVIS_CHECK(classes >= 2, "a probe needs at least 2 classes, the training data has ", classes);
  FEATVIS_CHECK(train_x.dim() == 2 && train_x.size(0) == train_y.size(0) && test_x.dim() == 2 &&
                    test_x.size(0) == test_y.size(0) && test_x.size(1) == train_x.size(1),
                "probe: features and labels do not match");
  for (const at::Tensor& y : {train_y, test_y})
    FEATVIS_CHECK(y.numel() == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < classes),
                  "probe: a label is outside the ", classes, " classes");
  FEATVIS_CHECK(!o.l2.empty(), "probe: no L2 candidates");
  FEATVIS_CHECK_SETTING(o.held_out > 0 && o.held_out < 1, "held_out", "must be in (0, 1), not ", o.held_out);
  const int64_t n = train_x.size(0);
  const int64_t n_held = std::max<int64_t>(1, static_cast<int64_t>(o.held_out * static_cast<double>(n)));
  FEATVIS_CHECK(n - n_held >= 2, "a probe needs more training images than ", n);
  const at::Tensor x = train_x.to(at::kFloat), xt = test_x.to(at::kFloat);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const at::Tensor perm = at::randperm(n, g, at::kLong);
  const at::Tensor held = perm.narrow(0, 0, n_held), kept = perm.narrow(0, n_held, n - n_held);

  ProbeScore s;
  s.features = x.size(1);
  s.held_out_accuracy = -1;
  for (double l2 : o.l2) {
    const Fit f = fit(x.index_select(0, kept), train_y.index_select(0, kept), classes, l2, o.max_iterations);
    const double acc = f.accuracy(x.index_select(0, held), train_y.index_select(0, held));
    // Ties go to the stronger regularization, the simpler probe.
    if (acc >= s.held_out_accuracy) {
      s.held_out_accuracy = acc;
      s.l2 = l2;
    }
  }
  const Fit f = fit(x, train_y, classes, s.l2, o.max_iterations);
  s.train_accuracy = f.accuracy(x, train_y);
  s.test_accuracy = f.accuracy(xt, test_y);
  return s;
}

}  // namespace featvis::probe
