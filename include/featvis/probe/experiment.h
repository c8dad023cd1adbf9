#pragma once
// The probe experiment of `featvis probe`: for each model, pooled features of the training
// and test images at each layer, then one probe per layer. Resumable: completed work (the
// pooled features, in chunks, and each layer's fit) is kept in a state folder, and a run
// with the same settings continues from it, so Ctrl-C loses at most the last minute.
#include <featvis/model/model.h>
#include <featvis/probe/data.h>
#include <featvis/probe/features.h>
#include <featvis/probe/logistic.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::probe {

struct ExperimentOptions {
  std::vector<std::string> layers{"all"};  // "all": each model's card layers; else names (graph/layer_name.h)
  Pooling pooling = Pooling::kAverage;
  int64_t batch_size = 32;
  LogisticOptions logistic;
  bool progress = true;
  std::function<bool()> stop_requested;  // polled after each batch and before each fit
  // Where completed work is kept ("" = nowhere): settings.json, then per model
  // <i>-<model>/features.json with <train|test>-<first row>.npy chunks and fits.json.
  // A run finding another run's state there refuses (featvis::Error) naming the first
  // setting that differs. Removed once the whole experiment is done.
  std::string state_dir;
  double save_every_seconds = 60;  // feature rows are saved this often and when stopped
};

struct LayerResult {
  std::string layer, title;
  double relative_depth = 0;  // layer i of n: i / (n - 1)
  ProbeScore score;
};

struct ModelResult {
  std::string model, model_file;
  double feature_seconds = 0;  // the passes over both data sets, the earlier runs' included
  double images_per_second = 0;
  std::vector<LayerResult> layers;
};

struct ExperimentResult {
  std::vector<int64_t> classes;  // the training data's labels, ascending; class i is classes[i]
  std::vector<ModelResult> models;  // the finished ones
  bool interrupted = false;
  std::string stopped_during;  // "the training images of M", "the regressions of M"
};

using OpenModel = std::function<model::Model(const std::string& ref)>;

// Throws featvis::Error for fewer than 2 training classes, a test label outside them, an
// unknown layer, or another run's state in state_dir.
ExperimentResult run_experiment(const std::vector<std::string>& model_refs, const OpenModel& open, const ProbeData& train,
                                const ProbeData& test, const ExperimentOptions& options);

}  // namespace featvis::probe
