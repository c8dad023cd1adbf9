// Transformation robustness: each transform's effect and shape, seeded determinism, and
// the --transforms text form.
#include "support/test_support.h"

#include <featvis/render/transform/affine_sample.h>
#include <featvis/render/transform/jitter.h>
#include <featvis/render/transform/pad.h>
#include <featvis/render/transform/rotate.h>
#include <featvis/render/transform/scale.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/error.h>

#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <cstdio>
#include <set>

namespace {

namespace tf = featvis::render::transform;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor test_image(int64_t n = 2, int64_t h = 32, int64_t w = 32) {
  at::Generator g = seeded(99);
  return at::rand({n, 3, h, w}, g, at::kFloat);
}

TEST(Transforms, PadConstantAddsGreyBorder) {
  at::Generator g = seeded(1);
  const at::Tensor x = test_image();
  const at::Tensor y = tf::pad(5)(x, g);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 42, 42}));
  EXPECT_TRUE(at::equal(y.slice(2, 5, 37).slice(3, 5, 37), x));
  EXPECT_TRUE(at::equal(y.slice(2, 0, 5), at::full({2, 3, 5, 42}, 0.5)));
  const at::Tensor z = tf::pad(2, {tf::PadMode::kConstant, 0.0})(x, g);
  EXPECT_EQ(z.sum().item<double>(), x.sum().item<double>());
}

TEST(Transforms, PadReflectMirrorsTheEdge) {
  at::Generator g = seeded(1);
  const at::Tensor x = test_image(1, 8, 8);
  const at::Tensor y = tf::pad(2, {tf::PadMode::kReflect})(x, g);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, 12, 12}));
  // Row 0 of the output is input row 2 (reflection without repeating the edge).
  EXPECT_TRUE(at::equal(y.select(2, 0).slice(2, 2, 10), x.select(2, 2)));
  EXPECT_THROW(tf::pad(8, {tf::PadMode::kReflect})(x, g), featvis::Error);
}

TEST(Transforms, JitterIsARandomCropCoveringAllOffsets) {
  const at::Tensor x = test_image(1, 16, 16);
  at::Generator g = seeded(5);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int i = 0; i < 200; ++i) {
    const at::Tensor y = tf::jitter(3)(x, g);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, 13, 13}));
    for (int64_t dy = 0; dy <= 3; ++dy)
      for (int64_t dx = 0; dx <= 3; ++dx)
        if (at::equal(y, x.slice(2, dy, dy + 13).slice(3, dx, dx + 13))) offsets.insert({dy, dx});
  }
  EXPECT_EQ(offsets.size(), 16u);  // 0..3 in both directions
  EXPECT_THROW(tf::jitter(16)(x, g), featvis::Error);
}

TEST(Transforms, ScaleResizesByTheDrawnFactor) {
  at::Generator g = seeded(2);
  const at::Tensor x = test_image(2, 40, 30);
  EXPECT_EQ(tf::random_scale(tf::RandomChoice::one_of({0.5}))(x, g).sizes(), (std::vector<int64_t>{2, 3, 20, 15}));
  EXPECT_EQ(tf::random_scale(tf::RandomChoice::one_of({1.1}))(x, g).sizes(), (std::vector<int64_t>{2, 3, 44, 33}));
  // A constant image stays constant under bilinear resizing.
  const at::Tensor flat = at::full({1, 3, 20, 20}, 0.25);
  EXPECT_TRUE(at::allclose(tf::random_scale(tf::RandomChoice::one_of({1.3}))(flat, g), at::full({1, 3, 26, 26}, 0.25)));
  std::set<int64_t> sizes;
  const tf::Transform range = tf::random_scale(tf::RandomChoice::uniform(0.5, 1.0));
  for (int i = 0; i < 100; ++i) {
    const int64_t h = range(x, g).size(2);
    EXPECT_GE(h, 20);
    EXPECT_LE(h, 40);
    sizes.insert(h);
  }
  EXPECT_GT(sizes.size(), 10u);
  EXPECT_THROW(tf::random_scale(tf::RandomChoice::one_of({0.0})), featvis::Error);
}

