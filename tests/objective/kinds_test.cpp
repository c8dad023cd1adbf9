// Objectives: each kind's value on known activations against a hand computation, the
// algebra (descriptions, layers, batch sizes, values), and gradient ascent on an image
// raising every kind, through a tiny network and (when present) the real MobileNetV2.
#include "objective/test_models.h"
#include "support/test_support.h"

#include <featvis/objective/kinds.h>
#include <featvis/util/error.h>

#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace fo = featvis::objective;
using featvis::objective::Objective;
using featvis::objective::ObjectiveInput;
using featvis::graph::TensorMap;

namespace {

// act[n][c][y][x] = 100 n + 10 c + 3 y + x, shape [2, 3, 2, 3].
at::Tensor counting_activations() {
  at::Tensor t = at::empty({2, 3, 2, 3});
  auto a = t.accessor<float, 4>();
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) a[n][c][y][x] = static_cast<float>(100 * n + 10 * c + 3 * y + x);
  return t;
}

std::vector<double> values(const Objective& o, const TensorMap& acts, const at::Tensor& image = at::Tensor()) {
  const at::Tensor v = o({acts, image});
  std::vector<double> out;
  for (int64_t i = 0; i < v.size(0); ++i) out.push_back(v[i].item<double>());
  return out;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "item " << i;
}

using featvis::testing::error_of;
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- values

TEST(ObjectiveValues, ChannelIsTheMeanOverPositions) {
  const TensorMap acts{{"a", counting_activations()}};
  // mean over y in {0,1}, x in {0,1,2} of 3y + x = 1.5 + 1 = 2.5
  expect_near(values(fo::channel("a", 1), acts), {12.5, 112.5});
  expect_near(values(fo::channel("a", 2), acts), {22.5, 122.5});
  EXPECT_EQ(fo::channel("a", 1).description(), "a:1");
  EXPECT_EQ(fo::channel("a", 1).layers(), std::set<std::string>{"a"});
}

TEST(ObjectiveValues, NeuronDefaultsToTheCentre) {
  const TensorMap acts{{"a", counting_activations()}};
  // W = 3, H = 2: centre x = 1, y = 1 -> 3 + 1
  expect_near(values(fo::neuron("a", 1), acts), {14, 114});
  expect_near(values(fo::neuron("a", 1, std::pair<int64_t, int64_t>{2, 0}), acts), {12, 112});
  expect_near(values(fo::neuron("a", 0, std::pair<int64_t, int64_t>{0, 1}), acts), {3, 103});
  // 5 wide, 2 high: centre column 2, row 1 of 0..9 laid out row by row.
  const TensorMap wide{{"w", at::arange(10, at::kFloat).reshape({1, 1, 2, 5})}};
  expect_near(values(fo::neuron("w", 0), wide), {7});
  EXPECT_EQ(fo::neuron("a", 1).description(), "a:1@center");
  EXPECT_EQ(fo::neuron("a", 1, std::pair<int64_t, int64_t>{2, 0}).description(), "a:1@2,0");
}

TEST(ObjectiveValues, DeepDreamIsTheMeanSquare) {
  const TensorMap acts{{"a", counting_activations()}};
  std::vector<double> want(2, 0.0);
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) want[n] += std::pow(100 * n + 10 * c + 3 * y + x, 2);
    want[n] /= 18;
  }
  expect_near(values(fo::deepdream("a"), acts), want, 1e-2);
  EXPECT_EQ(fo::deepdream("a").description(), "a");
}

TEST(ObjectiveValues, ChannelsOfTwoDimensionalLayers) {
  const TensorMap acts{{"logits", at::tensor({1.f, 2.f, 3.f, -1.f, 0.f, 5.f}).reshape({2, 3})}};
  expect_near(values(fo::channel("logits", 2), acts), {3, 5});
  expect_near(values(fo::neuron("logits", 1), acts), {2, 0});
  expect_near(values(fo::logit("logits", 0), acts), {1, -1});
  const double z0 = std::exp(1) + std::exp(2) + std::exp(3), z1 = std::exp(-1) + std::exp(0) + std::exp(5);
  expect_near(values(fo::probability("logits", 1), acts), {std::exp(2) / z0, std::exp(0) / z1});
  EXPECT_EQ(fo::logit("logits", 0).description(), "logit:0");
  EXPECT_EQ(fo::probability("logits", 1).description(), "prob:1");
}

