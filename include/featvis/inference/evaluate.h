#pragma once
// Top-1/top-5 accuracy over a labelled folder of photos.
#include <featvis/model/model.h>

#include <string>
#include <vector>

namespace featvis::inference {

struct LabelledImage {
  std::string path;
  int64_t label = 0;
};

// Reads a CSV with a header naming at least the columns `file` and `class_index`
// (quoted fields allowed); files are relative to `images_dir`.
std::vector<LabelledImage> read_labels_csv(const std::string& csv_path, const std::string& images_dir);

struct EvalOptions {
  int batch_size = 32;
  int64_t limit = -1;  // evaluate only the first N images (-1: all)
  bool progress = true;
  // Scores closer than this to flipping a verdict count as near ties (EvalResult). Float
  // rounding moves a logit by ~1e-5 between CPUs, thread counts and runtimes (ONNX
  // Runtime differs by 2e-5 at most); 1e-3 is fifty times that.
  double near_tie = 1e-3;
};

struct EvalResult {
  int64_t images = 0;  // evaluated
  int64_t top1 = 0, top5 = 0;
  // Images whose top-1 (top-5) verdict would flip if the scores moved by less than
  // EvalOptions::near_tie: on another CPU the counts above may differ by up to these.
  int64_t top1_near_ties = 0, top5_near_ties = 0;
  std::vector<std::string> skipped;  // unreadable photos, each "path: reason"
  double seconds = 0;
  double top1_percent() const { return images ? 100.0 * top1 / images : 0.0; }
  double top5_percent() const { return images ? 100.0 * top5 / images : 0.0; }
};

EvalResult evaluate(const model::Model& model, const std::vector<LabelledImage>& images, const EvalOptions& options);

}  // namespace featvis::inference