TEST(Transforms, RotateTurnsTheImageAndKeepsItsSize) {
  const at::Tensor x = test_image(2, 16, 16);
  EXPECT_TRUE(at::equal(tf::rotate_image(x, 0), x));
  // 90 degrees is an exact permutation of pixel centres on a square grid.
  const at::Tensor r = tf::rotate_image(x, 90);
  ASSERT_EQ(r.sizes(), x.sizes());
  const bool one_way = at::allclose(r, x.rot90(1, {2, 3}), 1e-4, 1e-5);
  const bool other_way = at::allclose(r, x.rot90(-1, {2, 3}), 1e-4, 1e-5);
  EXPECT_TRUE(one_way || other_way);
  // A small angle moves the content but keeps the centre pixel's neighbourhood.
  const at::Tensor small = tf::rotate_image(x, 10);
  EXPECT_FALSE(at::allclose(small, x));
  EXPECT_LT((small - x).abs().slice(2, 7, 9).slice(3, 7, 9).max().item<double>(), 0.7);
  // Non-square images: 180 degrees is a flip of both axes.
  const at::Tensor wide = test_image(1, 8, 20);
  EXPECT_TRUE(at::allclose(tf::rotate_image(wide, 180), wide.flip({2, 3}), 1e-4, 1e-5));
}

TEST(Transforms, AllAreDifferentiable) {
  at::Generator g = seeded(3);
  const at::Tensor x = test_image(1, 24, 24).set_requires_grad(true);
  tf::standard()(x, g).mean().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(Transforms, StandardSetIsLucids) {
  EXPECT_EQ(tf::standard().description(),
            "pad(12),jitter(8),scale{0.9,0.92,0.94,0.96,0.98,1,1.02,1.04,1.06,1.08,1.1},"
            "rotate{-10,-9,-8,-7,-6,-5,-4,-3,-2,-1,0,1,2,3,4,5,6,7,8,9,10,0,0,0,0,0},jitter(4)");
  // 64 + 24 - 8 = 80, scaled 0.9..1.1 (72..88), then 4 less.
  at::Generator g = seeded(4);
  const at::Tensor x = test_image(2, 64, 64);
  std::set<int64_t> sizes;
  for (int i = 0; i < 60; ++i) {
    const at::Tensor y = tf::standard()(x, g);
    EXPECT_EQ(y.size(0), 2);
    EXPECT_EQ(y.size(1), 3);
    EXPECT_EQ(y.size(2), y.size(3));
    EXPECT_GE(y.size(2), 68);
    EXPECT_LE(y.size(2), 84);
    sizes.insert(y.size(2));
  }
  EXPECT_GT(sizes.size(), 5u);
}

TEST(Transforms, SameSeedSameResultDifferentSeedDifferent) {
  const at::Tensor x = test_image(2, 48, 48);
  auto run = [&](uint64_t seed) {
    at::Generator g = seeded(seed);
    std::vector<at::Tensor> out;
    for (int i = 0; i < 5; ++i)
      out.push_back(tf::parse("pad(6),jitter(8),scale(0.8,1.2),rotate(-30,30),jitter(4)")(x, g));
    return out;
  };
  const auto a = run(11), b = run(11), c = run(12);
  bool any_different = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i].sizes() == b[i].sizes() && at::equal(a[i], b[i])) << "draw " << i;
    any_different = any_different || a[i].sizes() != c[i].sizes() || !at::equal(a[i], c[i]);
  }
  EXPECT_TRUE(any_different);
}

TEST(Transforms, NoneIsTheIdentity) {
  at::Generator g = seeded(1);
  const at::Tensor x = test_image();
  const tf::Transform none = tf::parse("none");
  EXPECT_TRUE(none.is_identity());
  EXPECT_EQ(none.description(), "none");
  EXPECT_TRUE(at::equal(none(x, g), x));
  EXPECT_TRUE(tf::compose({}).is_identity());
  EXPECT_TRUE(tf::compose({tf::pad(0), tf::jitter(0)}).is_identity());
}