TEST(ObjectiveValues, OutOfRangeUnitsAreErrorsWhenEvaluated) {
  const TensorMap acts{{"a", counting_activations()}};
  EXPECT_TRUE(contains(error_of([&] { values(fo::channel("a", 3), acts); }), "channel 3 out of range"));
  EXPECT_TRUE(contains(error_of([&] { values(fo::neuron("a", 0, std::pair<int64_t, int64_t>{3, 0}), acts); }),
                       "position (3, 0) out of range"));
  EXPECT_TRUE(contains(error_of([&] { values(fo::logit("a", 3), acts); }), "(no error)"));  // 18 "classes"
  EXPECT_TRUE(contains(error_of([&] { values(fo::logit("a", 18), acts); }), "class 18 out of range"));
  EXPECT_TRUE(contains(error_of([&] { values(fo::channel("b", 0), acts); }), "needs layer 'b'"));
}

TEST(ObjectiveValues, DirectionDotAndCosineForms) {
  // One item, 2 channels, 1x2 positions: (3, 4) and (1, 0).
  const TensorMap acts{{"a", at::tensor({3.f, 1.f, 4.f, 0.f}).reshape({1, 2, 1, 2})}};
  const at::Tensor x_axis = at::tensor({1.f, 0.f});
  // dot: mean(3, 1); cosine: mean(3 * 0.6, 1 * 1)
  expect_near(values(fo::direction("a", x_axis, false), acts), {2.0});
  expect_near(values(fo::direction("a", x_axis, true), acts), {1.4}, 1e-3);
  // Length does not matter in the cosine form; it scales the dot form.
  expect_near(values(fo::direction("a", x_axis * 2, true), acts), {1.4}, 1e-3);
  expect_near(values(fo::direction("a", x_axis * 2, false), acts), {4.0});
  // A negative cosine is floored at 0.1: mean(-3 * 0.1, -1 * 0.1)
  expect_near(values(fo::direction("a", -x_axis, true), acts), {-0.2}, 1e-3);
  // At one position: (1, 0) is x = 1, y = 0.
  const std::pair<int64_t, int64_t> second{1, 0};
  expect_near(values(fo::direction_neuron("a", x_axis * 2, second, false), acts), {2.0});
  expect_near(values(fo::direction_neuron("a", x_axis, second, true), acts), {1.0}, 1e-3);
  // Centre of a 2x1 map: x = 1.
  expect_near(values(fo::direction_neuron("a", at::tensor({0.f, 1.f}), std::nullopt, false), acts), {0.0});
  EXPECT_EQ(fo::direction("a", x_axis).description(), "direction(a, vector[2])");
  EXPECT_EQ(fo::direction("a", x_axis, false).description(), "dot(a, vector[2])");
  EXPECT_EQ(fo::direction_neuron("a", x_axis, second, false).description(), "dot_neuron(a, vector[2], 1, 0)");
  EXPECT_TRUE(contains(error_of([&] { values(fo::direction("a", at::ones({3})), acts); }),
                       "direction has 3 values but layer 'a' has 2 channels"));
}

TEST(ObjectiveValues, DiversityIsMinusTheGramCosinesOverTheBatch) {
  // Items with 1x1 maps f0 = (1,0), f1 = (0,1), f2 = (1,1): normalized Gram matrices
  // f f^T / |f|^2 have cosines (f_i . f_j)^2 / (|f_i|^2 |f_j|^2): 0, 1/2, 1/2.
  const TensorMap acts{{"a", at::tensor({1.f, 0.f, 0.f, 1.f, 1.f, 1.f}).reshape({3, 2, 1, 1})}};
  expect_near(values(fo::diversity("a"), acts), {-0.5 / 3, -0.5 / 3, -1.0 / 3});
  // Lucid's batch value: -(sum over ordered pairs) / N = -(2 * (0 + 0.5 + 0.5)) / 3.
  EXPECT_NEAR(fo::diversity("a")({acts, at::Tensor()}).sum().item<double>(), -2.0 / 3, 1e-6);
  EXPECT_EQ(fo::diversity("a").description(), "diversity(a)");
}

