#pragma once
// Spatially pooled activations of several layers from one batched pass: per image and
// layer, the channel means (global average) or the means of a 2x2 grid of cells. Memory
// is images x pooled features; a full activation map lives only for its batch.
#include <featvis/model/model.h>
#include <featvis/probe/data.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::probe {

enum class Pooling { kAverage, kGrid2x2 };
Pooling parse_pooling(const std::string& name);  // "avg" or "grid"; featvis::SettingError otherwise
std::string to_string(Pooling pooling);

struct Features;

struct FeatureOptions {
  std::vector<std::string> layers;  // tensor names
  Pooling pooling = Pooling::kAverage;
  int64_t batch_size = 32;
  bool progress = true;
  std::string progress_label = "features";
  std::function<bool()> stop_requested;  // polled after each batch
  std::function<void(const Features&)> on_batch;  // after each batch, with the rows so far
};

struct Features {
  std::vector<at::Tensor> per_layer;  // [N, F_layer] float, in FeatureOptions::layers order
  int64_t images = 0;  // rows filled (fewer than the data when stopped)
  bool interrupted = false;
  double seconds = 0;  // the forward passes, decoding included
};

// Throws featvis::Error for an unknown layer or one that is not [N, C] or [N, C, H, W].
// `done`: the first rows of an earlier, interrupted pass over the same data and options
// (per_layer [rows, F]); the pass continues after them, with batches where an
// uninterrupted pass has them, so the result is the same.
Features pooled_features(const model::Model& model, const ProbeData& data, const FeatureOptions& options,
                         const Features& done = {});

}  // namespace featvis::probe
