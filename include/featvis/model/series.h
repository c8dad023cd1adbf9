#pragma once
// A checkpoint series: the ONNX files of one training run, ordered by step, sharing one
// model card and one architecture (same layers, same weight shapes), so that what
// differs between them is what training changed. `featvis timeline` reads it.
#include <featvis/model/model.h>

#include <optional>
#include <string>
#include <vector>

namespace featvis::model {

struct SeriesCheckpoint {
  int64_t step = 0;
  std::string onnx_path;
  std::optional<double> test_accuracy;  // from training.json beside the files, when present
  std::optional<double> loss;
};

struct Series {
  ModelCard card;  // labels resolved
  std::vector<SeriesCheckpoint> checkpoints;  // by step, ascending
};

// `ref`: a folder of .onnx files, or .onnx paths separated by commas. A file's step is
// the last number in its name (step-000128.onnx: 128). The card: `card_path` if given,
// else the one *.card.json in the folder of the first file. training.json beside the
// files ({"checkpoints": [{"step", "loss", "test_accuracy", "file"}]}) adds accuracies.
// Throws featvis::Error for fewer than 2 files, a name without a step, a repeated step,
// or no (or more than one) card. Does not load the graphs: check_series does.
Series open_series(const std::string& ref, const std::string& card_path = "");

// One checkpoint loaded with the series' card.
Model load_checkpoint(const Series& series, size_t index);

// The first difference between two graphs' architectures ("node 3: 'conv2' is MaxPool in
// A but Conv in B", "weight 'fc1.weight': [64,576] in A but [32,576] in B"), or "" when
// they have the same nodes (op, inputs, outputs, in order) and weight shapes.
std::string architecture_difference(const graph::Graph& a, const std::string& a_name, const graph::Graph& b,
                                    const std::string& b_name);

// Loads every checkpoint once and compares it with the first; throws featvis::Error
// "checkpoint series: <first difference>" on a mismatch.
void check_series(const Series& series);

}  // namespace featvis::model