TEST(ObjectiveValues, AlignmentPenalizesNeighbourDifferences) {
  // Items 0, 1, 3: pairs (0,1) d=1: 1/2, (1,2) d=1: 4/2, (0,2) d=2: 9/4.
  const TensorMap acts{{"a", at::tensor({0.f, 1.f, 3.f}).reshape({3, 1, 1, 1})}};
  expect_near(values(fo::alignment("a"), acts), {-(0.25 + 1.125), -(0.25 + 1.0), -(1.0 + 1.125)});
  // decay 3: 1/3, 4/3, 9/9, split in halves
  expect_near(values(fo::alignment("a", 3), acts), {-(1.0 / 6 + 0.5), -(1.0 / 6 + 2.0 / 3), -(2.0 / 3 + 0.5)});
  EXPECT_EQ(fo::alignment("a").description(), "alignment(a)");
  EXPECT_EQ(fo::alignment("a", 3).description(), "alignment(a, 3)");
}

TEST(ObjectiveValues, ChannelInterpolateWeightsAcrossTheBatch) {
  const TensorMap acts{{"a", at::tensor({1.f, 10.f, 2.f, 20.f, 3.f, 30.f}).reshape({3, 2})},
                       {"b", at::tensor({5.f, 7.f, 6.f, 8.f, 9.f, 4.f}).reshape({3, 2, 1, 1})}};
  // item i: (1 - i/2) a[i,0] + (i/2) b[i,1]
  expect_near(values(fo::channel_interpolate("a", 0, "b", 1), acts), {1.0, 0.5 * 2 + 0.5 * 8, 4.0});
  const TensorMap single{{"a", at::tensor({1.f, 10.f}).reshape({1, 2})}, {"b", at::ones({1, 2, 1, 1})}};
  expect_near(values(fo::channel_interpolate("a", 1, "b", 0), single), {10.0});
  EXPECT_EQ(fo::channel_interpolate("a", 0, "b", 1).layers(), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(fo::channel_interpolate("a", 0, "b", 1).description(), "channel_interpolate(a:0, b:1)");
}

TEST(ObjectiveValues, ImagePenalties) {
  const at::Tensor image = at::tensor({0.f, 0.5f, 1.f, 0.25f}).reshape({1, 1, 2, 2});
  const TensorMap none;
  expect_near(values(fo::l1(), none, image), {-(0.5 + 0 + 0.5 + 0.25) / 4});
  expect_near(values(fo::l1(0), none, image), {-(0 + 0.5 + 1 + 0.25) / 4});
  expect_near(values(fo::l2(), none, image), {-std::sqrt(1e-6 + (0.25 + 0 + 0.25 + 0.0625) / 4)});
  // rows: |1 - 0|, |0.25 - 0.5|; columns: |0.5 - 0|, |0.25 - 1|
  expect_near(values(fo::total_variation(), none, image), {-(0.625 + 0.625)});
  // 3x3 blur (1 centre, 0.5 around) over the 2x2 image, divided by the weight inside:
  // 0.875/2.5, 1.125/2.5, 1.375/2.5, 1.0/2.5 = 0.35, 0.45, 0.55, 0.4
  const double blur = (0.35 * 0.35 + 0.05 * 0.05 + 0.45 * 0.45 + 0.15 * 0.15) / 4;
  expect_near(values(fo::blur(), none, image), {-blur});
  EXPECT_EQ(fo::l1().description(), "l1");
  EXPECT_EQ(fo::l1(0).description(), "l1(0)");
  EXPECT_EQ(fo::l2(0.5, 1e-8).description(), "l2(0.5, 1e-08)");
  EXPECT_EQ(fo::total_variation().description(), "tv");
  EXPECT_TRUE(fo::blur().layers().empty());
}

TEST(ObjectiveValues, BlurGradientPullsTowardTheBlurredImage) {
  at::Tensor image = at::tensor({0.f, 0.5f, 1.f, 0.25f}).reshape({1, 1, 2, 2}).requires_grad_(true);
  const TensorMap none;
  fo::blur()({none, image}).sum().backward();
  // d/dx of -mean((x - b)^2) with b fixed: -2 (x - b) / 4
  const std::vector<float> want{0.175f, -0.025f, -0.225f, 0.075f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(image.grad().reshape({-1})[i].item<float>(), want[i], 1e-6);
}

TEST(ObjectiveValues, DistanceIsTheRmsToThePhotoAtTheImagesSize) {
  const at::Tensor photo = at::full({3, 4, 4}, 0.25);
  at::Tensor image = at::full({2, 3, 2, 2}, 0.25);
  image[1].fill_(0.75);
  // The photo is resized to 2x2 (a flat photo stays flat): 0 and 0.5 away.
  expect_near(values(fo::distance(photo, "p.jpg"), TensorMap{}, image), {-1e-6, -0.5});
  EXPECT_EQ(fo::distance(photo, "p.jpg").description(), "distance(p.jpg)");
  EXPECT_THROW(fo::distance(at::zeros({4, 4}), "bad"), featvis::Error);
}

// Lucid's dot_compare: <a, p>/|p| * max(cos, 0.1)^power, a per item, p the reference's.
TEST(ObjectiveValues, CaricatureProjectsOnThePhotosActivationsWeightedByCosine) {
  const at::Tensor photo = at::full({3, 4, 4}, 0.5);
  const TensorMap acts{{"a", at::tensor({1.f, 0.f, 1.f, 1.f, -1.f, 0.f}).reshape({3, 2})}};
  const std::map<std::string, TensorMap> references{{"p.jpg", {{"a", at::tensor({2.f, 0.f}).reshape({1, 2})}}}};
  const at::Tensor image = at::zeros({3, 3, 4, 4});
  const auto eval = [&](const Objective& o) {
    const at::Tensor v = o(ObjectiveInput{acts, image, &references});
    return std::vector<double>{v[0].item<double>(), v[1].item<double>(), v[2].item<double>()};
  };
  // Items: parallel (dot 2, cos 1), at 45 degrees (dot 2, cos 1/sqrt 2), opposite (dot -2, cos floored to 0.1).
  expect_near(eval(fo::caricature("a", photo, "p.jpg")), {1.0, std::sqrt(0.5), -0.1});
  expect_near(eval(fo::caricature("a", photo, "p.jpg", 2.0)), {1.0, 0.5, -0.01});
  expect_near(eval(fo::caricature("a", photo, "p.jpg", 0.0)), {1.0, 1.0, -1.0});
  const Objective both = 2.0 * fo::caricature("a", photo, "p.jpg") - fo::l2();
  EXPECT_EQ(both.references().size(), 1u);  // the algebra keeps the photo
  EXPECT_EQ(fo::caricature("a", photo, "p.jpg", 2.0).description(), "caricature(a, p.jpg, 2)");
  EXPECT_THROW(fo::caricature("a", photo, "p.jpg")({acts, image}), featvis::Error);  // no reference rows
  EXPECT_THROW(fo::caricature("a", photo, "p.jpg", -1.0), featvis::Error);
}

TEST(ObjectiveValues, PenaltiesArePerItem) {
  at::Tensor image = at::full({2, 3, 4, 4}, 0.5);
  image[1].fill_(1.0);
  expect_near(values(fo::l1(), TensorMap{}, image), {0.0, -0.5});
  expect_near(values(fo::total_variation(), TensorMap{}, image), {0.0, 0.0});
}

// ---- algebra

TEST(ObjectiveAlgebra, SumsDifferencesAndScaling) {
  const TensorMap acts{{"a", counting_activations()}, {"b", at::tensor({1.f, 2.f, 3.f, 4.f}).reshape({2, 2})}};
  const Objective a = fo::channel("a", 1), b = fo::channel("b", 0);
  expect_near(values(a + b, acts), {13.5, 115.5});
  expect_near(values(a - b, acts), {11.5, 109.5});
  expect_near(values(2.5 * a, acts), {31.25, 281.25});
  expect_near(values(a * 2, acts), {25, 225});
  expect_near(values(-a, acts), {-12.5, -112.5});
  expect_near(values(2.5 * (a + b) - -b, acts), {2.5 * 13.5 + 1, 2.5 * 115.5 + 3});
  EXPECT_EQ((a + b).layers(), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ((2.5 * a).layers(), std::set<std::string>{"a"});
  EXPECT_EQ((a + b).batch_size(), 0);
}

TEST(ObjectiveAlgebra, DescriptionsParenthesizeOnlyWhereNeeded) {
  const Objective a = fo::channel("a", 1), b = fo::channel("b", 0), c = fo::deepdream("c");
  EXPECT_EQ((a + b).description(), "a:1 + b:0");
  EXPECT_EQ((2.5 * (a + b)).description(), "2.5*(a:1 + b:0)");
  EXPECT_EQ(((a + b) * 2).description(), "(a:1 + b:0)*2");
  EXPECT_EQ((a - (b + c)).description(), "a:1 - (b:0 + c)");
  EXPECT_EQ(((a - b) + c).description(), "a:1 - b:0 + c");
  EXPECT_EQ((a - (b - c)).description(), "a:1 - (b:0 - c)");
  EXPECT_EQ((-(a + b)).description(), "-(a:1 + b:0)");
  EXPECT_EQ((-a).description(), "-a:1");
  EXPECT_EQ((a + 0.001 * fo::total_variation()).description(), "a:1 + 0.001*tv");
  EXPECT_EQ((100 * a).description(), "100*a:1");
  EXPECT_EQ((0.1 * a).description(), "0.1*a:1");
  EXPECT_EQ((-1234567.5 * a).description(), "-1234567.5*a:1");
  EXPECT_EQ((1e-8 * a).description(), "1e-08*a:1");
  EXPECT_EQ((1e20 * a).description(), "1e+20*a:1");
  EXPECT_EQ((fo::per_item({a, b}) + c).description(), "(a:1 | b:0) + c");
  EXPECT_EQ(fo::per_item({a + b, c}).description(), "a:1 + b:0 | c");
  EXPECT_EQ(fo::channel("odd name", 3).description(), "'odd name':3");
  EXPECT_EQ(fo::deepdream("tv").description(), "'tv'");
}

TEST(ObjectiveAlgebra, UndefinedOperandsActAsZero) {
  Objective total;
  EXPECT_FALSE(total.defined());
  total = total + fo::channel("a", 0);
  total = total - fo::channel("a", 1);
  EXPECT_EQ(total.description(), "a:0 - a:1");
  EXPECT_EQ((Objective() - fo::channel("a", 1)).description(), "-a:1");
  EXPECT_FALSE((2.0 * Objective()).defined());
  EXPECT_TRUE(contains(error_of([] {
                         const TensorMap none;
                         Objective()({none, at::Tensor()});
                       }),
                       "empty objective"));
}

TEST(ObjectiveAlgebra, PerItemPicksOneObjectivePerBatchItem) {
  const TensorMap acts{{"a", counting_activations()}};
  const Objective items = fo::per_item({fo::channel("a", 2), fo::neuron("a", 0)});
  EXPECT_EQ(items.batch_size(), 2);
  EXPECT_EQ(items.description(), "a:2 | a:0@center");
  // item 0: channel 2 of item 0; item 1: centre neuron of channel 0 of item 1
  expect_near(values(items, acts), {22.5, 104});
  expect_near(values(items + fo::channel("a", 1), acts), {22.5 + 12.5, 104 + 112.5});
  EXPECT_EQ((items + fo::channel("a", 1)).batch_size(), 2);
  EXPECT_EQ((fo::channel("a", 1) - 3 * items).batch_size(), 2);
}

TEST(ObjectiveAlgebra, BatchSizesMustAgree) {
  const Objective two = fo::per_item({fo::channel("a", 0), fo::channel("a", 1)});
  const Objective three = fo::per_item({fo::channel("a", 0), fo::channel("a", 1), fo::channel("a", 2)});
  EXPECT_EQ((two + two).batch_size(), 2);
  EXPECT_TRUE(contains(error_of([&] { (void)(two + three); }), "need different batch sizes (2 and 3)"));
  EXPECT_TRUE(contains(error_of([&] { (void)(two - three); }), "need different batch sizes"));
  EXPECT_TRUE(contains(error_of([&] { fo::per_item({two, fo::channel("a", 0), fo::channel("a", 1)}); }),
                       "needs a batch of 2"));
  EXPECT_TRUE(contains(error_of([] { fo::per_item({}); }), "at least one"));
  // Evaluated on a batch of another size.
  const TensorMap acts{{"a", counting_activations()}};
  const at::Tensor image = at::zeros({2, 3, 4, 4});
  EXPECT_TRUE(contains(error_of([&] { three({acts, image}); }), "needs a batch of 3 images, got 2"));
}

// ---- gradients: ascent on the image raises every kind

struct Case {
  std::string name;
  Objective objective;
  int64_t batch;
};

std::vector<Case> every_kind(const std::string& early, const std::string& late, int64_t late_channels,
                             const std::string& output) {
  at::manual_seed(3);
  const at::Tensor v = at::randn({late_channels});
  std::vector<Case> cases{
      {"channel", fo::channel(early, 1), 1},
      {"neuron", fo::neuron(late, 2), 1},
      {"neuron_at", fo::neuron(early, 0, std::pair<int64_t, int64_t>{1, 2}), 1},
      {"deepdream", fo::deepdream(late), 1},
      {"logit", fo::logit(output, 1), 1},
      {"prob", fo::probability(output, 2), 1},
      {"direction", fo::direction(late, v), 1},
      {"dot", fo::direction(late, v, false), 1},
      {"direction_neuron", fo::direction_neuron(late, v), 1},
      {"dot_neuron", fo::direction_neuron(late, v, std::nullopt, false), 1},
      {"diversity", fo::diversity(late), 3},
      {"alignment", fo::alignment(late), 3},
      {"channel_interpolate", fo::channel_interpolate(early, 0, late, 3), 3},
      {"l1", fo::l1(), 1},
      {"l2", fo::l2(), 1},
      {"tv", fo::total_variation(), 1},
      {"blur", fo::blur(), 1},
      {"per_item", fo::per_item({fo::channel(early, 0), fo::channel(late, 1), fo::deepdream(early)}), 3},
      {"combination", 2.0 * fo::channel(late, 0) - fo::channel(early, 3) + 0.5 * fo::diversity(late), 2},
  };
  return cases;
}

void expect_every_kind_rises(const featvis::model::Model& model, const std::vector<Case>& cases, int64_t size) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.objective.description());
    const featvis::testing::Ascent a = featvis::testing::ascend(model, c.objective, c.batch, size);
    EXPECT_TRUE(a.finite);
    EXPECT_GT(a.first_gradient, 0.0) << "no gradient reaches the image";
    // From the random start some step along the gradient rose by at least a quarter of
    // what the gradient predicts, and by more than rounding (see ascend()).
    EXPECT_TRUE(a.first_step_rose) << "the gradient is not an ascent direction";
    EXPECT_GT(a.after, a.before);
    std::cout << c.name << ": " << a.before << " -> " << a.after << " in " << a.steps_taken
              << " steps, smallest rise/predicted " << a.min_rise_ratio << "\n";
  }
}

TEST(ObjectiveGradients, AscentRaisesEveryKindOnATinyNetwork) {
  const featvis::model::Model model = featvis::testing::tiny_model(16);
  expect_every_kind_rises(model, every_kind("conv1/preact", "block 2:conv", 6, "logits"), 16);
}

TEST(ObjectiveGradients, AscentRaisesEveryKindOnMobileNetV2) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  expect_every_kind_rises(model,
                          every_kind("MobileNetV2/expanded_conv_2/expand/preact",
                                     "MobileNetV2/expanded_conv_8/expand/preact", 384, model.card.output),
                          64);
}

}  // namespace
