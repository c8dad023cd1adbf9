// The objective text form by recursive descent (syntax.h). Which words are kinds, how
// each is written and what arguments it takes come from the kind table.
#include <featvis/objective/syntax.h>
#include <featvis/util/error.h>

#include "text_form.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace featvis::objective::syntax {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A parsed term: a number (only to scale objectives) or an objective's tree.
struct Term {
  size_t pos = 0;
  bool is_number = false;
  double number = 0;
  Node node;
};

// The layer shorthand with these parts: LAYER, LAYER:C or LAYER:C@...
const Kind& target_kind(bool unit, bool at) {
  for (const Kind& k : kinds()) {
    if (k.form == Form::kTarget && (k.params[0].type == ParamType::kUnit) == unit && (k.params.size() > 1) == at) {
      return k;
    }
  }
  throw Error("the kind table has no layer shorthand for this form");
}

std::string known_functions() {
  std::string names;
  for (const Kind& k : kinds())
    if (k.form == Form::kCall || k.form == Form::kWord) names += (names.empty() ? "" : ", ") + k.name;
  return names;
}

// How many numbers a kind's arguments can hold at most (a position is two).
size_t most_arguments(const Kind& kind) {
  size_t n = 0;
  for (const Param& p : kind.params) n += p.type == ParamType::kPosition ? 2 : 1;
  return n;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Node parse() {
    if (peek() == '\0') fail(i_, "empty objective");
    const Term root = alternatives();
    if (peek() != '\0') fail(i_, "unexpected " + found(i_) + "; combine objectives with + - * or |");
    if (root.is_number) fail(root.pos, "a number alone is not an objective");
    return root.node;
  }

 private:
  // ---- errors

  [[noreturn]] void fail(size_t pos, const std::string& what) const { syntax::fail(text_, pos, what); }

  std::string found(size_t pos) const {
    if (pos >= text_.size()) return "end of text";
    size_t end = pos;
    while (end < text_.size() && text::is_name_char(text_[end])) ++end;
    return "'" + text_.substr(pos, std::max(end, pos + 1) - pos) + "'";
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
    Term out;
    out.pos = items[0].pos;
    out.node.type = Node::Type::kAlternatives;
    out.node.pos = out.pos;
    for (const Term& t : items) {
      require_objective(t);
      out.node.children.push_back(t.node);
    }
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
      Node node;
      node.type = op == '+' ? Node::Type::kSum : Node::Type::kDifference;
      node.pos = lhs.pos;
      node.op_pos = pos;
      node.children = {lhs.node, rhs.node};
      lhs.node = std::move(node);
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
      Node node;
      node.type = Node::Type::kScale;
      node.pos = lhs.pos;
      node.scale = lhs.is_number ? lhs.number : rhs.number;
      node.scale_first = lhs.is_number;
      node.children = {lhs.is_number ? rhs.node : lhs.node};
      lhs.is_number = false;
      lhs.node = std::move(node);
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
      out.node = Node{};
      out.node.type = Node::Type::kNegate;
      out.node.pos = pos;
      out.node.children = {operand.node};
    }
    return out;
  }

  // primary := NUMBER | '(' alternatives ')' | call | word | class | target
  Term primary() {
    const char c = peek();
    const size_t pos = i_;
    if (c == '(') {
      ++i_;
      Term inner = alternatives();
      if (!accept(')')) {
        fail(i_, "expected ')' to close the '(' at " + std::to_string(pos + 1) + ", found " + found(i_));
      }
      inner.pos = inner.node.pos = pos;
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
      const Kind* kind = find_kind(w);
      if (kind && kind->form == Form::kWord) return call(*kind, pos);
      if (next == '(') {
        if (!kind) fail(pos, "unknown function '" + w + "' (known: " + known_functions() + ")");
        if (kind->form != Form::kCall) fail(pos, "'" + w + "' is written " + kind->signature());
        return call(*kind, pos);
      }
      if (kind && kind->form == Form::kClass && next == ':') return class_target(*kind, pos);
      return target(w, pos);
    }
    fail(pos, "expected an objective or a number, found " + found(pos));
  }

  static Term kind_term(const Kind& kind, size_t pos, std::vector<Written> arguments) {
    Term t;
    t.pos = pos;
    t.node.pos = pos;
    t.node.kind = &kind;
    t.node.arguments = std::move(arguments);
    return t;
  }

  // target := NAME (':' UNIT)?   UNIT := C ('-' C)? ('@' (X ',' Y | 'center'))?
  Term target(const std::string& layer, size_t pos) {
    Written unit;
    unit.given = true;
    unit.pos = unit.value_pos = pos;
    unit.text = layer;
    if (!accept(':')) return kind_term(target_kind(false, false), pos, {unit});
    unit.value_pos = i_;
    unit.first = unit.last = integer("a channel number after ':'");
    if (here() == '-' && i_ + 1 < text_.size() && is_digit(text_[i_ + 1])) {
      ++i_;
      unit.range = true;
      unit.last = integer("the last channel of the range");
      if (unit.last < unit.first) {
        fail(unit.value_pos, "unit range " + std::to_string(unit.first) + "-" + std::to_string(unit.last) + " is empty");
      }
    }
    if (here() != '@') return kind_term(target_kind(true, false), pos, {unit});
    ++i_;
    return kind_term(target_kind(true, true), pos, {unit, neuron_position()});
  }

  // After '@': "center" (not given) or X,Y.
  Written neuron_position() {
    Written at;
    at.pos = at.value_pos = i_;
    if (is_digit(here())) {
      at.given = true;
      at.x = integer("an x position");
      if (here() != ',') fail(i_, "expected ',' and a y position after the x position, found " + found(i_));
      ++i_;
      peek();
      at.y = integer("a y position");
      return at;
    }
    std::string w = word();
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (w != "center" && w != "centre") fail(at.pos, "expected X,Y or 'center' after '@', found " + found(at.pos));
    return at;
  }

  // class target := NAME ':' (INDEX | LABEL)
  Term class_target(const Kind& kind, size_t pos) {
    expect(':', "':'");
    Written k;
    k.given = true;
    k.pos = k.value_pos = i_;
    if (here() == '\'' || here() == '"') {
      k.text = quoted();
    } else if (text::is_name_char(here())) {
      k.text = word();
    } else {
      fail(k.pos, "expected a class index or label after '" + kind.name + ":', found " + found(k.pos));
    }
    return kind_term(kind, pos, {k});
  }

  // call := NAME '(' ARGUMENT (',' ARGUMENT)* ')', as the kind's parameters say; a word
  // kind may leave out the parentheses.
  Term call(const Kind& kind, size_t pos) {
    std::vector<Written> arguments(kind.params.size());
    if (!accept('(')) {
      if (kind.form == Form::kCall) expect('(', "'('");
      return kind_term(kind, pos, arguments);
    }
    for (size_t a = 0; a < kind.params.size(); ++a) {
      const Param& param = kind.params[a];
      if (a == 0 && param.optional && peek() == ')') break;
      if (a > 0 && param.optional && !accept(',')) break;
      if (a > 0 && !param.optional) expect(',', "',' and " + param.what);
      arguments[a] = argument(kind, param);
    }
    const bool extra = kind.params.empty() ? peek() != ')' : accept(',');
    if (extra) {
      peek();
      const size_t most = most_arguments(kind);
      fail(i_, kind.name + (most ? " takes at most " + std::to_string(most) + " argument" + (most > 1 ? "s" : "")
                                 : std::string(" takes no arguments")));
    }
    expect(')', "')'");
    return kind_term(kind, pos, arguments);
  }

  Written argument(const Kind& kind, const Param& param) {
    Written w;
    w.given = true;
    peek();
    w.pos = w.value_pos = i_;
    switch (param.type) {
      case ParamType::kLayer: w.text = name(param.what); break;
      case ParamType::kUnit:
        w.text = name(param.what);
        expect(':', "':' and a channel number");
        w.value_pos = i_;
        w.first = w.last = integer("a channel number");
        break;
      case ParamType::kDirection:
      case ParamType::kPhoto: w.text = path(); break;
      case ParamType::kNumber:
        w.number = number_argument();
        if (param.positive && !(w.number > 0)) fail(w.pos, kind.name + "'s " + param.what + " must be positive");
        break;
      case ParamType::kPosition:
        w.x = integer("an x position");
        expect(',', "',' and a y position");
        peek();
        w.y = integer("a y position");
        break;
      case ParamType::kClass: w.text = name(param.what); break;
    }
    return w;
  }

  const std::string& text_;
  size_t i_ = 0;
};

}  // namespace

void fail(const std::string& text, size_t pos, const std::string& what) {
  std::string shown = text;
  std::replace_if(shown.begin(), shown.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  throw Error("objective '" + shown + "' at " + std::to_string(pos + 1) + ": " + what);
}

Node parse(const std::string& text) { return Parser(text).parse(); }

}  // namespace featvis::objective::syntax
