#pragma once
// The objective text form read into a tree, without a model: grammar errors come first
// and cost nothing. Binding the tree to a model (objective::parse in parse.h) checks
// layers, channels, positions, labels and files and builds the Objective.
#include <featvis/objective/kind_table.h>

#include <cstdint>
#include <string>
#include <vector>

namespace featvis::objective::syntax {

// One argument as written; binding turns it into an objective::Argument.
struct Written {
  bool given = false;  // false: an optional argument left out
  size_t pos = 0;      // 0-based column of the argument (a unit's layer name)
  size_t value_pos = 0;           // a unit's channel, else = pos
  std::string text;               // layer, file or label, unquoted
  int64_t first = 0, last = 0;    // a unit's channel, or its range A-B (target form only)
  bool range = false;             // written A-B: one objective per channel, one per batch item
  double number = 0;
  int64_t x = 0, y = 0;           // a position
};

struct Node {
  enum class Type { kKind, kSum, kDifference, kScale, kNegate, kAlternatives };
  Type type = Type::kKind;
  size_t pos = 0;              // where the term starts (its '(' if parenthesized)
  size_t op_pos = 0;           // kSum, kDifference: the operator
  double scale = 1;            // kScale
  bool scale_first = true;     // kScale: written 2*a (true) or a*2
  std::vector<Node> children;  // operands, in text order
  const Kind* kind = nullptr;  // kKind
  std::vector<Written> arguments;  // kKind: one per kind->params
};

// Reads the text form (grammar in parse.h). Throws featvis::Error "objective '<text>' at
// <column>: <what>".
Node parse(const std::string& text);

// The error format every objective text error shares (pos is 0-based).
[[noreturn]] void fail(const std::string& text, size_t pos, const std::string& what);

}  // namespace featvis::objective::syntax
