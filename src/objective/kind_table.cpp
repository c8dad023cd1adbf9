// The table of objective kinds (kind_table.h).
//
// How to add an objective kind
// ----------------------------
// 1. Write its factory in src/objective/ (in the file of its family, or a new one) and
//    declare it in include/featvis/objective/kinds.h. It returns an Objective whose
//    description is the kind's text form (text::quote for layer names, text::number for
//    numbers), so that a description parses back to the same objective.
// 2. Add one entry to kTable below: name, form, parameters, a one-line summary, help,
//    and a factory that maps the checked Arguments to your function. The parser, the
//    keyword quoting, `featvis objectives` and `featvis render --help` pick it up; a
//    parameter's checks (layer exists, channel and position in range, direction file
//    length, number > 0) come with its ParamType.
// 3. Test it in tests/objective/kinds_test.cpp (its value on a small batch) and one
//    accepted form in tests/objective/parse_test.cpp.
#include <featvis/objective/kind_table.h>
#include <featvis/objective/kinds.h>

#include "text_form.h"

#include <optional>

namespace featvis::objective {
namespace {

using XY = std::pair<int64_t, int64_t>;

const Param kLayerParam{ParamType::kLayer, "LAYER", "a layer name"};
const Param kUnitParam{ParamType::kUnit, "LAYER:C", "LAYER:CHANNEL"};
const Param kFileParam{ParamType::kDirection, "FILE", "a direction file"};
const Param kAtParam{ParamType::kPosition, "X, Y", "an x position", true};
const Param kClassParam{ParamType::kClass, "K", "a class index or label"};

std::optional<XY> position_of(const Argument& a) { return a.given ? std::optional<XY>(a.position) : std::nullopt; }

// Same value under a new description: directions are described by the file they came
// from, which reads back, rather than by their values.
Objective renamed(const Objective& o, const std::string& description) {
  Objective out(description, o.layers(), [o](const ObjectiveInput& in) { return o(in); });
  out.with_batch_size(o.batch_size());
  return out;
}

// direction, dot, direction_neuron, dot_neuron: the same file-reading entry four ways.
Kind direction_kind(const std::string& name, bool cosine, bool at_neuron) {
  std::vector<Param> params{kLayerParam, kFileParam};
  if (at_neuron) params.push_back(kAtParam);
  const std::string form = cosine ? "<act, v/|v|> * max(cos(act, v), 0.1) (Lucid's cosine form)" : "<act, v>";
  const std::string where = at_neuron ? "at one position (the centre unless X, Y is given)" : "averaged over positions";
  Kind kind{name, Form::kCall, params,
            std::string(at_neuron ? "a direction in channel space at one position" : "a direction in channel space") +
                (cosine ? ", cosine-weighted" : ", dot product"),
            form + ", " + where + "; FILE is .npy or numbers in text, one per channel", {}};
  kind.factory = [name, cosine, at_neuron](const Arguments& a) {
    const std::string& layer = a[0].text;
    const std::optional<XY> xy = at_neuron ? position_of(a[2]) : std::nullopt;
    const Objective o =
        at_neuron ? direction_neuron(layer, a[1].vector, xy, cosine) : direction(layer, a[1].vector, cosine);
    const std::string at = xy ? ", " + std::to_string(xy->first) + ", " + std::to_string(xy->second) : "";
    return renamed(o, name + "(" + text::quote(layer) + ", " + text::quote(a[1].text) + at + ")");
  };
  return kind;
}

std::vector<Kind> make_table() {
  return {
      {"channel", Form::kTarget, {kUnitParam}, "channel C of a layer, mean over positions",
       "LAYER:A-B renders channels A..B, one per batch item", [](const Arguments& a) {
         return channel(a[0].text, a[0].integer);
       }},
      {"neuron", Form::kTarget, {kUnitParam, kAtParam}, "channel C at column X, row Y of a layer",
       "LAYER:C@center is the centre (W/2, H/2); LAYER:A-B@X,Y renders one neuron per batch item",
       [](const Arguments& a) { return neuron(a[0].text, a[0].integer, position_of(a[1])); }},
      {"deepdream", Form::kTarget, {kLayerParam}, "the whole layer: mean of squared activations", "DeepDream",
       [](const Arguments& a) { return deepdream(a[0].text); }},
      {"logit", Form::kClass, {kClassParam}, "pre-softmax score of class K",
       "K is a class index or a label of the card, e.g. logit:'tiger cat'",
       [](const Arguments& a) { return logit(a[0].layer, a[0].integer); }},
      {"prob", Form::kClass, {kClassParam}, "softmax probability of class K",
       "K is a class index or a label of the card", [](const Arguments& a) {
         return probability(a[0].layer, a[0].integer);
       }},
      direction_kind("direction", true, false),
      direction_kind("dot", false, false),
      direction_kind("direction_neuron", true, true),
      direction_kind("dot_neuron", false, true),
      {"diversity", Form::kCall, {kLayerParam}, "batch term: items with unlike Gram matrices of the layer",
       "-(1/N) sum over pairs i != j of cos(Gram_i, Gram_j); subtract a multiple, e.g. conv:0-7 - 100*diversity(conv)",
       [](const Arguments& a) { return diversity(a[0].text); }},
      {"alignment", Form::kCall,
       {kLayerParam, {ParamType::kNumber, "DECAY", "decay ratio", true, true}},
       "batch term: neighbouring items alike in the layer",
       "-sum over d = 1..4 of mean((act_i - act_{i+d})^2) / DECAY^d; DECAY defaults to 2",
       [](const Arguments& a) { return a[1].given ? alignment(a[0].text, a[1].number) : alignment(a[0].text); }},
      {"channel_interpolate", Form::kCall,
       {kUnitParam, {ParamType::kUnit, "L2:C2", "a second LAYER:CHANNEL"}},
       "item i blends two channels with weight i/(N-1)",
       "item i maximizes (1 - w) * LAYER:C + w * L2:C2, w = i / (N - 1)", [](const Arguments& a) {
         return channel_interpolate(a[0].text, a[0].integer, a[1].text, a[1].integer);
       }},
      {"l1", Form::kWord, {{ParamType::kNumber, "CONSTANT", "constant", true}}, "penalty: -mean|x - CONSTANT|",
       "CONSTANT defaults to 0.5; the image is in [0,1]",
       [](const Arguments& a) { return a[0].given ? l1(a[0].number) : l1(); }},
      {"l2", Form::kWord,
       {{ParamType::kNumber, "CONSTANT", "constant", true}, {ParamType::kNumber, "EPSILON", "epsilon", true}},
       "penalty: -sqrt(EPSILON + mean((x - CONSTANT)^2))", "CONSTANT defaults to 0.5, EPSILON to 1e-6",
       [](const Arguments& a) {
         if (a[1].given) return l2(a[0].number, a[1].number);
         return a[0].given ? l2(a[0].number) : l2();
       }},
      {"tv", Form::kWord, {}, "penalty: total variation, mean absolute difference of neighbouring pixels",
       "penalties are negative: add them with a small weight, e.g. LAYER:C + 0.01*tv",
       [](const Arguments&) { return total_variation(); }},
      {"distance", Form::kCall, {{ParamType::kPhoto, "PHOTO", "a photo file"}},
       "penalty: RMS distance to a photo (the card's crop, resized to the image)",
       "penalties are negative: with --init PHOTO, LAYER:C + 20*distance(PHOTO) raises the unit near the photo (feature accentuation)",
       [](const Arguments& a) { return distance(a[0].photo, a[0].text); }},
      {"caricature", Form::kCall,
       {kLayerParam, {ParamType::kPhoto, "PHOTO", "a photo file"}, {ParamType::kNumber, "POWER", "cosine power", true}},
       "the layer's activations matched to a photo's: <a, p>/|p| * cos^POWER (Lucid's caricature)",
       "render from noise: the picture shows what LAYER keeps of the photo; POWER defaults to 1 (0: plain projection)",
       [](const Arguments& a) { return caricature(a[0].text, a[1].photo, a[1].text, a[2].given ? a[2].number : 1.0); }},
      {"blur", Form::kWord, {}, "penalty: distance to the 3x3-blurred image (Lucid's blur_input_each_step)",
       "the blurred image is held constant, so a step moves the image toward its blur",
       [](const Arguments&) { return blur(); }},
  };
}

// "A, B[, C[, D]]": each optional parameter opens a bracket, except the first listed (a
// penalty's brackets enclose its parentheses instead).
std::string param_list(const std::vector<Param>& params) {
  std::string s, close;
  for (size_t i = 0; i < params.size(); ++i) {
    if (i && params[i].optional) {
      s += "[";
      close += "]";
    }
    s += (i ? ", " : "") + params[i].placeholder;
  }
  return s + close;
}

}  // namespace

std::string Kind::signature() const {
  switch (form) {
    case Form::kTarget:
      if (params[0].type == ParamType::kLayer) return "LAYER";
      return params.size() > 1 ? "LAYER:C@X,Y" : "LAYER:C";
    case Form::kClass: return name + ":K";
    case Form::kCall: return name + "(" + param_list(params) + ")";
    case Form::kWord: return params.empty() ? name : name + "[(" + param_list(params) + ")]";
  }
  return name;
}

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> table = make_table();
  return table;
}

const Kind* find_kind(const std::string& name) {
  for (const Kind& k : kinds())
    if (k.name == name) return &k;
  return nullptr;
}

bool is_keyword(const std::string& word) {
  const Kind* k = find_kind(word);
  return k && (k->form == Form::kWord || k->form == Form::kClass);
}

}  // namespace featvis::objective