TEST(Transforms, TextFormParsesAndRoundTrips) {
  const tf::Transform t = tf::parse(" pad(12), jitter(8),scale(0.9,1.1), rotate(-10,10) ,jitter(4)");
  EXPECT_EQ(t.description(), "pad(12),jitter(8),scale(0.9,1.1),rotate(-10,10),jitter(4)");
  for (const std::string text : {std::string("pad(3,reflect),scale{0.5,1,2},rotate(45)"), std::string("pad(4,0.2)"),
                                 tf::standard().description()}) {
    EXPECT_EQ(tf::parse(text).description(), text);
  }
  EXPECT_EQ(tf::parse("standard").description(), tf::standard().description());
}

TEST(Transforms, TextFormRejectsNonsenseNamingIt) {
  for (const auto& [text, fragment] :
       std::vector<std::pair<std::string, std::string>>{{"wobble(3)", "unknown transform 'wobble'"},
                                                        {"pad(12", "missing ')'"},
                                                        {"jitter(x)", "'x' is not a number"},
                                                        {"jitter(-2)", "not a pixel count"},
                                                        {"scale(1.2,0.8)", "low end above high end"},
                                                        {"scale(0)", "positive"},
                                                        {"rotate(1,2,3)", "rotate takes"},
                                                        {"pad", "expected NAME(ARGS)"},
                                                        {"", "empty"}}) {
    try {
      tf::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const featvis::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

TEST(Transforms, RandomChoiceDrawsEveryListEntryAndStaysInRange) {
  at::Generator g = seeded(8);
  const auto list = tf::RandomChoice::one_of({1, 2, 3});
  std::set<double> seen;
  for (int i = 0; i < 100; ++i) seen.insert(list.draw(g));
  EXPECT_EQ(seen, (std::set<double>{1, 2, 3}));
  const auto range = tf::RandomChoice::uniform(-2, 5);
  for (int i = 0; i < 100; ++i) {
    const double v = range.draw(g);
    EXPECT_GE(v, -2);
    EXPECT_LT(v, 5);
  }
  EXPECT_EQ(list.text(), "{1,2,3}");
  EXPECT_EQ(range.text(), "(-2,5)");
  EXPECT_THROW(tf::RandomChoice::one_of({}), featvis::Error);
}

// The same chain applied step by step (the reference) and as one resampling, from the
// same seed, `draws` times: the outputs, in order.
std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> both_ways(const std::string& chain, const at::Tensor& x,
                                                                        int draws = 20) {
  const tf::Transform once = tf::parse(chain);
  const tf::Transform step_by_step = tf::compose(tf::parse_steps(chain), tf::Resampling::kPerTransform);
  at::Generator g1 = seeded(21), g2 = seeded(21);
  std::vector<at::Tensor> a, b;
  for (int i = 0; i < draws; ++i) {
    a.push_back(step_by_step(x, g1));
    b.push_back(once(x, g2));
  }
  return {a, b};
}

TEST(Transforms, OneResamplingOfShiftsIsExactlyTheCrops) {
  const at::Tensor x = test_image(2, 32, 32);
  const auto [reference, fused] = both_ways("pad(6),jitter(4),pad(2),jitter(3)", x);
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(reference[i].sizes(), fused[i].sizes()) << "draw " << i;
    // Bilinear weights at integer positions: float rounding of the grid only (measured 1.7e-6 at worst).
    EXPECT_LT((reference[i] - fused[i]).abs().max().item<double>(), 1e-4) << "draw " << i;
  }
}

// MACO's crops: a box of a random fraction of the side, resized to a fixed size. Fused,
// the box and the resize are one bilinear resampling, the same as cutting then resizing.
TEST(Transforms, CropCutsABoxOfTheDrawnFractionResizedToItsSize) {
  const at::Tensor x = test_image(2, 48, 40);
  const auto [reference, fused] = both_ways("crop(0.3,0.8,24)", x);
  double largest = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(fused[i].sizes(), (std::vector<int64_t>{2, 3, 24, 24})) << "draw " << i;
    ASSERT_EQ(reference[i].sizes(), fused[i].sizes()) << "draw " << i;
    largest = std::max(largest, (reference[i] - fused[i]).abs().max().item<double>());
  }
  EXPECT_LT(largest, 1e-4);  // one interpolation either way: grid rounding only
  // A fraction of 1 at the input's size is the whole (square) image, untouched.
  at::Generator g = seeded(3);
  const at::Tensor square = test_image(1, 16, 16);
  EXPECT_TRUE(at::equal(tf::parse("crop(1,16)")(square, g), square));
  EXPECT_EQ(tf::parse("crop(0.35,0.65,224)").description(), "crop(0.35,0.65,224)");
  for (const std::string bad : {"crop(0,10)", "crop(1.5,10)", "crop(0.5)", "crop(0.6,0.4,10)", "crop(0.5,0)"}) {
    EXPECT_THROW(tf::parse(bad), featvis::Error) << bad;
  }
}

TEST(Transforms, OneResamplingKeepsRotationsBlackCornersAndThePadGrey) {
  // One interpolation either way (padding is exact), so the results agree everywhere:
  // the grey pad inside the turned frame, black corners outside it.
  const at::Tensor x = test_image(1, 24, 24);
  const auto [reference, fused] = both_ways("pad(5),rotate(-40,40)", x);
  double largest = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(reference[i].sizes(), fused[i].sizes());
    largest = std::max(largest, (reference[i] - fused[i]).abs().max().item<double>());
  }
  EXPECT_LT(largest, 1e-4);  // measured 3.1e-6
  // The test is not vacuous: the corners of a 40-degree turn are black.
  at::Generator g = seeded(1);
  const at::Tensor turned = tf::parse("pad(5),rotate(40)")(x, g);
  EXPECT_EQ(turned[0][0][0][0].item<double>(), 0.0);
}

