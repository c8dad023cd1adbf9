// The objective text form (grammar in parse.h), parsed by recursive descent in two
// passes. The grammar pass builds deferred objectives, so that syntax errors come first
// and cost nothing; then every layer named is checked, all their shapes are read with one
// forward pass of a zero image, and the objectives are built with each channel, position,
// class and direction file checked where it was written.
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/util/error.h>

#include "class_label.h"
#include "direction_file.h"
#include "text_form.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <unordered_map>

namespace featvis::objective {
namespace {

using XY = std::pair<int64_t, int64_t>;

// A parsed term: a number (only to scale objectives) or an objective built later.
struct Term {
  size_t pos = 0;
  bool is_number = false;
  double number = 0;
  std::function<Objective()> build;
};

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool is_penalty(const std::string& word) { return word == "l1" || word == "l2" || word == "tv" || word == "blur"; }

// Same value under a new description (e.g. naming the file a direction came from).
Objective renamed(const Objective& o, const std::string& description) {
  Objective out(description, o.layers(), [o](const ObjectiveInput& in) { return o(in); });
  out.with_batch_size(o.batch_size());
  return out;
}

class Parser {
 public:
  Parser(const std::string& text, const Model& model) : text_(text), model_(model) {}

  Objective parse() {
    if (peek() == '\0') fail(i_, "empty objective");
    const Term root = alternatives();
    if (peek() != '\0') fail(i_, "unexpected " + found(i_) + "; combine objectives with + - * or |");
    if (root.is_number) fail(root.pos, "a number alone is not an objective");
    read_shapes();
    return root.build();
  }

 private:
  // ---- errors

  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    std::string shown = text_;
    std::replace_if(shown.begin(), shown.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    throw Error("objective '" + shown + "' at " + std::to_string(pos + 1) + ": " + what);
  }

  std::string found(size_t pos) const {
    if (pos >= text_.size()) return "end of text";
    size_t end = pos;
    while (end < text_.size() && text::is_name_char(text_[end])) ++end;
    return "'" + text_.substr(pos, std::max(end, pos + 1) - pos) + "'";
  }

  // An algebra step (which may reject mismatched batch sizes) with errors put at `pos`.
  template <typename Step>
  Objective located(size_t pos, Step&& step) const {
    try {
      return step();
    } catch (const Error& e) {
      fail(pos, e.what());
    }
  }

  void require_objective(const Term& t) const {
    if (t.is_number) fail(t.pos, "a number alone is not an objective; scale objectives with '*'");
  }

  // ---- scanning

