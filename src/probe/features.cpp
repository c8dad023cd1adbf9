#include <featvis/probe/features.h>

#include <featvis/image/network_input.h>
#include <featvis/util/check.h>
#include <featvis/util/progress.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>

namespace featvis::probe {

Pooling parse_pooling(const std::string& name) {
  if (name == "avg") return Pooling::kAverage;
  if (name == "grid") return Pooling::kGrid2x2;
  throw SettingError("pooling", "must be avg (global average) or grid (2x2 grid of averages), not '" + name + "'");
}

std::string to_string(Pooling pooling) { return pooling == Pooling::kAverage ? "avg" : "grid"; }

Features pooled_features(const model::Model& model, const ProbeData& data, const FeatureOptions& o) {
  FEATVIS_CHECK_SETTING(o.batch_size >= 1, "batch", "must be at least 1");
  FEATVIS_CHECK(!o.layers.empty(), "no layers to probe");
  for (const auto& l : o.layers) model.graph.require_tensor(l);
  Features f;
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = data.size();
  ProgressBar bar(n, o.progress_label, o.progress);
  at::NoGradGuard no_grad;  // not InferenceMode: the features later enter autograd (the regression)
  for (int64_t begin = 0; begin < n; begin += o.batch_size) {
    const int64_t count = std::min(o.batch_size, n - begin);
    const at::Tensor input = image::network_input(data.images01(begin, count, model.card.preprocessing),
                                                  model.card.preprocessing)
                                 .to(model.graph.device());
    const graph::TensorMap out = model.graph.run_inference(input, o.layers);
    for (size_t l = 0; l < o.layers.size(); ++l) {
      const at::Tensor& a = out.at(o.layers[l]);
      FEATVIS_CHECK(a.dim() == 2 || a.dim() == 4, "layer '", o.layers[l], "' has ", a.dim(),
                    " dimensions; a probe needs [N, C] or [N, C, H, W]");
      at::Tensor pooled = a.dim() == 2 ? a
                          : o.pooling == Pooling::kAverage ? a.mean({2, 3})
                                                           : at::adaptive_avg_pool2d(a, {2, 2}).flatten(1);
      pooled = pooled.to(at::kCPU, at::kFloat);
      if (f.per_layer.size() <= l) f.per_layer.push_back(at::empty({n, pooled.size(1)}, at::kFloat));
      f.per_layer[l].narrow(0, begin, count).copy_(pooled);
    }
    f.images = begin + count;
    bar.update(f.images);
    if (o.stop_requested && o.stop_requested()) {
      f.interrupted = f.images < n;
      if (f.interrupted) break;
    }
  }
  bar.finish();
  for (auto& t : f.per_layer) t = t.narrow(0, 0, f.images);
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return f;
}

}  // namespace featvis::probe
