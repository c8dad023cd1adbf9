// The objective text form: every accepted form gives the right description, layers,
// batch size and value, and bad input gives one line naming the problem and its column.
#include "objective/test_models.h"
#include "support/test_support.h"

#include <featvis/io/npy.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <string>
#include <vector>

namespace fo = featvis::objective;
using featvis::objective::Objective;
using featvis::graph::TensorMap;

namespace {

const featvis::model::Model& tiny() {
  static const featvis::model::Model model = featvis::testing::tiny_model(8);
  return model;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = featvis::testing::temp_dir() + "/" + name;
  featvis::write_file_atomically(path, text);
  return path;
}

// A path as descriptions write it: quoted unless it is a plain run of name characters.
std::string as_written(const std::string& path) {
  for (char c : path)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/' && c != '.') return "'" + path + "'";
  return path;
}

void expect_form(const std::string& text, const std::string& description, int64_t batch,
                 const std::set<std::string>& layers) {
  SCOPED_TRACE(text);
  const Objective o = fo::parse(text, tiny());
  EXPECT_EQ(o.description(), description);
  EXPECT_EQ(o.batch_size(), batch);
  EXPECT_EQ(o.layers(), layers);
}

// The message of the featvis::Error that parsing `text` throws.
std::string parse_error(const std::string& text, const featvis::model::Model& model = tiny()) {
  try {
    fo::parse(text, model);
  } catch (const featvis::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// One line: "objective '<text>' at <column>: <what...>".
void expect_error(const std::string& text, int column, const std::string& what,
                  const featvis::model::Model& model = tiny()) {
  SCOPED_TRACE(text);
  const std::string message = parse_error(text, model);
  const std::string prefix = "objective '" + text + "' at " + std::to_string(column) + ": ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

// Values of a parsed objective on the tiny model for a seeded random batch.
at::Tensor value_of(const Objective& o, int64_t batch) {
  at::manual_seed(11);
  const at::Tensor image = at::rand({batch, 3, 8, 8});
  const std::vector<std::string> layers(o.layers().begin(), o.layers().end());
  const TensorMap acts = tiny().graph.run(featvis::testing::network_input(image, tiny().card), layers);
  return o({acts, image});
}

TEST(ObjectiveParser, UnitTargets) {
  expect_form("conv1:2", "conv1:2", 0, {"conv1"});
  expect_form("conv1:2@3,5", "conv1:2@3,5", 0, {"conv1"});
  expect_form("conv1:2@3, 5", "conv1:2@3,5", 0, {"conv1"});
  expect_form("conv1:2@center", "conv1:2@center", 0, {"conv1"});
  expect_form("conv1:2@centre", "conv1:2@center", 0, {"conv1"});
  expect_form("conv1", "conv1", 0, {"conv1"});
  expect_form("conv1/preact:3", "conv1/preact:3", 0, {"conv1/preact"});
  expect_form("'block 2:conv':5", "'block 2:conv':5", 0, {"block 2:conv"});
  expect_form("\"block 2:conv\":5@1,1", "'block 2:conv':5@1,1", 0, {"block 2:conv"});
  expect_form("'block 2:conv'", "'block 2:conv'", 0, {"block 2:conv"});
  expect_form("logits:3", "logits:3", 0, {"logits"});
  expect_form("flat:5@center", "flat:5@center", 0, {"flat"});
  expect_form("input:0", "input:0", 0, {"input"});
}

TEST(ObjectiveParser, UnitRangesGiveOneUnitPerItem) {
  expect_form("conv1:0-3", "conv1:0 | conv1:1 | conv1:2 | conv1:3", 4, {"conv1"});
  expect_form("conv1:1-2@center", "conv1:1@center | conv1:2@center", 2, {"conv1"});
  expect_form("block2:4-4", "block2:4", 1, {"block2"});
  const at::Tensor v = value_of(fo::parse("conv1/preact:0-3", tiny()), 4);
  const at::Tensor direct = value_of(fo::channel("conv1/preact", 0), 4);  // same image, same seed
  EXPECT_NEAR(v[0].item<double>(), direct[0].item<double>(), 1e-6);
  for (int64_t i = 0; i < 4; ++i) {
    const at::Tensor ci = value_of(fo::channel("conv1/preact", i), 4);
    EXPECT_NEAR(v[i].item<double>(), ci[i].item<double>(), 1e-6) << "item " << i;
  }
}

TEST(ObjectiveParser, ClassTargetsByIndexOrLabel) {
  expect_form("logit:2", "logit:2", 0, {"logits"});
  expect_form("prob:1", "prob:1", 0, {"logits"});
  expect_form("logit:tench", "logit:0", 0, {"logits"});
  expect_form("logit:TENCH", "logit:0", 0, {"logits"});
  expect_form("logit:'Tinca tinca'", "logit:0", 0, {"logits"});
  expect_form("prob:'tiger cat'", "prob:1", 0, {"logits"});
  expect_form("prob:\"Whooping Crane\"", "prob:3", 0, {"logits"});
  const at::Tensor scores = value_of(fo::parse("logits:1", tiny()), 2);
  const at::Tensor logit = value_of(fo::parse("logit:'tiger cat'", tiny()), 2);
  EXPECT_TRUE(at::allclose(scores, logit));
}

TEST(ObjectiveParser, DirectionsFromTextAndNpyFiles) {
  const std::string text = write_temp("v4.txt", "# a direction\n0.5, -1\n2 0.25e1\n");
  const std::string npy = featvis::testing::temp_dir() + "/v6.npy";
  featvis::io::save_npy(npy, at::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, at::kDouble).reshape({2, 3}));
  expect_form("direction(conv1, " + text + ")", "direction(conv1, " + as_written(text) + ")", 0, {"conv1"});
  expect_form("dot(conv1, '" + text + "')", "dot(conv1, " + as_written(text) + ")", 0, {"conv1"});
  expect_form("direction_neuron(conv1, " + text + ")", "direction_neuron(conv1, " + as_written(text) + ")", 0,
              {"conv1"});
  expect_form("dot_neuron(conv1, " + text + ", 1, 2)", "dot_neuron(conv1, " + as_written(text) + ", 1, 2)", 0,
              {"conv1"});
  expect_form("direction('block 2:conv', " + npy + ")", "direction('block 2:conv', " + as_written(npy) + ")", 0,
              {"block 2:conv"});
  // The text file's numbers are the vector: dot form = mean over positions of <act, v>.
  const at::Tensor parsed = value_of(fo::parse("dot(conv1/preact, " + text + ")", tiny()), 1);
  const at::Tensor direct = value_of(fo::direction("conv1/preact", at::tensor({0.5f, -1.f, 2.f, 2.5f}), false), 1);
  EXPECT_NEAR(parsed.item<double>(), direct.item<double>(), 1e-5);
}

TEST(ObjectiveParser, BatchTermsAndPenalties) {
  expect_form("diversity(conv1)", "diversity(conv1)", 0, {"conv1"});
  expect_form("alignment(block2)", "alignment(block2)", 0, {"block2"});
  expect_form("alignment(block2, 3)", "alignment(block2, 3)", 0, {"block2"});
  expect_form("channel_interpolate(conv1:0, 'block 2:conv':5)", "channel_interpolate(conv1:0, 'block 2:conv':5)", 0,
              {"conv1", "block 2:conv"});
  expect_form("l1", "l1", 0, {});
  expect_form("l1(0.25)", "l1(0.25)", 0, {});
  expect_form("l2", "l2", 0, {});
  expect_form("l2(0.5, 1e-8)", "l2(0.5, 1e-08)", 0, {});
  expect_form("tv", "tv", 0, {});
  expect_form("blur", "blur", 0, {});
}

TEST(ObjectiveParser, Combinations) {
  expect_form("conv1:0 + conv1:1", "conv1:0 + conv1:1", 0, {"conv1"});
  expect_form("  conv1:0+conv1:1 ", "conv1:0 + conv1:1", 0, {"conv1"});
  expect_form("conv1:0 - block2:1", "conv1:0 - block2:1", 0, {"conv1", "block2"});
  expect_form("2.5*conv1:0", "2.5*conv1:0", 0, {"conv1"});
  expect_form("conv1:0*2.5", "conv1:0*2.5", 0, {"conv1"});
  expect_form("-conv1:0", "-conv1:0", 0, {"conv1"});
  expect_form("-2*conv1:0", "-2*conv1:0", 0, {"conv1"});
  expect_form("2*3*conv1:0", "6*conv1:0", 0, {"conv1"});
  expect_form("2.5*(conv1:0 + conv1:1)", "2.5*(conv1:0 + conv1:1)", 0, {"conv1"});
  expect_form("conv1:0 - (conv1:1 + conv1:2)", "conv1:0 - (conv1:1 + conv1:2)", 0, {"conv1"});
  expect_form("(conv1:0 - conv1:1) + conv1:2", "conv1:0 - conv1:1 + conv1:2", 0, {"conv1"});
  expect_form("conv1:0 + 1e-3*tv - .5*l1", "conv1:0 + 0.001*tv - 0.5*l1", 0, {"conv1"});
  expect_form("conv1:0 | conv1:1 | logit:tench", "conv1:0 | conv1:1 | logit:0", 3, {"conv1", "logits"});
  expect_form("conv1:0 | conv1:1 + tv", "conv1:0 | conv1:1 + tv", 2, {"conv1"});
  expect_form("(conv1:0 | conv1:1) + tv", "(conv1:0 | conv1:1) + tv", 2, {"conv1"});
  expect_form("conv1:0-1 - 100*diversity(block2)", "(conv1:0 | conv1:1) - 100*diversity(block2)", 2,
              {"conv1", "block2"});
  // Descriptions read back as themselves.
  for (const std::string text : {"2.5*(conv1:0 + 'block 2:conv':1@2,3) - l2(0.4)", "conv1:0-2 + 0.5*blur",
                                 "-(conv1:1 - logit:2)*3 | prob:0 | alignment(block2, 1.5)"}) {
    const std::string once = fo::parse(text, tiny()).description();
    EXPECT_EQ(fo::parse(once, tiny()).description(), once) << text;
  }
  // Values follow the algebra.
  const at::Tensor sum = value_of(fo::parse("2.5*(conv1/preact:0 - conv1/preact:1) + -tv", tiny()), 2);
  const at::Tensor direct = value_of(
      2.5 * (fo::channel("conv1/preact", 0) - fo::channel("conv1/preact", 1)) - fo::total_variation(), 2);
  EXPECT_TRUE(at::allclose(sum, direct));
}

TEST(ObjectiveParserErrors, Grammar) {
  expect_error("", 1, "empty objective");
  expect_error("conv1 +", 8, "expected an objective or a number, found end of text");
  expect_error("(conv1", 7, "expected ')' to close the '(' at 1, found end of text");
  expect_error("2**conv1", 3, "expected an objective or a number, found '*'");
  expect_error("x:3@1", 6, "expected ',' and a y position after the x position, found end of text");
  expect_error("conv1:3@", 9, "expected X,Y or 'center' after '@'");
  expect_error("conv1:", 7, "expected a channel number after ':'");
  expect_error("conv1:-1", 7, "expected a channel number after ':'");
  expect_error("conv1:3-1", 7, "unit range 3-1 is empty");
  expect_error("conv1:0 conv1:1", 9, "unexpected 'conv1'");
  expect_error("conv1:0)", 8, "unexpected ')'");
  expect_error("3", 1, "a number alone is not an objective");
  expect_error("conv1:0 + 2", 11, "a number cannot be added to an objective");
  expect_error("conv1:0*conv1:1", 8, "cannot multiply two objectives");
  expect_error("'conv1", 1, "unterminated quote");
  expect_error("foo(conv1)", 1, "unknown function 'foo'");
  expect_error("direction(conv1)", 16, "expected ',' and a direction file, found ')'");
  expect_error("tv(1)", 4, "tv takes no arguments");
  expect_error("l2(1, 2, 3)", 10, "l2 takes at most 2 arguments");
  expect_error("logit:", 7, "expected a class index or label after 'logit:'");
  expect_error("alignment(conv1, 0)", 18, "decay ratio must be positive");
  expect_error("channel_interpolate(conv1, conv1:1)", 26, "expected ':' and a channel number");
}

TEST(ObjectiveParserErrors, GrammarComesBeforeLayers) {
  // "a" and "x" are not layers either, but the broken grammar is reported first.
  expect_error("x:3 +", 6, "found end of text");
  expect_error("a +", 4, "expected an objective or a number, found end of text");
  expect_error("(a", 3, "expected ')' to close the '(' at 1");
  expect_error("2**a", 3, "found '*'");
}

TEST(ObjectiveParserErrors, UnknownLayersWithSuggestions) {
  expect_error("convv1:1", 1, "unknown layer 'convv1' in model 'tiny.onnx' (closest: 'conv1'");
  expect_error("conv1:0 + 'block 2 conv':1", 11, "unknown layer 'block 2 conv'");
  expect_error("diversity(pool2)", 11, "unknown layer 'pool2'");
  expect_error("conv1.w:0", 1, "'conv1.w' is a weight, not a layer");
}

TEST(ObjectiveParserErrors, UnitsOutOfRange) {
  expect_error("conv1:4", 7, "channel 4 out of range: layer 'conv1' has 4 channels (0-3)");
  expect_error("'block 2:conv':6", 16, "channel 6 out of range: layer 'block 2:conv' has 6 channels (0-5)");
  expect_error("conv1:2-9", 7, "channel 9 out of range");
  expect_error("logits:4", 8, "channel 4 out of range");
  expect_error("channel_interpolate(conv1:0, block2:6)", 37, "channel 6 out of range");
  expect_error("conv1:0@8,0", 9, "position (8, 0) out of range: layer 'conv1' is 8x8");
  expect_error("block2:0@3,4", 10, "position (3, 4) out of range: layer 'block2' is 4x4");
  expect_error("flat:0@1,0", 8, "position (1, 0) out of range");
  expect_error("prob:4", 6, "class 4 out of range: model 'tiny' has 4 classes (0-3)");
}

TEST(ObjectiveParserErrors, Labels) {
  expect_error("logit:tenchh", 7, "unknown label 'tenchh' (closest: classes 0 'tench, Tinca tinca'");
  expect_error("prob:crane", 6, "label 'crane' is ambiguous: classes 2 'crane', 3 'crane, whooping crane'");
  featvis::model::Model unlabelled = featvis::testing::tiny_model(8);
  unlabelled.card.labels.clear();
  expect_error("logit:tench", 7, "model 'tiny' has no labels; use a class index", unlabelled);
}

TEST(ObjectiveParserErrors, DirectionFiles) {
  const std::string missing = featvis::testing::temp_dir() + "/none.txt";
  expect_error("direction(conv1, " + missing + ")", 18, "direction file '" + missing + "' not found");
  const std::string three = write_temp("v3.txt", "1 2 3\n");
  expect_error("direction(conv1, " + three + ")", 18,
               "direction file '" + three + "' has 3 values but layer 'conv1' has 4 channels");
  const std::string bad = write_temp("bad.txt", "1 2\n3 x4\n");
  expect_error("dot(conv1, '" + bad + "')", 12, "line 2: 'x4' is not a finite number");
  const std::string npy = featvis::testing::temp_dir() + "/v5.npy";
  featvis::io::save_npy(npy, at::ones({5}));
  expect_error("direction_neuron(block2, " + npy + ")", 26, "has 5 values but layer 'block2' has 6 channels");
  const std::string four = write_temp("v4b.txt", "1 2 3 4");
  expect_error("dot_neuron(conv1, " + four + ", 8, 0)", 21 + static_cast<int>(four.size()),
               "position (8, 0) out of range");
}

TEST(ObjectiveParserErrors, BatchSizes) {
  // A parenthesized list is one alternative: it fits a list of 2, not one of 3.
  expect_form("(conv1:0 | conv1:1) | conv1:2", "(conv1:0 | conv1:1) | conv1:2", 2, {"conv1"});
  expect_error("(conv1:0 | conv1:1) | conv1:2 | conv1:3", 1,
               "'conv1:0 | conv1:1' needs a batch of 2, but this '|' list gives one item to each of 3");
  expect_error("conv1:0-1 + conv1:0-2", 11, "need different batch sizes (2 and 3)");
}

TEST(ObjectiveParser, MobileNetV2LayersAndLabels) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::string layer = "MobileNetV2/expanded_conv_5/expand";
  EXPECT_EQ(fo::parse(layer + ":191@27,27", model).description(), layer + ":191@27,27");
  EXPECT_EQ(fo::parse("logit:'tiger cat'", model).description(), "logit:282");
  EXPECT_EQ(fo::parse("prob:tench + 0.1*" + layer, model).description(), "prob:0 + 0.1*" + layer);
  EXPECT_EQ(fo::parse(layer + ":0-7 - 10*diversity(" + layer + ")", model).batch_size(), 8);
  expect_error(layer + ":192", 36, "channel 192 out of range: layer '" + layer + "' has 192 channels", model);
  expect_error(layer + ":0@28,0", 38, "position (28, 0) out of range: layer '" + layer + "' is 28x28", model);
  expect_error("logit:crane", 7, "label 'crane' is ambiguous: classes 134 'crane', 517 'crane'", model);
  expect_error("logit:1000", 7, "class 1000 out of range", model);
  expect_error("MobileNetV2/expanded_conv_5/expnd:1", 1, "closest: 'MobileNetV2/expanded_conv_5/expand", model);
}

}  // namespace
