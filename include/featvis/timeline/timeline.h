#pragma once
// Features over training: what `featvis timeline` and the Microscope's training lens share.
// The same render (same recipe, same seed) at each checkpoint of a series, so that what
// differs between the pictures is the network's; a unit's top-K dataset examples at each
// checkpoint, how consecutive sets overlap, and when the unit's meaning settles.
#include <featvis/model/series.h>
#include <featvis/objective/objective.h>
#include <featvis/render/recipe.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace featvis::timeline {

// One checkpoint's render of `objective` by `recipe`. The recipe and its seed are the same at
// every checkpoint, so the start image and the transforms' random draws repeat.
struct Frame {
  render::RenderResult result;
  // What the recipe became: preset, steps, size, batch, param, transforms, lr, seed.
  nlohmann::ordered_json settings;
};
Frame render_checkpoint(const model::Model& model, const render::Recipe& recipe, const objective::Objective& objective,
                        const std::function<bool()>& stop_requested = {});

// "step 128\n80%": a checkpoint's caption under its tile in a strip (render/labelled_strip.h).
std::string caption(const model::SeriesCheckpoint& checkpoint);

// How a unit's top-K photos are ranked: its mean over positions (what `featvis examples`
// lists first) or its maximum (what it detects locally; the better measure of settling
// for early layers, docs/TIMELINE.md).
enum class Rank { kMean, kMax };
Rank parse_rank(const std::string& text);  // "mean" or "max"; SettingError("rank") otherwise
std::string to_string(Rank rank);

struct TopOptions {
  int64_t top_k = 9;
  Rank rank = Rank::kMean;
  int64_t batch = 64;  // photos per forward pass
  std::function<bool()> stop_requested;
};

// The top-K photos of each of `units` of `tensor` at one checkpoint, best first, as indices
// into `photos` (paths relative to `images_root`): one batched pass
// (dataset_examples::scan_examples). `interrupted` with empty `top` when stopped.
struct TopPhotos {
  std::vector<std::vector<int64_t>> top;  // per unit, in the order of `units`
  bool interrupted = false;
};
TopPhotos top_photos(const model::Model& model, const std::string& images_root, const std::vector<std::string>& photos,
                     const std::string& tensor, const std::vector<int64_t>& units, const TopOptions& options);

// |A ∩ B| / |A ∪ B| of two lists of photo indices read as sets; 1 for two empty ones.
double jaccard(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// A unit settles at the first checkpoint from which every later top-K set overlaps the
// final one by at least this much.
inline constexpr double kSettleOverlap = 0.5;

struct Overlap {
  std::vector<std::optional<double>> with_previous;  // none at the first checkpoint
  std::vector<double> with_final;
  size_t settle_index = 0;  // the last checkpoint at the latest (it overlaps itself fully)
};
// One unit's top-K sets in step order (at least one).
Overlap overlap(const std::vector<std::vector<int64_t>>& top_by_checkpoint);

// The median (the mean of the middle two for an even count); 0 for none.
double median(std::vector<double> values);

}  // namespace featvis::timeline
