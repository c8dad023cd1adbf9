#pragma once
// Finding and loading models: by file path (card beside it: "<file>.card.json" or
// "<stem>.card.json") or by card name on the model search path.
#include <featvis/graph/graph.h>
#include <featvis/model/card.h>

#include <optional>
#include <string>
#include <vector>

namespace featvis::model {

// Directories searched for model files and cards, in order: FEATVIS_MODEL_PATH
// (':'-separated), then ./models, ../shared/models, <source dir>/../shared/models,
// $HOME/.cache/featvis/models.
std::vector<std::string> model_search_path();

// The repo's cards/ folder, where the shipped cards live.
std::string builtin_cards_dir();

// Cards shipped in the repo's cards/ folder plus "*.card.json" found on the search path
// (first occurrence of a name wins). A malformed card is an error, not skipped.
std::vector<ModelCard> known_cards();

// Name of the card marked "default": true ("mobilenet_v2" in the repo's cards).
std::string default_model_name();

// Reads a labels file: one class per line, line i = class i; trailing newline optional.
std::vector<std::string> read_labels_file(const std::string& path);

struct ModelLocation {
  ModelCard card;
  std::string onnx_path;  // empty when the file was not found
  std::vector<std::string> searched;  // directories looked in
  std::string labels_path;  // empty when the card has no labels file or it was not found
  // Set when no card was found for an .onnx path and defaults are used; says which.
  std::string note;
};

// Resolves a model reference (card name, path to .onnx, or path to .card.json) without
// loading weights. Throws featvis::Error if the reference names nothing known.
ModelLocation locate_model(const std::string& ref);

struct Model {
  ModelCard card;
  graph::Graph graph;
  std::string onnx_path;
  std::string note;  // ModelLocation::note (also printed to stderr by load_model)

  // Class label for an index ("class 17" if the card has no labels).
  std::string label(int64_t index) const;
};

// locate_model + load the ONNX graph + check that the card's input/output exist.
// Throws featvis::Error "model 'X' not found; searched: ..." when the file is missing.
// A card-less .onnx gets its input name, size and output from the graph.
Model load_model(const std::string& ref);

// A model from ONNX bytes in memory (an export from PyTorch), checked as load_model
// checks a file; `origin` stands for the file name in messages and Model::onnx_path. A
// card without input and output takes the graph's first ones and its input size.
Model model_from_onnx_bytes(const std::string& bytes, ModelCard card, const std::string& origin);

}  // namespace featvis::model
