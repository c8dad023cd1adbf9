// The text form read into a tree without any model: the tree's shape, the kinds and the
// arguments as written, and grammar errors with their columns.
#include "support/test_support.h"

#include <featvis/objective/syntax.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <string>

namespace syntax = featvis::objective::syntax;
using syntax::Node;

namespace {

// The tree in one line: kinds by name with their arguments, operators around them.
std::string shape(const Node& n) {
  std::string children;
  for (const Node& c : n.children) children += (children.empty() ? "" : " ") + shape(c);
  switch (n.type) {
    case Node::Type::kSum: return "(+ " + children + ")";
    case Node::Type::kDifference: return "(- " + children + ")";
    case Node::Type::kScale: return "(* " + children + ")";
    case Node::Type::kNegate: return "(neg " + children + ")";
    case Node::Type::kAlternatives: return "(| " + children + ")";
    case Node::Type::kKind: break;
  }
  std::string s = n.kind->name;
  for (const auto& a : n.arguments) {
    if (!a.given) {
      s += " _";
      continue;
    }
    s += " " + (a.text.empty() ? std::string("#") : a.text);  // # : a number or position
  }
  return s;
}

std::string error(const std::string& text) {
  return featvis::testing::error_of([&] { syntax::parse(text); });
}

TEST(ObjectiveSyntax, KindsAndArguments) {
  EXPECT_EQ(shape(syntax::parse("conv1")), "deepdream conv1");
  EXPECT_EQ(shape(syntax::parse("conv1:3")), "channel conv1");
  EXPECT_EQ(shape(syntax::parse("'odd name':3@center")), "neuron odd name _");
  EXPECT_EQ(shape(syntax::parse("logit:'tiger cat'")), "logit tiger cat");
  EXPECT_EQ(shape(syntax::parse("alignment(b)")), "alignment b _");
  EXPECT_EQ(shape(syntax::parse("direction_neuron(b, v.npy, 1, 2)")), "direction_neuron b v.npy #");
  EXPECT_EQ(shape(syntax::parse("tv + l2(0.4) - blur")), "(- (+ tv l2 # _) blur)");
  EXPECT_EQ(shape(syntax::parse("-2*(a:0 | b:1)")), "(* (| channel a channel b))");
}

TEST(ObjectiveSyntax, NumbersAndPositions) {
  const Node range = syntax::parse("conv1:2-5@3,4");
  ASSERT_EQ(range.arguments.size(), 2u);
  EXPECT_EQ(range.arguments[0].first, 2);
  EXPECT_EQ(range.arguments[0].last, 5);
  EXPECT_EQ(range.arguments[0].value_pos, 6u);
  EXPECT_EQ(range.arguments[1].x, 3);
  EXPECT_EQ(range.arguments[1].y, 4);
  const Node scaled = syntax::parse("2*3*a");
  EXPECT_EQ(scaled.scale, 6);
  EXPECT_TRUE(scaled.scale_first);
  EXPECT_EQ(syntax::parse("alignment(b, 1.5)").arguments[1].number, 1.5);
  EXPECT_FALSE(syntax::parse("a*2").scale_first);
}

TEST(ObjectiveSyntax, ErrorsNeedNoModel) {
  EXPECT_EQ(error("conv1 +"), "objective 'conv1 +' at 8: expected an objective or a number, found end of text");
  EXPECT_EQ(error("foo(a)"), "objective 'foo(a)' at 1: unknown function 'foo' (known: direction, dot, "
                             "direction_neuron, dot_neuron, diversity, alignment, channel_interpolate, l1, l2, tv, "
                             "distance, caricature, blur)");
  EXPECT_EQ(error("logit(3)"), "objective 'logit(3)' at 1: 'logit' is written logit:K");
  EXPECT_EQ(error("tv(1)"), "objective 'tv(1)' at 4: tv takes no arguments");
  EXPECT_EQ(error("diversity(a, b)"), "objective 'diversity(a, b)' at 14: diversity takes at most 1 argument");
  EXPECT_EQ(error("alignment(a, -1)"), "objective 'alignment(a, -1)' at 14: alignment's decay ratio must be positive");
  EXPECT_EQ(error("direction(a)"), "objective 'direction(a)' at 12: expected ',' and a direction file, found ')'");
}

}  // namespace
