#include <featvis/dataset_examples/scan.h>
#include <featvis/timeline/timeline.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace featvis::timeline {

Frame render_checkpoint(const model::Model& model, const render::Recipe& recipe, const objective::Objective& objective,
                        const std::function<bool()>& stop_requested) {
  render::Prepared prepared = render::prepare(recipe, model, objective);
  prepared.options.progress = false;
  prepared.options.stop_requested = stop_requested;
  Frame frame;
  const auto& po = prepared.image;
  frame.settings = {{"preset", prepared.preset.name},
                    {"steps", prepared.options.steps},
                    {"size", {po.height, po.width}},
                    {"batch", po.batch},
                    {"param", render::param::to_string(po.space)},
                    {"transforms", prepared.transform_text},
                    {"lr", prepared.options.lr},
                    {"seed", recipe.seed}};
  frame.result = prepared.run(model, objective);
  return frame;
}

std::string caption(const model::SeriesCheckpoint& checkpoint) {
  std::string text = "step " + std::to_string(checkpoint.step);
  if (checkpoint.test_accuracy) text += "\n" + std::to_string(static_cast<int>(std::lround(100 * *checkpoint.test_accuracy))) + "%";
  return text;
}

Rank parse_rank(const std::string& text) {
  if (text == "mean") return Rank::kMean;
  if (text == "max") return Rank::kMax;
  throw SettingError("rank", "rank '" + text + "' must be mean or max");
}

std::string to_string(Rank rank) { return rank == Rank::kMax ? "max" : "mean"; }

TopPhotos top_photos(const model::Model& model, const std::string& images_root, const std::vector<std::string>& photos,
                     const std::string& tensor, const std::vector<int64_t>& units, const TopOptions& options) {
  dataset_examples::ScanOptions scan;
  scan.layers = {tensor};
  scan.top_k = options.top_k;
  scan.batch_size = options.batch;
  scan.progress = false;
  scan.stop_requested = options.stop_requested;
  const dataset_examples::ScanResult r = dataset_examples::scan_examples(model, images_root, photos, scan);
  TopPhotos out;
  if (r.interrupted) {
    out.interrupted = true;
    return out;
  }
  const dataset_examples::LayerExamples& layer = r.layers.at(0);
  const dataset_examples::TopK& ranking = options.rank == Rank::kMax ? layer.top_max : layer.top_mean;
  for (int64_t u : units) {
    FEATVIS_CHECK(u >= 0 && u < ranking.units(), "layer '", tensor, "' has ", ranking.units(), " units, no unit ", u);
    const at::Tensor top = ranking.images()[u].contiguous();
    std::vector<int64_t> best;
    for (int64_t k = 0; k < top.size(0); ++k) {
      const int64_t index = top[k].item<int64_t>();
      if (index >= 0) best.push_back(index);  // fewer photos than K
    }
    out.top.push_back(best);
  }
  return out;
}

double jaccard(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const std::set<int64_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  size_t common = 0;
  for (int64_t x : sa) common += sb.count(x);
  const size_t all = sa.size() + sb.size() - common;
  return all == 0 ? 1.0 : static_cast<double>(common) / static_cast<double>(all);
}

Overlap overlap(const std::vector<std::vector<int64_t>>& top_by_checkpoint) {
  FEATVIS_CHECK(!top_by_checkpoint.empty(), "overlap of no checkpoints");
  Overlap o;
  const size_t n = top_by_checkpoint.size();
  for (size_t i = 0; i < n; ++i) {
    o.with_previous.push_back(i == 0 ? std::nullopt : std::optional<double>(jaccard(top_by_checkpoint[i - 1], top_by_checkpoint[i])));
    o.with_final.push_back(jaccard(top_by_checkpoint[i], top_by_checkpoint.back()));
  }
  o.settle_index = n - 1;
  while (o.settle_index > 0 && o.with_final[o.settle_index - 1] >= kSettleOverlap) --o.settle_index;
  return o;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace featvis::timeline