TEST(Transforms, OneResamplingDrawsTheSameChoicesAsStepByStep) {
  // Same seed, same sizes in the same order (the size records the scale drawn), and the
  // pictures agree up to the one interpolation saved: mean difference measured 0.040
  // (median) and 0.054 (worst of 40) on this random-pixel image, the worst case for blur;
  // two unrelated random-pixel images differ by 1/3.
  const at::Tensor x = test_image(2, 64, 64);
  const auto [reference, fused] = both_ways(tf::standard().description(), x, 40);
  std::set<int64_t> sizes;
  for (size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(reference[i].sizes(), fused[i].sizes()) << "draw " << i;
    sizes.insert(fused[i].size(2));
    EXPECT_LT((reference[i] - fused[i]).abs().mean().item<double>(), 0.1) << "draw " << i;
  }
  EXPECT_GT(sizes.size(), 3u);
}

TEST(Transforms, OneResamplingPassesTheGradientToEveryPixelItShows) {
  const at::Tensor x = test_image(1, 24, 24).set_requires_grad(true);
  at::Generator g = seeded(3);
  const tf::Transform shift = tf::parse("pad(2),jitter(2)");
  shift(x, g).sum().backward();
  // A shift by at most 2 of a 2-padded image shows every input pixel exactly once.
  EXPECT_LT((x.grad() - 1).abs().max().item<double>(), 1e-4);
}

TEST(Transforms, ReflectPaddingInAChainIsAppliedStepByStep) {
  const at::Tensor x = test_image(1, 16, 16);
  const auto [reference, fused] = both_ways("pad(3,reflect),jitter(2)", x, 5);
  for (size_t i = 0; i < reference.size(); ++i) EXPECT_TRUE(at::equal(reference[i], fused[i]));
}

// at::grid_sampler (bilinear, zeros padding, align_corners false) of source - fill, plus
// fill, on a grid built in double from the map: what affine_sample promises.
at::Tensor grid_sampler_reference(const at::Tensor& source, const std::array<double, 6>& m, int64_t out_h,
                                  int64_t out_w, double fill) {
  const auto o = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor xs = at::arange(out_w, o).view({1, out_w}), ys = at::arange(out_h, o).view({out_h, 1});
  const at::Tensor ix = m[0] * xs + m[1] * ys + m[2], iy = m[3] * xs + m[4] * ys + m[5];
  const double in_h = static_cast<double>(source.size(2)), in_w = static_cast<double>(source.size(3));
  const at::Tensor grid = at::stack({(2 * ix + 1) / in_w - 1, (2 * iy + 1) / in_h - 1}, -1)
                              .unsqueeze(0)
                              .expand({source.size(0), out_h, out_w, 2})
                              .to(source.scalar_type());
  return at::grid_sampler(source - fill, grid, 0, 0, false) + fill;
}

