// Binding the objective tree to a model (parse.h): every layer named is checked, all
// their shapes are read at once, then the objectives are built depth first, each
// channel, position, class and direction file checked where it was written, and each
// kind made by its factory in the kind table.
#include <featvis/graph/layer_name.h>
#include <featvis/graph/token_grid.h>
#include <featvis/image/image.h>
#include <featvis/inference/layer_info.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/objective/syntax.h>
#include <featvis/util/error.h>

#include "class_label.h"
#include "direction_file.h"

#include <algorithm>
#include <unordered_map>

namespace featvis::objective {
namespace {

using syntax::Node;
using syntax::Written;
using XY = std::pair<int64_t, int64_t>;

class Binder {
 public:
  Binder(const std::string& text, const model::Model& model) : text_(text), model_(model) {}

  Objective bind(const Node& root) {
    collect_layers(root);
    read_shapes();
    return build(root);
  }

 private:
  [[noreturn]] void fail(size_t pos, const std::string& what) const { syntax::fail(text_, pos, what); }

  // An algebra step (which may reject mismatched batch sizes) with errors put at `pos`.
  template <typename Step>
  Objective located(size_t pos, Step&& step) const {
    try {
      return step();
    } catch (const Error& e) {
      fail(pos, e.what());
    }
  }

  // ---- layers: every one named, in text order

  void collect_layers(const Node& node) {
    for (const Node& child : node.children) collect_layers(child);
    if (!node.kind) return;
    for (size_t a = 0; a < node.arguments.size(); ++a) {
      const ParamType type = node.kind->params[a].type;
      if (type == ParamType::kLayer || type == ParamType::kUnit) {
        uses_.emplace_back(node.arguments[a].text, node.arguments[a].pos);
      } else if (type == ParamType::kClass) {
        const std::string& output = model_.card.output;
        if (output.empty()) fail(node.pos, "model '" + model_.card.name + "' has no class-score output in its card");
        uses_.emplace_back(output, node.pos);
      }
    }
  }

