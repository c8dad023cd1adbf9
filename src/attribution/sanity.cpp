#include <featvis/attribution/sanity.h>
#include <featvis/util/error.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace featvis::attribution {

std::vector<std::string> randomize_top_layers(graph::Graph& graph, int64_t layers, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<std::string> done;
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend() && static_cast<int64_t>(done.size()) < layers; ++it) {
    const graph::Node& node = *it;
    if (node.op_type != "Conv" && node.op_type != "Gemm" && node.op_type != "MatMul") continue;
    bool changed = false;
    // Input 0 is the activation; the weight and bias follow.
    for (size_t i = 1; i < node.inputs.size(); ++i) {
      const std::string& name = node.inputs[i];
      if (name.empty() || !graph.has_weight(name)) continue;
      const at::Tensor old = graph.weight(name);
      if (!at::isFloatingType(old.scalar_type())) continue;
      const double std = old.numel() > 1 ? old.to(at::kDouble).std().item<double>() : 0.0;
      const at::Tensor fresh = at::randn(old.sizes(), generator, at::TensorOptions().dtype(at::kFloat)) * std;
      graph.set_weight(name, fresh);
      changed = true;
    }
    if (changed) done.push_back(node.name);
  }
  return done;
}

namespace {

// Ranks 1..n, ties sharing their mean rank.
std::vector<double> ranks(const at::Tensor& t) {
  const at::Tensor flat = t.detach().to(at::kCPU, at::kDouble).contiguous().view({-1});
  const double* v = flat.data_ptr<double>();
  const size_t n = static_cast<size_t>(flat.numel());
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [v](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[order[j + 1]] == v[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
    i = j + 1;
  }
  return r;
}

}  // namespace

double spearman(const at::Tensor& a, const at::Tensor& b) {
  if (a.numel() != b.numel() || a.numel() < 2) {
    throw Error("rank correlation needs two tensors of equal size >= 2, got " + std::to_string(a.numel()) + " and " +
                std::to_string(b.numel()));
  }
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(ra.size());
  const double mean = (n + 1) / 2;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa == 0 || sbb == 0) return std::nan("");
  return sab / std::sqrt(saa * sbb);
}

}  // namespace featvis::attribution
