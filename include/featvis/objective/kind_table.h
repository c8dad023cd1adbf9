#pragma once
// The one table of objective kinds: how each is written, what its arguments are, how it
// is built and how it is explained. The parser (syntax and binding), the quoting of
// names in descriptions, `featvis render --help` and `featvis objectives` all read it.
// To add a kind, see the note at the top of src/objective/kind_table.cpp.
#include <featvis/objective/objective.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace featvis::objective {

// How a kind is written in the text form.
enum class Form {
  kTarget,  // the layer shorthands: LAYER, LAYER:C, LAYER:C@X,Y (by their parameters)
  kCall,    // NAME(ARGUMENTS)
  kWord,    // NAME or NAME(ARGUMENTS): a keyword (the image penalties)
  kClass,   // NAME:K, K a class index or label; reads the card's class-score output
};

enum class ParamType {
  kLayer,      // a layer name
  kUnit,       // LAYER:C, a channel of a layer
  kDirection,  // a file with one value per channel of the kind's first layer
  kNumber,     // a signed decimal number
  kPosition,   // X, Y: a column and row of the kind's first layer
  kClass,      // a class index or label of the card
  kPhoto,      // a photo file, read as the card's crop in [0, 1]
};

struct Param {
  ParamType type;
  std::string placeholder;  // as signatures show it: LAYER, FILE, DECAY, "X, Y"
  std::string what;         // as errors name it: "a layer name", "decay ratio"
  bool optional = false;    // may be left out (only trailing parameters)
  bool positive = false;    // numbers: must be > 0
};

// One argument, checked against the model (binding), in the order of Kind::params.
struct Argument {
  bool given = false;     // false: an optional argument left out
  std::string text;       // layer name (kLayer, kUnit), file name (kDirection, kPhoto), label (kClass)
  int64_t integer = 0;    // channel (kUnit) or class index (kClass)
  double number = 0;      // kNumber
  std::pair<int64_t, int64_t> position{0, 0};  // kPosition: x, y
  at::Tensor vector;      // kDirection: the file's values
  std::string layer;      // kClass: the card's output the class is read from
  at::Tensor photo;       // kPhoto: [3, H, W] in [0, 1]
};
using Arguments = std::vector<Argument>;

struct Kind {
  std::string name;
  Form form;
  std::vector<Param> params;
  std::string summary;  // one line
  std::string help;     // what else a user needs: defaults, variants, the formula
  std::function<Objective(const Arguments&)> factory;

  // How it is written, e.g. "alignment(LAYER[, DECAY])", "LAYER:C@X,Y", "logit:K".
  std::string signature() const;
};

// Every kind, in the order `featvis objectives` lists them.
const std::vector<Kind>& kinds();
// The kind called `name`, or nullptr.
const Kind* find_kind(const std::string& name);
// Bare words the text form reads as kinds (penalties, class prefixes), so that a layer
// of that name must be quoted.
bool is_keyword(const std::string& word);

}  // namespace featvis::objective
