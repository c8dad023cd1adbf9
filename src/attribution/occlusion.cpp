// Occlusion (Zeiler & Fergus 2014): slide a grey square over the photo; a pixel's value
// is the mean drop of the target over the windows that cover it.
#include "methods.h"

#include <featvis/objective/evaluate.h>

#include <ATen/core/grad_mode.h>

namespace featvis::attribution::detail {
namespace {

// Window origins along one side: every `stride` pixels, plus one flush with the far edge
// so that every pixel is covered.
std::vector<int64_t> origins(int64_t size, int64_t window, int64_t stride) {
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + window <= size; s += stride) starts.push_back(s);
  if (starts.back() + window < size) starts.push_back(size - window);
  return starts;
}

}  // namespace

MethodResult occlusion(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                       const OcclusionOptions& options, int64_t chunk, Passes& passes) {
  at::NoGradGuard no_grad;
  const int64_t h = image.size(1), w = image.size(2), window = options.window;
  std::vector<std::pair<int64_t, int64_t>> boxes;
  for (int64_t y : origins(h, window, options.stride))
    for (int64_t x : origins(w, window, options.stride)) boxes.emplace_back(y, x);

  passes.plan(static_cast<int64_t>(boxes.size()) + 1);
  passes.poll();
  const double base = objective::evaluate(model, target, image.unsqueeze(0)).values[0].item<double>();
  passes.count(1);
  at::Tensor sum = at::zeros({h, w}, image.options().dtype(at::kDouble));
  at::Tensor count = at::zeros({h, w}, sum.options());
  for (size_t begin = 0; begin < boxes.size(); begin += static_cast<size_t>(chunk)) {
    passes.poll();
    const size_t end = std::min(boxes.size(), begin + static_cast<size_t>(chunk));
    at::Tensor batch = image.unsqueeze(0).repeat({static_cast<int64_t>(end - begin), 1, 1, 1});
    for (size_t k = begin; k < end; ++k) {
      const auto [y, x] = boxes[k];
      batch[static_cast<int64_t>(k - begin)].slice(1, y, y + window).slice(2, x, x + window).fill_(options.fill);
    }
    const at::Tensor drops = (base - objective::evaluate(model, target, batch).values.to(at::kDouble)).to(at::kCPU);
    for (size_t k = begin; k < end; ++k) {
      const auto [y, x] = boxes[k];
      sum.slice(0, y, y + window).slice(1, x, x + window) += drops[static_cast<int64_t>(k - begin)].item<double>();
      count.slice(0, y, y + window).slice(1, x, x + window) += 1;
    }
    passes.count(static_cast<int64_t>(end - begin));
  }
  MethodResult result;
  result.raw = (sum / count).to(image.scalar_type());
  result.map = result.raw;
  result.forward_passes = static_cast<int64_t>(boxes.size()) + 1;
  return result;
}

}  // namespace featvis::attribution::detail