TEST(AffineSample, MatchesGridSamplerValuesAndGradient) {
  const double turn = 0.52, zoom = 1.13;  // 30 degrees, scaled, shifted, reaching outside
  const std::vector<std::array<double, 6>> maps{
      {zoom * std::cos(turn), -zoom * std::sin(turn), 6.3, zoom * std::sin(turn), zoom * std::cos(turn), -2.7},
      {1, 0, -4, 0, 1, 5},          // a shift by whole pixels: crops and padding
      {0.7, 0.1, 0.25, -0.2, 1.4, 0.5},
      {1, 0, 100, 0, 1, 0}};        // wholly outside: the fill
  at::Generator g = seeded(4);
  const at::Tensor source = at::rand({2, 3, 17, 23}, g, at::kDouble);
  const at::Tensor upstream = at::randn({2, 3, 19, 21}, g, at::kDouble);
  for (const auto& m : maps) {
    for (double fill : {0.0, 0.5}) {
      const at::Tensor a = source.clone().set_requires_grad(true), b = source.clone().set_requires_grad(true);
      const at::Tensor ours = tf::affine_sample(a, m, 19, 21, fill);
      const at::Tensor theirs = grid_sampler_reference(b, m, 19, 21, fill);
      ASSERT_EQ(ours.sizes(), theirs.sizes());
      // In double both are exact up to rounding of the coordinates (~1e-14 pixels).
      EXPECT_LT((ours - theirs).abs().max().item<double>(), 1e-10) << m[2] << " fill " << fill;
      const at::Tensor ga = torch::autograd::grad({(ours * upstream).sum()}, {a})[0];
      const at::Tensor gb = torch::autograd::grad({(theirs * upstream).sum()}, {b})[0];
      EXPECT_LT((ga - gb).abs().max().item<double>(), 1e-10) << m[2] << " fill " << fill;
      // In float: weights and sums rounded to float, values in [0, 1].
      const at::Tensor single = tf::affine_sample(source.to(at::kFloat), m, 19, 21, fill);
      EXPECT_LT((single.to(at::kDouble) - theirs).abs().max().item<double>(), 1e-5) << m[2] << " fill " << fill;
      // A zero-filling step's mask: the sample of an all-ones frame, without sampling.
      const at::Tensor frame = at::ones({1, 1, 17, 23}, at::kDouble);
      EXPECT_LT((tf::affine_coverage(17, 23, m, 19, 21, at::kDouble) - tf::affine_sample(frame, m, 19, 21))
                    .abs()
                    .max()
                    .item<double>(),
                1e-12);
      // The other devices' path (affine_grid from the map's theta), run here on the CPU.
      const at::Tensor by_grid = tf::affine_sample_by_grid_sampler(source, m, 19, 21, fill);
      EXPECT_LT((by_grid - theirs).abs().max().item<double>(), 1e-10) << m[2] << " fill " << fill;
    }
  }
  // Not vacuous: the last map shows only the fill, the whole-pixel shift exact source values.
  EXPECT_TRUE(at::equal(tf::affine_sample(source, maps[3], 4, 4, 0.5), at::full({2, 3, 4, 4}, 0.5, at::kDouble)));
  EXPECT_TRUE(at::equal(tf::affine_sample(source, maps[1], 19, 21).slice(2, 0, 12).slice(3, 4, 21),
                        source.slice(2, 5, 17).slice(3, 0, 17)));
}

