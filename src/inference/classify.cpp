#include <featvis/inference/classify.h>
#include <featvis/image/image.h>
#include <featvis/util/error.h>

#include <algorithm>

namespace featvis::inference {

at::Tensor load_batch(const std::vector<std::string>& paths, const model::Preprocessing& pre) {
  std::vector<at::Tensor> images;
  images.reserve(paths.size());
  for (const auto& p : paths) images.push_back(image::load_network_input(p, pre));
  return at::stack(images);
}

at::Tensor class_scores(const model::Model& model, const at::Tensor& batch) {
  const std::string& output = model.card.output;
  at::Tensor scores = model.graph.run_inference(batch.to(model.graph.device()), {output}).at(output);
  return scores.reshape({scores.size(0), -1});
}

std::vector<std::vector<Prediction>> classify(const model::Model& model, const at::Tensor& batch, int top_k) {
  if (top_k < 1) throw SettingError("top", "top must be at least 1");
  c10::InferenceMode guard;
  at::Tensor logits = class_scores(model, batch).to(at::kCPU, at::kFloat);
  at::Tensor probs = at::softmax(logits, 1);
  const int64_t k = std::min<int64_t>(top_k, logits.size(1));
  auto [values, indices] = at::topk(logits, k, 1);
  std::vector<std::vector<Prediction>> out(static_cast<size_t>(logits.size(0)));
  for (int64_t i = 0; i < logits.size(0); ++i) {
    for (int64_t j = 0; j < k; ++j) {
      Prediction p;
      p.index = indices[i][j].item<int64_t>();
      p.logit = values[i][j].item<float>();
      p.probability = probs[i][p.index].item<float>();
      p.label = model.label(p.index);
      out[static_cast<size_t>(i)].push_back(p);
    }
  }
  return out;
}

}  // namespace featvis::inference
