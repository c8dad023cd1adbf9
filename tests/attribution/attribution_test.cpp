// Each attribution method's arithmetic on tiny synthetic models, checked against a hand
// computation (finite differences, the chain rule written out, explicit occlusions).
#include "objective/test_models.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/attribution/heatmap.h>
#include <featvis/attribution/overlay.h>
#include <featvis/attribution/sanity.h>
#include <featvis/graph/op_registry.h>
#include <featvis/graph/relu_gradient.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/render/render.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>
#include <featvis/util/progress.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>

namespace featvis::attribution {
namespace {

using featvis::testing::error_of;
using featvis::testing::tiny_model;

// tiny_classifier_onnx (one conv, ReLU, pool, fc) with 3 classes at 8x8, pixel/255.
model::Model one_conv_model() {
  model::ModelCard card;
  card.name = "tiny1";
  card.input = "input";
  card.output = "logits";
  card.num_classes = 3;
  card.preprocessing.width = 8;
  card.preprocessing.height = 8;
  return model::Model{card, graph::Graph::load_onnx_bytes(featvis::testing::tiny_classifier_onnx(3, 8), "tiny1.onnx"), "", ""};
}

at::Tensor test_image(int64_t size = 8, uint64_t seed = 3) {
  at::manual_seed(seed);
  return at::rand({3, size, size});
}

double value(const model::Model& model, const objective::Objective& target, const at::Tensor& image) {
  return objective::values(model, target, image.unsqueeze(0))[0];
}

AttributionOptions with(Method method) {
  AttributionOptions o;
  o.method = method;
  return o;
}

// The two-conv test model, target logit 0, a random 8x8 photo.
class TinyLogit0 : public ::testing::Test {
 protected:
  const model::Model model = tiny_model();
  const objective::Objective target = objective::logit("logits", 0);
  const at::Tensor image = test_image();
};

TEST(Method, NamesRoundTripAndUnknownIsOneLine) {
  for (const std::string& name : method_names()) EXPECT_EQ(to_string(parse_method(name)), name);
  const std::string e = error_of([] { parse_method("lime"); });
  EXPECT_NE(e.find("unknown attribution method 'lime'"), std::string::npos) << e;
  EXPECT_NE(e.find("guided-gradcam"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_EQ(parse_baseline("blur"), Baseline::kBlur);
  EXPECT_NE(error_of([] { parse_baseline("white"); }).find("'white'"), std::string::npos);
}

TEST(Saliency, IsTheFiniteDifferenceGradient) {
  const model::Model model = tiny_model();
  const objective::Objective target = objective::logit("logits", 1);
  const at::Tensor image = test_image().to(at::kDouble).to(at::kFloat);
  const Attribution a = attribute(model, target, image, with(Method::kSaliency));
  ASSERT_EQ(a.raw.sizes(), image.sizes());
  // Central differences on a few pixels (the model is piecewise linear: exact away from kinks).
  const double h = 1e-3;
  for (int64_t idx : {0, 17, 70, 130, 191}) {
    at::Tensor up = image.clone(), down = image.clone();
    up.view({-1})[idx] += h;
    down.view({-1})[idx] -= h;
    const double fd = (value(model, target, up) - value(model, target, down)) / (2 * h);
    EXPECT_NEAR(a.raw.view({-1})[idx].item<double>(), fd, 2e-3 + 1e-2 * std::abs(fd)) << "pixel " << idx;
  }
  EXPECT_TRUE(at::allclose(a.map, a.raw.abs().amax(0)));
  EXPECT_NEAR(a.target_value, value(model, target, image), 1e-5);
}

TEST(GradientXInput, IsGradientTimesPixelsSummedOverChannels) {
  const model::Model model = tiny_model();
  const objective::Objective target = objective::logit("logits", 2);
  const at::Tensor image = test_image();
  const Attribution s = attribute(model, target, image, with(Method::kSaliency));
  const Attribution gx = attribute(model, target, image, with(Method::kGradientXInput));
  EXPECT_TRUE(at::allclose(gx.raw, s.raw * image));
  EXPECT_TRUE(at::allclose(gx.map, (s.raw * image).sum(0)));
}

TEST(IntegratedGradients, CompletenessAndTheLinearCase) {
  const model::Model model = tiny_model();
  const objective::Objective target = objective::logit("logits", 0);
  const at::Tensor image = test_image();
  for (bool adaptive : {true, false}) {
    AttributionOptions o = with(Method::kIntegratedGradients);
    o.integrated_gradients.adaptive = adaptive;
    const Attribution a = attribute(model, target, image, o);
    ASSERT_TRUE(a.completeness.has_value());
    const Completeness& c = *a.completeness;
    EXPECT_NEAR(c.target_difference, value(model, target, image) - value(model, target, at::zeros_like(image)), 1e-4);
    EXPECT_NEAR(c.attribution_sum, a.raw.sum().item<double>(), 1e-4);
    EXPECT_LT(c.relative_error, 0.02) << (adaptive ? "adaptive" : "even");
    EXPECT_EQ(a.forward_passes, 65 + 1);
  }
  // Gradient constant along the path (no ReLU changes state between a tiny baseline and
  // the image): IG is exactly (x - x') * gradient.
  const at::Tensor faint = image * 1e-3;
  AttributionOptions o = with(Method::kIntegratedGradients);
  o.integrated_gradients.steps = 4;
  const Attribution ig = attribute(model, target, faint, o);
  const Attribution grad = attribute(model, target, faint, with(Method::kSaliency));
  EXPECT_TRUE(at::allclose(ig.raw, faint * grad.raw, 1e-4, 1e-9));
  // Blur baseline of a flat image is the image itself: nothing to attribute.
  o.integrated_gradients.baseline = Baseline::kBlur;
  const Attribution flat = attribute(model, target, at::full({3, 8, 8}, 0.3), o);
  EXPECT_NEAR(flat.raw.abs().max().item<double>(), 0.0, 1e-6);
}

TEST(SmoothGrad, WithoutNoiseIsTheInnerMethodAndSeedsRepeat) {
  const model::Model model = tiny_model();
  const objective::Objective target = objective::logit("logits", 1);
  const at::Tensor image = test_image();
  AttributionOptions o = with(Method::kSmoothGrad);
  o.smoothgrad.on = Method::kGradientXInput;
  o.smoothgrad.samples = 3;
  o.smoothgrad.sigma = 0;
  const Attribution plain = attribute(model, target, image, with(Method::kGradientXInput));
  const Attribution smooth0 = attribute(model, target, image, o);
  EXPECT_TRUE(at::allclose(smooth0.raw, plain.raw, 1e-5, 1e-7));
  EXPECT_TRUE(at::allclose(smooth0.map, plain.map, 1e-5, 1e-7));
  o.smoothgrad.sigma = 0.2;
  const Attribution a = attribute(model, target, image, o), b = attribute(model, target, image, o);
  EXPECT_TRUE(at::equal(a.raw, b.raw));
  EXPECT_FALSE(at::allclose(a.raw, plain.raw));
  o.smoothgrad.on = Method::kGradCam;
  EXPECT_NE(error_of([&] { attribute(model, target, image, o); }).find("not 'gradcam'"), std::string::npos);
}

// The guided rule on each rectifier op: positive gradients only, where the input was active.
TEST(GuidedBackprop, RectifierOpsPassOnlyPositiveGradients) {
  struct Case {
    std::string op;
    std::vector<float> x, plain, guided;
  };
  const std::vector<float> upstream = {1, -1, 1, 1};
  const std::vector<Case> cases = {
      {"Relu", {-1, 0.5, 3, 7}, {0, -1, 1, 1}, {0, 0, 1, 1}},
      {"Clip", {-1, 0.5, 3, 7}, {0, -1, 1, 0}, {0, 0, 1, 0}},  // ReLU6
      {"LeakyRelu", {-1, 0.5, 3, 7}, {0.1f, -1, 1, 1}, {0.1f, 0, 1, 1}},
  };
  for (const Case& c : cases) {
    graph::Node node;
    node.name = c.op + "_test";
    node.op_type = c.op;
    node.inputs = {"x"};
    node.outputs = {"y"};
    graph::OpInputs in;
    if (c.op == "Clip") in = {at::Tensor(), at::tensor(0.f), at::tensor(6.f)};
    if (c.op == "LeakyRelu") node.attributes.set("alpha", 0.1f);
    for (bool guided : {false, true}) {
      at::Tensor x = at::tensor(c.x).requires_grad_(true);
      std::vector<at::Tensor> args = in.empty() ? graph::OpInputs{x} : graph::OpInputs{x, in[1], in[2]};
      at::Tensor y;
      {
        const featvis::graph::ReluGradientGuard mode(guided ? featvis::graph::ReluGradient::kGuided : featvis::graph::ReluGradient::kExact);
        y = (*graph::find_op(c.op))(node, args)[0];
      }
      EXPECT_EQ(featvis::graph::current_relu_gradient(), featvis::graph::ReluGradient::kExact);
      const at::Tensor g = torch::autograd::grad({y}, {x}, {at::tensor(upstream)})[0];
      EXPECT_TRUE(at::allclose(g, at::tensor(guided ? c.guided : c.plain))) << c.op << (guided ? " guided" : "") << g;
    }
  }
}

// One conv -> ReLU -> mean -> fc: the guided gradient written out by the chain rule.
TEST(GuidedBackprop, MatchesTheChainRuleOnAOneConvModel) {
  const model::Model model = one_conv_model();
  const int64_t k = 1;
  const objective::Objective target = objective::logit("logits", k);
  const at::Tensor image = test_image();
  const Attribution a = attribute(model, target, image, with(Method::kGuidedBackprop));
  const at::Tensor pre = model.graph.run(image.unsqueeze(0) * 255 / 255, {"conv1/preact"}).at("conv1/preact");
  const at::Tensor fc = model.graph.weight("fc.w")[k].view({1, -1, 1, 1});
  // d logit / d relu output = fc.w[k,c] / (H W); guided: keep it where > 0 and pre > 0.
  const at::Tensor g_pre = (fc / 64.0).clamp_min(0) * (pre > 0).to(at::kFloat);
  const at::Tensor g_in = at::conv_transpose2d(g_pre, model.graph.weight("conv1.w"), {}, 1, 1);
  EXPECT_TRUE(at::allclose(a.raw, g_in[0], 1e-4, 1e-6));  // pixel/255 scaling: d input / d pixel01 = 1
  const Attribution plain = attribute(model, target, image, with(Method::kSaliency));
  EXPECT_FALSE(at::allclose(a.raw, plain.raw)) << "fc row has negative weights: guided must differ";
}

TEST(GradCam, MatchesTheHandComputationAndUpsamples) {
  const model::Model model = tiny_model();
  const int64_t k = 2;
  const objective::Objective target = objective::logit("logits", k);
  const at::Tensor image = test_image();
  EXPECT_EQ(default_cam_layer(model, target), "block2");
  // block2 [6,4,4] -> pool -> fc: d logit / d A_c = fc.w[k,c] / 16 everywhere.
  const at::Tensor act = model.graph.run(image.unsqueeze(0), {"block2"}).at("block2");
  const at::Tensor w = model.graph.weight("fc.w")[k].view({1, -1, 1, 1}) / 16.0;
  const at::Tensor cam = (w * act).sum(1, true);
  const Attribution a = attribute(model, target, image, with(Method::kGradCam));
  EXPECT_EQ(a.layer, "block2");
  EXPECT_TRUE(at::allclose(a.raw, at::upsample_bilinear2d(cam, {8, 8}, false)[0][0], 1e-4, 1e-6));
  EXPECT_TRUE(at::allclose(a.map, a.raw.clamp_min(0)));
  EXPECT_GE(a.map.min().item<double>(), 0.0);

  AttributionOptions o = with(Method::kGuidedGradCam);
  const Attribution gg = attribute(model, target, image, o);
  const Attribution gb = attribute(model, target, image, with(Method::kGuidedBackprop));
  EXPECT_TRUE(at::allclose(gg.raw, gb.raw * a.map.unsqueeze(0), 1e-4, 1e-7));

  o = with(Method::kGradCam);
  o.grad_cam.layer = "flat";
  EXPECT_NE(error_of([&] { attribute(model, target, image, o); }).find("not a spatial"), std::string::npos);
  o.grad_cam.layer = "no_such_layer";
  EXPECT_NE(error_of([&] { attribute(model, target, image, o); }).find("unknown layer 'no_such_layer'"),
            std::string::npos);
  const objective::Objective early = objective::channel("conv1", 0);
  o.grad_cam.layer = "block2";
  EXPECT_NE(error_of([&] { attribute(model, early, image, o); }).find("does not lead to target"), std::string::npos);
  EXPECT_EQ(default_cam_layer(model, early), "conv1");
}

TEST_F(TinyLogit0, OcclusionIsTheMeanDropOverCoveringWindows) {
  AttributionOptions o = with(Method::kOcclusion);
  o.occlusion.window = 4;
  o.occlusion.stride = 2;  // origins 0, 2, 4 on each side: 9 windows
  const Attribution a = attribute(model, target, image, o);
  const double base = value(model, target, image);
  auto drop = [&](int64_t y, int64_t x) {
    at::Tensor occluded = image.clone();
    occluded.slice(1, y, y + 4).slice(2, x, x + 4).fill_(0.5);
    return base - value(model, target, occluded);
  };
  EXPECT_NEAR(a.map[0][0].item<double>(), drop(0, 0), 1e-5);
  EXPECT_NEAR(a.map[3][3].item<double>(), (drop(0, 0) + drop(0, 2) + drop(2, 0) + drop(2, 2)) / 4, 1e-5);
  EXPECT_NEAR(a.map[7][2].item<double>(), (drop(4, 0) + drop(4, 2)) / 2, 1e-5);
  EXPECT_EQ(a.forward_passes, 9 + 2);
  // A window that does not fit the stride still covers the far edge (origins 0, 3, 5).
  o.occlusion.window = 3;
  o.occlusion.stride = 3;
  const Attribution edge = attribute(model, target, image, o);
  EXPECT_NE(edge.map[7][7].item<double>(), 0.0);

  for (auto [window, stride, fragment] : std::vector<std::tuple<int64_t, int64_t, std::string>>{
           {0, 2, "window must be at least 1 pixel, got 0"},
           {4, 0, "stride must be at least 1 pixel, got 0"},
           {-3, 2, "got -3"},
           {9, 2, "larger than the 8x8 image"}}) {
    o.occlusion.window = window;
    o.occlusion.stride = stride;
    const std::string e = error_of([&] { attribute(model, target, image, o); });
    EXPECT_NE(e.find(fragment), std::string::npos) << e;
  }
}

// stop_requested is polled before each forward pass: after k polls a looping method stops
// at once with featvis::Interrupted (no result), saying how far it got; the progress bar
// counts the images sent and, when nothing stops it, ends at its plan.
TEST_F(TinyLogit0, StopRequestedEndsLoopingMethodsWithNoResult) {
  struct Case {
    Method method;
    int polls_before_stop;
    std::string message;
  };
  // IG: 64 steps = 65 points in passes of 4 (attribute()'s poll, then one per pass);
  // occlusion: 16 windows of 2 px + the photo itself, the photo's pass first.
  const std::vector<Case> cases = {
      {Method::kIntegratedGradients, 3, "ig interrupted after 8 of 65 images"},
      {Method::kOcclusion, 3, "occlusion interrupted after 5 of 17 images"},
      {Method::kOcclusion, 1, "occlusion interrupted after 0 of 17 images"},
      {Method::kGradCam, 0, "gradcam interrupted before its first forward pass"},
  };
  for (const Case& c : cases) {
    AttributionOptions o = with(c.method);
    o.batch = 4;
    o.occlusion.window = 2;
    o.occlusion.stride = 2;
    o.progress = true;
    int polls = 0;
    o.stop_requested = [&] { return ++polls > c.polls_before_stop; };
    std::vector<std::pair<int64_t, int64_t>> seen;  // (done, total) per progress event
    bool final = false;
    const ScopedProgressListener listener([&](const ProgressEvent& e) {
      seen.emplace_back(e.done, e.total);
      final = final || e.final;
    });
    bool interrupted = false;
    std::string message;
    try {
      attribute(model, target, image, o);
    } catch (const Interrupted& e) {
      interrupted = true;
      message = e.what();
    }
    ASSERT_TRUE(interrupted) << to_string(c.method);
    EXPECT_EQ(message, c.message);
    EXPECT_EQ(polls, c.polls_before_stop + 1) << "no poll after the stop";
    if (c.method != Method::kGradCam) {
      ASSERT_FALSE(seen.empty());
      EXPECT_TRUE(final) << "the bar is closed where it stopped";
      EXPECT_LT(seen.back().first, seen.back().second);
    } else {
      EXPECT_TRUE(seen.empty()) << "a one-pass method has no bar";
    }
  }
  // Never stopped: the same values as without a poll, and the bar ends at its plan
  // (SmoothGrad over IG plans all its copies' points: 3 x (4 + 1)).
  for (Method m : {Method::kIntegratedGradients, Method::kOcclusion, Method::kSmoothGrad}) {
    AttributionOptions o = with(m);
    o.batch = 4;
    o.smoothgrad.on = Method::kIntegratedGradients;
    o.smoothgrad.samples = 3;
    o.occlusion.window = 4;
    o.occlusion.stride = 2;  // 9 windows
    if (m == Method::kSmoothGrad) o.integrated_gradients.steps = 4;
    const Attribution plain = attribute(model, target, image, o);
    o.progress = true;
    o.stop_requested = [] { return false; };
    std::vector<std::pair<int64_t, int64_t>> seen;
    const ScopedProgressListener listener([&](const ProgressEvent& e) { seen.emplace_back(e.done, e.total); });
    const Attribution polled = attribute(model, target, image, o);
    EXPECT_TRUE(at::equal(polled.raw, plain.raw)) << to_string(m);
    const int64_t planned = m == Method::kIntegratedGradients ? 65 : m == Method::kOcclusion ? 10 : 15;
    ASSERT_FALSE(seen.empty()) << to_string(m);
    EXPECT_EQ(seen.front(), std::make_pair(int64_t{0}, planned)) << to_string(m);  // the bar starts with the work
    EXPECT_EQ(seen.back(), std::make_pair(planned, planned)) << to_string(m);
    EXPECT_EQ(polled.forward_passes, planned + 1) << to_string(m);
  }
}

TEST_F(TinyLogit0, BadOptionsAreOneLineErrors) {
  AttributionOptions o = with(Method::kIntegratedGradients);
  o.integrated_gradients.steps = 0;
  EXPECT_NE(error_of([&] { attribute(model, target, image, o); }).find("at least 1 step"), std::string::npos);
  o = with(Method::kSmoothGrad);
  o.smoothgrad.samples = 0;
  EXPECT_NE(error_of([&] { attribute(model, target, image, o); }).find("at least 1 sample"), std::string::npos);
  const objective::Objective range = objective::parse("conv1:0-2", model);
  EXPECT_NE(error_of([&] { attribute(model, range, image, with(Method::kSaliency)); }).find("needs a batch of 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { attribute(model, target, image[0], with(Method::kSaliency)); }).find("[3,H,W]"),
            std::string::npos);
}

// Each bad option is a SettingError named as the library calls it (the CLI adds the flag).
TEST_F(TinyLogit0, BadOptionsNameTheirSetting) {
  auto setting = [&](const AttributionOptions& o) {
    try {
      attribute(model, target, image, o);
    } catch (const SettingError& e) {
      return e.setting();
    }
    return std::string("(accepted)");
  };
  AttributionOptions o = with(Method::kIntegratedGradients);
  o.integrated_gradients.steps = 0;
  EXPECT_EQ(setting(o), "steps");
  o = with(Method::kSmoothGrad);
  o.smoothgrad.sigma = -1;
  EXPECT_EQ(setting(o), "smooth_sigma");
  o = with(Method::kOcclusion);
  o.occlusion.stride = 0;
  EXPECT_EQ(setting(o), "stride");
  o = with(Method::kSaliency);
  o.occlusion.stride = 0;  // another method's option: not read, not checked
  o.integrated_gradients.steps = 0;
  EXPECT_EQ(setting(o), "(accepted)");
}

TEST(Target, DefaultIsTheTopClassLogit) {
  const model::Model model = tiny_model();
  const at::Tensor image = test_image();
  const objective::Objective top = top1_target(model, image);
  const at::Tensor logits = model.graph.run(image.unsqueeze(0), {"logits"}).at("logits")[0];
  EXPECT_EQ(top.description(), objective::logit("logits", logits.argmax().item<int64_t>()).description());
  EXPECT_NEAR(value(model, top, image), logits.max().item<double>(), 1e-5);
}

TEST(Heatmap, ScalesAndOverlay) {
  const at::Tensor signed_map = at::tensor({-2.f, 0.f, 2.f}).view({1, 3});
  const at::Tensor h = heatmap(signed_map);
  EXPECT_TRUE(at::allclose(h.select(2, 1), at::ones({3, 1})));                        // 0 -> white
  EXPECT_GT(h[0][0][2].item<float>(), h[2][0][2].item<float>());                      // + -> red
  EXPECT_GT(h[2][0][0].item<float>(), h[0][0][0].item<float>());                      // - -> blue
  const at::Tensor positive = heatmap(at::tensor({0.f, 1.f}).view({1, 2}));
  EXPECT_TRUE(at::allclose(positive.select(2, 0), at::zeros({3, 1})));                // 0 -> black
  EXPECT_TRUE(at::allclose(positive.select(2, 1), at::ones({3, 1})));                 // max -> white
}

TEST(Heatmap, ClipsAtThePercentileForDisplay) {
  // 99 zeros and one outlier of 100 beside 1..9: at percentile 90 the outlier is clipped.
  at::Tensor map = at::zeros({10, 10});
  for (int i = 1; i <= 9; ++i) map[0][i] = static_cast<float>(i);
  map[9][9] = 100;
  EXPECT_EQ(clip_value(map, 100), 100);
  const double at90 = clip_value(map, 90);
  EXPECT_GT(at90, 0);
  EXPECT_LT(at90, 10);
  const at::Tensor t = display_normalize(map, 90);
  EXPECT_EQ(t.max().item<float>(), 1.f);
  EXPECT_EQ(t[9][9].item<float>(), 1.f);
  EXPECT_GT(t[0][9].item<float>(), 0.5f);  // 9 is no longer a speck beside 100
  EXPECT_TRUE(at::equal(display_normalize(at::zeros({2, 2}), 99), at::zeros({2, 2})));
  EXPECT_NE(error_of([&] { clip_value(map, 0); }).find("clip percentile"), std::string::npos);
}

TEST(Heatmap, OverlayStylesAndColourBar) {
  const at::Tensor photo = at::full({3, 4, 8}, 0.5);
  at::Tensor map = at::zeros({4, 8});
  map[1][2] = 1;
  OverlayOptions options;
  options.clip_percentile = 100;
  options.style = OverlayStyle::kMask;
  const at::Tensor masked = overlay(photo, map, options);
  EXPECT_EQ(masked.size(0), 3);
  EXPECT_GT(masked.size(1), 4);  // the colour bar below
  EXPECT_EQ(masked.size(2), 8);
  EXPECT_TRUE(at::allclose(masked.select(1, 1).select(1, 2), at::full({3}, 0.5)));  // the photo where attributed
  EXPECT_EQ(masked.select(1, 0).abs().sum().item<float>(), 0.f);                    // black elsewhere
  options.style = OverlayStyle::kBlend;
  const at::Tensor blended = overlay(photo, map, options);
  // Hot pixel: mostly the scale's top colour (white); cold ones: the grey photo dimmed toward black.
  EXPECT_GT(blended[1][1][2].item<float>(), 0.8f);
  EXPECT_NEAR(blended[1][0][0].item<float>(), 0.5 * 0.8, 1e-5);
  EXPECT_EQ(default_overlay_style(Method::kGradCam), OverlayStyle::kBlend);
  EXPECT_EQ(default_overlay_style(Method::kIntegratedGradients), OverlayStyle::kMask);
  EXPECT_NE(error_of([] { parse_overlay_style("glow"); }).find("unknown overlay 'glow'"), std::string::npos);
}

TEST(Sanity, SpearmanByHand) {
  EXPECT_NEAR(spearman(at::tensor({1.f, 2.f, 3.f, 4.f}), at::tensor({10.f, 30.f, 20.f, 40.f})), 0.8, 1e-12);
  EXPECT_NEAR(spearman(at::tensor({1.f, 2.f, 3.f}), at::tensor({3.f, 2.f, 1.f})), -1.0, 1e-12);
  // Ties: ranks (1.5, 1.5, 3) against (1, 2, 3): r = 0.75 / sqrt(0.5 * 2) ... = sqrt(3)/2.
  EXPECT_NEAR(spearman(at::tensor({5.f, 5.f, 9.f}), at::tensor({1.f, 2.f, 3.f})), std::sqrt(3.0) / 2, 1e-12);
  EXPECT_TRUE(std::isnan(spearman(at::zeros({4}), at::rand({4}))));
  EXPECT_NE(error_of([] { spearman(at::zeros({4}), at::zeros({5})); }).find("equal size"), std::string::npos);
}

TEST(Sanity, RandomizesTopLayersOnlyWithTheirSpread) {
  model::Model model = tiny_model();
  const model::Model original = tiny_model();
  const std::vector<std::string> done = randomize_top_layers(model.graph, 2, 5);
  EXPECT_EQ(done, (std::vector<std::string>{"fc", "conv2/Conv"}));
  EXPECT_TRUE(at::equal(model.graph.weight("conv1.w"), original.graph.weight("conv1.w")));
  for (const std::string w : {"fc.w", "conv2.w"}) {
    EXPECT_FALSE(at::equal(model.graph.weight(w), original.graph.weight(w))) << w;
    EXPECT_NEAR(model.graph.weight(w).std().item<double>(), original.graph.weight(w).std().item<double>(),
                0.35 * original.graph.weight(w).std().item<double>())
        << w;
  }
  model::Model again = tiny_model();
  randomize_top_layers(again.graph, 2, 5);
  EXPECT_TRUE(at::equal(again.graph.weight("fc.w"), model.graph.weight("fc.w")));  // seeded
  EXPECT_NE(error_of([&] { model.graph.set_weight("fc.w", at::zeros({2, 2})); }).find("has shape"), std::string::npos);
}

}  // namespace
}  // namespace featvis::attribution