  char peek() {
    while (i_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[i_]))) ++i_;
    return i_ < text_.size() ? text_[i_] : '\0';
  }
  char here() const { return i_ < text_.size() ? text_[i_] : '\0'; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void expect(char c, const std::string& what) {
    if (!accept(c)) fail(i_, "expected " + what + ", found " + found(i_));
  }

  std::string word() {
    const size_t start = i_;
    while (i_ < text_.size() && text::is_name_char(text_[i_])) ++i_;
    return text_.substr(start, i_ - start);
  }

  std::string quoted() {
    const size_t start = i_;
    const char q = text_[i_++];
    const size_t close = text_.find(q, i_);
    if (close == std::string::npos) fail(start, std::string("unterminated quote ") + q);
    std::string name = text_.substr(i_, close - i_);
    if (name.empty()) fail(start, "empty name in quotes");
    i_ = close + 1;
    return name;
  }

  // A layer (or other) name: quoted or a bare run of name characters.
  std::string name(const std::string& what) {
    const char c = peek();
    if (c == '\'' || c == '"') return quoted();
    if (text::is_name_char(c)) return word();
    fail(i_, "expected " + what + ", found " + found(i_));
  }

  // A file name: quoted, or everything up to the next ',' or ')'.
  std::string path() {
    const char c = peek();
    if (c == '\'' || c == '"') return quoted();
    const size_t start = i_;
    while (i_ < text_.size() && text_[i_] != ',' && text_[i_] != ')') ++i_;
    std::string p = text_.substr(start, i_ - start);
    p.erase(p.find_last_not_of(" \t") + 1);
    if (p.empty()) fail(start, "expected a file name, found " + found(start));
    return p;
  }

  // A non-negative integer written right here (no spaces skipped).
  int64_t integer(const std::string& what) {
    const size_t start = i_;
    while (i_ < text_.size() && is_digit(text_[i_])) ++i_;
    if (i_ == start) fail(start, "expected " + what + ", found " + found(start));
    if (i_ - start > 12) fail(start, "number " + text_.substr(start, i_ - start) + " is too large");
    return std::stoll(text_.substr(start, i_ - start));
  }

  // A decimal number at i_ ("2", "2.5", ".5", "1e-3"); nullopt (nothing consumed) when
  // the characters there are not one, or run on into a name ("3x3conv").
  std::optional<double> number() {
    size_t end = i_, digits = 0;
    while (end < text_.size() && is_digit(text_[end])) ++end, ++digits;
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      while (end < text_.size() && is_digit(text_[end])) ++end, ++digits;
    }
    if (digits == 0) return std::nullopt;
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      size_t exp = end + 1;
      if (exp < text_.size() && (text_[exp] == '+' || text_[exp] == '-')) ++exp;
      if (exp < text_.size() && is_digit(text_[exp])) {
        while (exp < text_.size() && is_digit(text_[exp])) ++exp;
        end = exp;
      }
    }
    if (end < text_.size() && text::is_name_char(text_[end])) return std::nullopt;
    const double value = std::strtod(text_.substr(i_, end - i_).c_str(), nullptr);
    i_ = end;
    return value;
  }

  double number_argument() {
    const bool negative = accept('-');
    peek();
    const size_t start = i_;
    const std::optional<double> value = number();
    if (!value) fail(start, "expected a number, found " + found(start));
    return negative ? -*value : *value;
  }

  // ---- grammar: alternatives := sum ('|' sum)*

  Term alternatives() {
    std::vector<Term> items{sum()};
    while (accept('|')) items.push_back(sum());
    if (items.size() == 1) return items[0];
    for (const Term& t : items) require_objective(t);
    Term out;
    out.pos = items[0].pos;
    out.build = [this, items] {
      const auto n = static_cast<int64_t>(items.size());
      std::vector<Objective> built;
      for (const Term& t : items) {
        built.push_back(t.build());
        const int64_t needs = built.back().batch_size();
        if (needs && needs != n) {
          fail(t.pos, "'" + built.back().description() + "' needs a batch of " + std::to_string(needs) +
                          ", but this '|' list gives one item to each of " + std::to_string(n));
        }
      }
      return per_item(built);
    };
    return out;
  }

  // sum := product (('+' | '-') product)*
  Term sum() {
    Term lhs = product();
    for (;;) {
      const char op = peek();
      if (op != '+' && op != '-') return lhs;
      const size_t pos = i_++;
      const Term rhs = product();
      if (lhs.is_number && rhs.is_number) {
        lhs.number = op == '+' ? lhs.number + rhs.number : lhs.number - rhs.number;
        continue;
      }
      if (lhs.is_number || rhs.is_number) {
        fail((lhs.is_number ? lhs : rhs).pos,
             "a number cannot be added to an objective; scale objectives with '*'");
      }
      Term out;
      out.pos = lhs.pos;
      out.build = [this, lhs, rhs, op, pos] {
        const Objective a = lhs.build(), b = rhs.build();
        return located(pos, [&] { return op == '+' ? a + b : a - b; });
      };
      lhs = out;
    }
  }

  // product := unary ('*' unary)*, one side of each '*' a number
  Term product() {
    Term lhs = unary();
    while (peek() == '*') {
      const size_t pos = i_++;
      const Term rhs = unary();
      if (lhs.is_number && rhs.is_number) {
        lhs.number *= rhs.number;
        continue;
      }
      if (!lhs.is_number && !rhs.is_number) fail(pos, "cannot multiply two objectives; one side of '*' must be a number");
      Term out;
      out.pos = lhs.pos;
      if (lhs.is_number) {
        out.build = [scale = lhs.number, rhs] { return scale * rhs.build(); };
      } else {
        out.build = [lhs, scale = rhs.number] { return lhs.build() * scale; };
      }
      lhs = out;
    }
    return lhs;
  }

  // unary := '-' unary | primary
  Term unary() {
    if (peek() != '-') return primary();
    const size_t pos = i_++;
    Term operand = unary();
    Term out = operand;
    out.pos = pos;
    if (operand.is_number) {
      out.number = -operand.number;
    } else {
      out.build = [operand] { return -operand.build(); };
    }
    return out;
  }

  // primary := NUMBER | '(' alternatives ')' | call | target | penalty
  Term primary() {
    const char c = peek();
    const size_t pos = i_;
    if (c == '(') {
      ++i_;
      Term inner = alternatives();
      if (!accept(')')) {
        fail(i_, "expected ')' to close the '(' at " + std::to_string(pos + 1) + ", found " + found(i_));
      }
      inner.pos = pos;
      return inner;
    }
    if (is_digit(c) || c == '.') {
      if (const std::optional<double> value = number()) {
        Term t;
        t.pos = pos;
        t.is_number = true;
        t.number = *value;
        return t;
      }
    }
    if (c == '\'' || c == '"') return target(quoted(), pos);
    if (text::is_name_char(c)) {
      const std::string w = word();
      const char next = peek();
      if (is_penalty(w)) return penalty(w, pos);
      if (next == '(') return call(w, pos);
      if ((w == "logit" || w == "prob") && next == ':') return class_target(w, pos);
      return target(w, pos);
    }
    fail(pos, "expected an objective or a number, found " + found(pos));
  }

  // target := NAME (':' UNIT)?   UNIT := C ('-' C)? ('@' (X ',' Y | 'center'))?
  Term target(const std::string& layer, size_t pos) {
    use(layer, pos);
    Term t;
    t.pos = pos;
    if (!accept(':')) {
      t.build = [layer] { return deepdream(layer); };
      return t;
    }
    const size_t unit_pos = i_;
    const int64_t first = integer("a channel number after ':'");
    int64_t last = first;
    const bool range = here() == '-' && i_ + 1 < text_.size() && is_digit(text_[i_ + 1]);
    if (range) {
      ++i_;
      last = integer("the last channel of the range");
      if (last < first) fail(unit_pos, "unit range " + std::to_string(first) + "-" + std::to_string(last) + " is empty");
    }
    bool is_neuron = false;
    std::optional<XY> xy;
    size_t xy_pos = i_;
    if (here() == '@') {
      ++i_;
      is_neuron = true;
      xy_pos = i_;
      xy = neuron_position();
    }
    t.build = [this, layer, first, last, range, is_neuron, xy, unit_pos, xy_pos] {
      check_channel(layer, last, unit_pos);
      if (xy) check_position(layer, *xy, xy_pos);
      auto one = [&](int64_t c) { return is_neuron ? neuron(layer, c, xy) : channel(layer, c); };
      if (!range) return one(first);
      std::vector<Objective> items;
      for (int64_t c = first; c <= last; ++c) items.push_back(one(c));
      return per_item(items);
    };
    return t;
  }

  // After '@': "center" (nullopt) or X,Y.
  std::optional<XY> neuron_position() {
    if (is_digit(here())) {
      const int64_t x = integer("an x position");
      if (here() != ',') fail(i_, "expected ',' and a y position after the x position, found " + found(i_));
      ++i_;
      peek();
      const int64_t y = integer("a y position");
      return XY{x, y};
    }
    const size_t start = i_;
    std::string w = word();
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (w != "center" && w != "centre") fail(start, "expected X,Y or 'center' after '@', found " + found(start));
    return std::nullopt;
  }

  // class target := ('logit' | 'prob') ':' (INDEX | LABEL)
  Term class_target(const std::string& kind, size_t pos) {
    expect(':', "':'");
    const size_t k_pos = i_;
    std::string label;
    if (here() == '\'' || here() == '"') {
      label = quoted();
    } else if (text::is_name_char(here())) {
      label = word();
    } else {
      fail(k_pos, "expected a class index or label after '" + kind + ":', found " + found(k_pos));
    }
    const std::string& output = model_.card.output;
    if (output.empty()) fail(pos, "model '" + model_.card.name + "' has no class-score output in its card");
    use(output, pos);
    Term t;
    t.pos = pos;
    t.build = [this, kind, label, k_pos, output] {
      const int64_t k = class_index(label, k_pos);
      return kind == "logit" ? logit(output, k) : probability(output, k);
    };
    return t;
  }

  // penalty := ('l1' | 'l2' | 'tv' | 'blur') ('(' NUMBER (',' NUMBER)* ')')?
  Term penalty(const std::string& kind, size_t pos) {
    std::vector<double> args;
    if (accept('(')) {
      if (peek() != ')') {
        do {
          peek();
          const size_t arg_pos = i_;
          const size_t most = kind == "l1" ? 1 : kind == "l2" ? 2 : 0;
          if (args.size() == most) {
            fail(arg_pos, kind + (most ? " takes at most " + std::to_string(most) + " argument" + (most > 1 ? "s" : "")
                                       : std::string(" takes no arguments")));
          }
          args.push_back(number_argument());
        } while (accept(','));
      }
      expect(')', "')'");
    }
    Term t;
    t.pos = pos;
    t.build = [kind, args] {
      if (kind == "l1") return args.empty() ? l1() : l1(args[0]);
      if (kind == "l2") return args.empty() ? l2() : args.size() == 1 ? l2(args[0]) : l2(args[0], args[1]);
      return kind == "tv" ? total_variation() : blur();
    };
    return t;
  }

  // call := NAME '(' arguments ')'
  Term call(const std::string& function, size_t pos) {
    expect('(', "'('");
    Term t;
    t.pos = pos;
    if (function == "direction" || function == "dot" || function == "direction_neuron" || function == "dot_neuron") {
      const bool cosine = function.rfind("direction", 0) == 0;
      const bool at_neuron = function.find("_neuron") != std::string::npos;
      peek();
      const size_t layer_pos = i_;
      const std::string layer = name("a layer name");
      use(layer, layer_pos);
      expect(',', "',' and a direction file");
      peek();
      const size_t file_pos = i_;
      const std::string file = path();
      std::optional<XY> xy;
      size_t xy_pos = 0;
      if (at_neuron && accept(',')) {
        peek();
        xy_pos = i_;
        const int64_t x = integer("an x position");
        expect(',', "',' and a y position");
        peek();
        xy = XY{x, integer("a y position")};
      }
      expect(')', "')'");
      t.build = [this, function, cosine, at_neuron, layer, file, file_pos, xy, xy_pos] {
        at::Tensor v;
        try {
          v = read_direction_file(file);
        } catch (const Error& e) {
          fail(file_pos, e.what());
        }
        if (v.numel() != channels(layer)) {
          fail(file_pos, "direction file '" + file + "' has " + std::to_string(v.numel()) + " values but layer '" +
                             layer + "' has " + std::to_string(channels(layer)) + " channels");
        }
        if (xy) check_position(layer, *xy, xy_pos);
        const Objective o = at_neuron ? direction_neuron(layer, v, xy, cosine) : direction(layer, v, cosine);
        const std::string where = xy ? ", " + std::to_string(xy->first) + ", " + std::to_string(xy->second) : "";
        return renamed(o, function + "(" + text::quote(layer) + ", " + text::quote(file) + where + ")");
      };
      return t;
    }
    if (function == "diversity" || function == "alignment") {
      peek();
      const size_t layer_pos = i_;
      const std::string layer = name("a layer name");
      use(layer, layer_pos);
      double decay = 2.0;
      if (function == "alignment" && accept(',')) {
        peek();
        const size_t decay_pos = i_;
        decay = number_argument();
        if (!(decay > 0)) fail(decay_pos, "alignment's decay ratio must be positive");
      }
      expect(')', "')'");
      t.build = [function, layer, decay] { return function == "diversity" ? diversity(layer) : alignment(layer, decay); };
      return t;
    }
    if (function == "channel_interpolate") {
      struct Unit {
        std::string layer;
        int64_t c;
        size_t c_pos;
      };
      Unit units[2];
      for (int k = 0; k < 2; ++k) {
        if (k) expect(',', "',' and a second LAYER:CHANNEL");
        peek();
        const size_t layer_pos = i_;
        units[k].layer = name("LAYER:CHANNEL");
        use(units[k].layer, layer_pos);
        expect(':', "':' and a channel number");
        units[k].c_pos = i_;
        units[k].c = integer("a channel number");
      }
      expect(')', "')'");
      t.build = [this, a = units[0], b = units[1]] {
        check_channel(a.layer, a.c, a.c_pos);
        check_channel(b.layer, b.c, b.c_pos);
        return channel_interpolate(a.layer, a.c, b.layer, b.c);
      };
      return t;
    }
    fail(pos, "unknown function '" + function +
                  "' (known: direction, dot, direction_neuron, dot_neuron, diversity, alignment, "
                  "channel_interpolate, l1, l2)");
  }

  // ---- checks against the model

  void use(const std::string& layer, size_t pos) { uses_.emplace_back(layer, pos); }

  // Checks every layer named, then reads all their shapes with one forward pass.
  void read_shapes() {
    std::vector<std::string> names;
    const Graph& graph = model_.graph;
    const std::string input = graph.inputs().empty() ? "" : graph.inputs()[0].name;
    for (const auto& [layer, pos] : uses_) {
      try {
        graph.require_tensor(layer);
      } catch (const Error& e) {
        fail(pos, e.what());
      }
      if (!graph.producer(layer) && layer != input) fail(pos, "'" + layer + "' is a weight, not a layer");
      if (std::find(names.begin(), names.end(), layer) == names.end()) names.push_back(layer);
    }
    if (names.empty()) return;
    c10::InferenceMode guard;
    const Preprocessing& pre = model_.card.preprocessing;
    const at::Tensor zeros = at::zeros({1, 3, pre.height, pre.width}, at::TensorOptions().device(graph.device()));
    TensorMap values;
    try {
      values = graph.run(zeros, names);
    } catch (const Error& e) {
      fail(uses_.front().second, std::string("cannot read layer shapes: ") + e.what());
    }
    for (const auto& [layer, pos] : uses_) {
      const at::Tensor& t = values.at(layer);
      shapes_[layer] = t.sizes().vec();
      if (!at::isFloatingType(t.scalar_type()) || t.dim() < 2 || t.dim() > 4) {
        fail(pos, "'" + layer + "' is not a feature map (" + std::to_string(t.dim()) + "-D " +
                      std::string(c10::toString(t.scalar_type())) + " tensor)");
      }
    }
  }

  int64_t channels(const std::string& layer) const { return shapes_.at(layer)[1]; }

  // Width and height, as objectives view the layer ([N,C] is 1x1, [N,C,L] is Lx1).
  XY size_wh(const std::string& layer) const {
    const std::vector<int64_t>& s = shapes_.at(layer);
    if (s.size() == 2) return {1, 1};
    if (s.size() == 3) return {s[2], 1};
    return {s[3], s[2]};
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
    if (std::all_of(label.begin(), label.end(), is_digit)) {
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
  const Model& model_;
  size_t i_ = 0;
  std::vector<std::pair<std::string, size_t>> uses_;  // layer, position: in text order
  std::unordered_map<std::string, std::vector<int64_t>> shapes_;
};

}  // namespace

Objective parse(const std::string& text, const Model& model) { return Parser(text, model).parse(); }

}  // namespace featvis::objective