// The tap table's vector loops (AVX2, AVX-512F) make the scalar loop's bits, on maps that
// put taps inside, on the edges and outside, with rows not a whole number of vectors long.
TEST(AffineSample, EveryTapLoopThisCpuRunsGivesTheScalarLoopsBits) {
  const double turn = 0.52, zoom = 1.13;
  const std::vector<std::array<double, 6>> maps{
      {zoom * std::cos(turn), -zoom * std::sin(turn), 6.3, zoom * std::sin(turn), zoom * std::cos(turn), -2.7},
      {1, 0, -4, 0, 1, 5},
      {0.7, 0.1, 0.25, -0.2, 1.4, 0.5},
      {0.3, -1.9, 17.1, 1.1, 0.05, -3.3},
      {1, 0, 100, 0, 1, 0}};
  const char* names[] = {"corner", "w00", "w01", "w10", "w11", "inside"};
  int widths = 0;
  for (int lanes : {4, 8}) {
    bool ran = false;
    for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      for (const auto& m : maps) {
        for (int64_t out_w : {8, 21, 37}) {
          const auto scalar = tf::affine_taps_in_lanes(1, m, 17, 23, 19, out_w, dtype);
          const auto vector = tf::affine_taps_in_lanes(lanes, m, 17, 23, 19, out_w, dtype);
          ASSERT_EQ(scalar.size(), 6u);
          if (vector.empty()) continue;
          ran = true;
          for (size_t c = 0; c < scalar.size(); ++c)
            EXPECT_TRUE(at::equal(vector[c], scalar[c]))
                << lanes << " lanes, " << names[c] << ", map " << m[2] << ", width " << out_w;
        }
      }
    }
    widths += ran ? 1 : 0;
  }
  std::printf("[ affine taps ] %d vector loops on this CPU agree with the scalar loop\n", widths);
  // Not vacuous: the table holds taps inside, partly outside and wholly outside.
  const at::Tensor in = tf::affine_taps_in_lanes(1, maps[0], 17, 23, 19, 21, at::kFloat)[5];
  EXPECT_TRUE(in.eq(15).any().item<bool>() && in.eq(0).any().item<bool>() && in.gt(0).logical_and(in.lt(15)).any().item<bool>());
}

// The float sampling, whichever loop this CPU runs (AVX-512 gathers where every tap of eight
// pixels lies inside), gives the bits of the four products added left to right, each op
// rounded to float, computed here by ATen from the tap table.
TEST(AffineSample, FloatSamplesAreTheTapsProductsAddedInOrder) {
  const double turn = 0.3;
  const std::vector<std::array<double, 6>> maps{
      {std::cos(turn), -std::sin(turn), 9.1, std::sin(turn), std::cos(turn), 0.4},  // mostly inside
      {0.7, 0.1, 0.25, -0.2, 1.4, 0.5},
      {1.3, 0.2, -3.6, -0.1, 1.2, -2.2}};  // reaching outside on every side
  at::Generator g = seeded(8);
  const at::Tensor source = at::rand({2, 3, 31, 29}, g, at::kFloat);
  for (const auto& m : maps) {
    for (int64_t out_w : {21, 40}) {
      const auto taps = tf::affine_taps_in_lanes(1, m, 31, 29, 23, out_w, at::kFloat);
      const at::Tensor corner = taps[0].flatten(), in = taps[5].flatten().to(at::kLong);
      const at::Tensor planes = source.view({6, 31 * 29});
      at::Tensor sum;
      const int64_t offsets[4] = {0, 1, 29, 30};
      for (int k = 0; k < 4; ++k) {
        const at::Tensor inside = in.bitwise_and(1 << k).ne(0);
        const at::Tensor index = at::where(inside, corner + offsets[k], at::zeros_like(corner));
        const at::Tensor tap = at::where(inside, planes.index_select(1, index), at::full({}, 0.25f));
        const at::Tensor product = taps[1 + k].flatten() * tap;
        sum = k == 0 ? product : sum + product;
      }
      EXPECT_TRUE(at::equal(tf::affine_sample(source, m, 23, out_w, 0.25), sum.view({2, 3, 23, out_w})))
          << "map " << m[2] << ", width " << out_w;
    }
  }
}

}  // namespace