  // Checks every layer named, then reads all their shapes with one forward pass.
  void read_shapes() {
    std::vector<std::string> names;
    const graph::Graph& graph = model_.graph;
    const std::string input = graph.inputs().empty() ? "" : graph.inputs()[0].name;
    for (const auto& [layer, pos] : uses_) {
      try {
        resolved_[layer] = graph::resolve_layer(graph, layer);
      } catch (const Error& e) {
        fail(pos, e.what());
      }
      const std::string& name = full(layer);
      if (!graph.producer(name) && name != input) fail(pos, "'" + layer + "' is a weight, not a layer");
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    if (names.empty()) return;
    std::unordered_map<std::string, inference::LayerShape> shapes;
    try {
      shapes = inference::layer_shapes(model_, names);
    } catch (const Error& e) {
      fail(uses_.front().second, std::string("cannot read layer shapes: ") + e.what());
    }
    for (const auto& [layer, pos] : uses_) {
      const inference::LayerShape& s = shapes.at(full(layer));
      // As objectives read it: tokens on their grid, a channels-last map as NCHW.
      shapes_[full(layer)] = graph::unit_map_shape(graph, full(layer), s.sizes);
      if (!at::isFloatingType(s.dtype) || s.sizes.size() < 2 || s.sizes.size() > 4) {
        fail(pos, "'" + layer + "' is not a feature map (" + std::to_string(s.sizes.size()) + "-D " +
                      std::string(c10::toString(s.dtype)) + " tensor)");
      }
    }
  }

  // The graph's name of a layer as written (a short name is resolved by read_shapes).
  const std::string& full(const std::string& layer) const { return resolved_.at(layer); }

  // Shapes are keyed by the graph's names.
  int64_t channels(const std::string& layer) const { return shapes_.at(layer)[1]; }

  // Width and height, as objectives view the layer ([N,C] is 1x1, [N,C,L] is Lx1).
  XY size_wh(const std::string& layer) const {
    const std::vector<int64_t>& s = shapes_.at(layer);
    if (s.size() == 2) return {1, 1};
    if (s.size() == 3) return {s[2], 1};
    return {s[3], s[2]};
  }

  // ---- building

  Objective build(const Node& node) {
    std::vector<Objective> operands;
    for (const Node& child : node.children) operands.push_back(build(child));
    switch (node.type) {
      case Node::Type::kKind: return build_kind(node);
      case Node::Type::kSum: return located(node.op_pos, [&] { return operands[0] + operands[1]; });
      case Node::Type::kDifference: return located(node.op_pos, [&] { return operands[0] - operands[1]; });
      case Node::Type::kScale: return node.scale_first ? node.scale * operands[0] : operands[0] * node.scale;
      case Node::Type::kNegate: return -operands[0];
      case Node::Type::kAlternatives: {
        const auto n = static_cast<int64_t>(operands.size());
        for (size_t i = 0; i < operands.size(); ++i) {
          const int64_t needs = operands[i].batch_size();
          if (needs && needs != n) {
            fail(node.children[i].pos, "'" + operands[i].description() + "' needs a batch of " +
                                           std::to_string(needs) + ", but this '|' list gives one item to each of " +
                                           std::to_string(n));
          }
        }
        return per_item(operands);
      }
    }
    fail(node.pos, "unknown objective tree node");
  }

  // One kind: its arguments checked and converted, then its factory; a unit range
  // (LAYER:A-B) makes one objective per channel, one per batch item.
  Objective build_kind(const Node& node) {
    const Kind& kind = *node.kind;
    Arguments arguments(node.arguments.size());
    std::string first_layer;
    int64_t first = 0, last = 0;
    size_t range_argument = arguments.size();
    for (size_t a = 0; a < arguments.size(); ++a) {
      const Written& w = node.arguments[a];
      Argument& out = arguments[a];
      out.given = w.given;
      if (!w.given) continue;
      out.text = w.text;
      out.number = w.number;
      out.position = {w.x, w.y};
      switch (kind.params[a].type) {
        case ParamType::kLayer: out.text = full(w.text); break;
        case ParamType::kUnit:
          out.text = full(w.text);
          check_channel(out.text, w.last, w.value_pos);
          out.integer = w.first;
          if (w.range) {
            range_argument = a;
            first = w.first;
            last = w.last;
          }
          break;
        case ParamType::kDirection: out.vector = direction_vector(w, first_layer); break;
        case ParamType::kPhoto: out.photo = photo(w); break;
        case ParamType::kNumber: break;
        case ParamType::kPosition: check_position(first_layer, {w.x, w.y}, w.pos); break;
        case ParamType::kClass:
          out.layer = model_.card.output;
          out.integer = class_index(w.text, w.pos);
          break;
      }
      if (first_layer.empty() && !out.text.empty()) first_layer = out.text;
    }
    if (range_argument == arguments.size()) return kind.factory(arguments);
    std::vector<Objective> items;
    for (int64_t c = first; c <= last; ++c) {
      arguments[range_argument].integer = c;
      items.push_back(kind.factory(arguments));
    }
    return per_item(items);
  }

  at::Tensor photo(const Written& w) const {
    try {
      return image::load_image01(w.text, model_.card.preprocessing);
    } catch (const Error& e) {
      fail(w.pos, e.what());
    }
  }

  at::Tensor direction_vector(const Written& w, const std::string& layer) const {
    at::Tensor v;
    try {
      v = read_direction_file(w.text);
    } catch (const Error& e) {
      fail(w.pos, e.what());
    }
    if (v.numel() != channels(layer)) {
      fail(w.pos, "direction file '" + w.text + "' has " + std::to_string(v.numel()) + " values but layer '" + layer +
                      "' has " + std::to_string(channels(layer)) + " channels");
    }
    return v;
  }

  void check_channel(const std::string& layer, int64_t c, size_t pos) const {
    const int64_t n = channels(layer);
    if (c >= n) {
      fail(pos, "channel " + std::to_string(c) + " out of range: layer '" + layer + "' has " + std::to_string(n) +
                    " channels (0-" + std::to_string(n - 1) + ")");
    }
  }

  void check_position(const std::string& layer, const XY& xy, size_t pos) const {
    const auto [w, h] = size_wh(layer);
    if (xy.first >= w || xy.second >= h) {
      fail(pos, "position (" + std::to_string(xy.first) + ", " + std::to_string(xy.second) + ") out of range: layer '" +
                    layer + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                    " (width x height) at the model's input size");
    }
  }

  int64_t class_index(const std::string& label, size_t pos) const {
    int64_t k = -1;
    if (std::all_of(label.begin(), label.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      if (label.size() > 12) fail(pos, "class " + label + " is too large");
      k = std::stoll(label);
    } else if (model_.card.labels.empty()) {
      fail(pos, "model '" + model_.card.name + "' has no labels; use a class index");
    } else {
      try {
        k = find_class(model_.card.labels, label);
      } catch (const Error& e) {
        fail(pos, e.what());
      }
    }
    const std::vector<int64_t>& s = shapes_.at(model_.card.output);
    int64_t classes = 1;
    for (size_t d = 1; d < s.size(); ++d) classes *= s[d];
    if (k >= classes) {
      fail(pos, "class " + std::to_string(k) + " out of range: model '" + model_.card.name + "' has " +
                    std::to_string(classes) + " classes (0-" + std::to_string(classes - 1) + ")");
    }
    return k;
  }

  const std::string& text_;
  const model::Model& model_;
  std::vector<std::pair<std::string, size_t>> uses_;  // layer, position: in text order
  std::unordered_map<std::string, std::vector<int64_t>> shapes_;
  std::unordered_map<std::string, std::string> resolved_;  // as written -> graph name
};

}  // namespace

Objective parse(const std::string& text, const model::Model& model) {
  return Binder(text, model).bind(syntax::parse(text));
}

}  // namespace featvis::objective
