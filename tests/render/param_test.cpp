// Image parameterizations: the FFT and colour pieces against Lucid's definitions, and
// starting from a photo (the start image must equal the photo).
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/render/param/color.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/param/maco.h>
#include <featvis/render/param/plane_fft.h>
#include <featvis/render/param/plane_rfft2.h>
#include <featvis/render/param/spectral.h>
#include <featvis/util/error.h>

#include <filesystem>

namespace {

using featvis::render::param::ImageParam;
using featvis::render::param::ImageParamOptions;
using featvis::render::param::Space;
using featvis::render::param::Squash;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// A smooth synthetic 8-bit "photo" in [0,1] with saturated pixels, [3,h,w].
at::Tensor test_photo(int64_t h, int64_t w) {
  const at::Tensor y = at::linspace(0, 1, h).view({1, h, 1});
  const at::Tensor x = at::linspace(0, 1, w).view({1, 1, w});
  at::Tensor img = at::cat({(x * y).expand({1, h, w}), (0.3 + 0.5 * at::sin(6 * x) * y).expand({1, h, w}),
                            (1 - x).expand({1, h, w}) * 0.8},
                           0)
                       .clamp(0, 1)
                       .contiguous();
  img[0][0][0] = 1.0;  // extremes must survive the sigmoid inverse
  img[1][0][0] = 0.0;
  return (img * 255).round() / 255;
}

TEST(Spectral, FrequenciesMatchNumpy) {
  // numpy: fftfreq(4) = [0, .25, -.5, -.25]; fftfreq(5)[:3] = [0, .2, .4]
  const at::Tensor f = featvis::render::param::rfft2d_freqs(4, 5, at::kDouble);
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{4, 3}));
  const double fy[] = {0, .25, -.5, -.25}, fx[] = {0, .2, .4};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(f[i][j].item<double>(), std::sqrt(fy[i] * fy[i] + fx[j] * fx[j]), 1e-12);
}

TEST(Spectral, ScaleIsOneOverFrequencyFlooredAtOnePixel) {
  const at::Tensor s = featvis::render::param::spectrum_scale(16, 32, 1.0, at::kDouble);
  EXPECT_DOUBLE_EQ(s[0][0].item<double>(), 32.0);    // DC: 1 / (1/max(h,w))
  EXPECT_NEAR(s[0][16].item<double>(), 2.0, 1e-12);  // |f| = 0.5
  const at::Tensor s2 = featvis::render::param::spectrum_scale(16, 32, 2.0, at::kDouble);
  EXPECT_NEAR(s2[0][16].item<double>(), 4.0, 1e-12);  // decay power squares it
  const at::Tensor flat = featvis::render::param::spectrum_scale(16, 32, 0.0, at::kDouble);
  EXPECT_TRUE(at::allclose(flat, at::ones_like(flat)));
}

TEST(Spectral, ImageRoundTripsThroughTheSpectrumEvenAndOddSizes) {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{16, 12}, {15, 9}, {1, 7}}) {
    const at::Tensor image = at::randn({2, 3, h, w}, seeded(3), at::kFloat);
    const at::Tensor scale = featvis::render::param::spectrum_scale(h, w, 1.0);
    const at::Tensor spectrum = featvis::render::param::image_to_spectrum(image, scale);
    EXPECT_EQ(spectrum.sizes(), (std::vector<int64_t>{2, 3, h, w / 2 + 1, 2}));
    const at::Tensor back = featvis::render::param::spectrum_to_image(spectrum, scale, h, w);
    EXPECT_TRUE(at::allclose(back, image, 1e-5, 1e-5))
        << h << "x" << w << " max err " << (back - image).abs().max().item<float>();
  }
}

// The per-plane irfft2 (render/param/plane_fft.h) against ATen's irfft2 of the whole
// batch and its autograd backward: values and the spectrum's gradient, even and odd sizes.
TEST(Spectral, IrfftByPlanesEqualsAtensIrfft2AndItsGradient) {
  for (auto [h, w] : {std::pair<int64_t, int64_t>{16, 12}, {15, 9}, {1, 7}, {224, 224}}) {
    const at::Tensor scale = featvis::render::param::spectrum_scale(h, w, 1.0);
    const at::Tensor gain = featvis::render::param::spectrum_gain(scale);
    const at::Tensor spectrum = at::randn({2, 3, h, w / 2 + 1, 2}, seeded(4), at::kFloat);
    const at::Tensor weights = at::randn({2, 3, h, w}, seeded(5), at::kFloat);
    const at::Tensor ours_in = spectrum.clone().set_requires_grad(true);
    const at::Tensor ours = featvis::render::param::irfft2_by_planes(ours_in, gain, h, w);
    (ours * weights).sum().backward();
    const at::Tensor aten_in = spectrum.clone().set_requires_grad(true);
    const at::Tensor aten = at::fft_irfft2(at::view_as_complex((aten_in * gain).contiguous()), c10::IntArrayRef{h, w},
                                           c10::IntArrayRef{-2, -1}, "ortho");
    (aten * weights).sum().backward();
    const double image_scale = aten.abs().max().item<double>(), grad_scale = aten_in.grad().abs().max().item<double>();
    EXPECT_LE((ours - aten).abs().max().item<double>(), 1e-6 * image_scale) << h << "x" << w;
    EXPECT_LE((ours_in.grad() - aten_in.grad()).abs().max().item<double>(), 1e-6 * grad_scale) << h << "x" << w;
  }
}

// The lane kernels (render/param/plane_rfft2.h) at every width the CPU runs, against
// ATen's irfft2 and its autograd gradient, on sizes with every radix; all widths must give
// the same bits (no fused multiply-adds), so Intel and AMD machines render alike.
TEST(Spectral, LaneKernelsMatchAtenAndEachOtherAtEveryWidth) {
  namespace d = featvis::render::param::detail;
  EXPECT_EQ(d::plane_rfft2_plan(15, 9), nullptr);   // odd width: ATen
  EXPECT_EQ(d::plane_rfft2_plan(17, 16), nullptr);  // a prime above 13
  EXPECT_EQ(d::plane_rfft2_plan(16, 34), nullptr);  // half the width is 17
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 2},  {3, 6},    {16, 12}, {7, 14}, {13, 22},
                                                          {33, 26}, {5, 250}, {96, 40}, {224, 224}};
  for (auto [h, w] : sizes) {
    const d::PlaneRfft2Plan* plan = d::plane_rfft2_plan(h, w);
    ASSERT_NE(plan, nullptr) << h << "x" << w;
    const int64_t bins = w / 2 + 1;
    const at::Tensor spectrum = at::randn({h, bins, 2}, seeded(11), at::kFloat);
    const at::Tensor gain = at::rand({h, bins, 2}, seeded(12), at::kFloat) + 0.5;
    const at::Tensor weights = at::randn({h, w}, seeded(13), at::kFloat);
    const at::Tensor in = spectrum.clone().set_requires_grad(true);
    const at::Tensor expected = at::fft_irfft2(at::view_as_complex((in * gain).contiguous()), c10::IntArrayRef{h, w},
                                               c10::IntArrayRef{-2, -1}, "ortho");
    (expected * weights).sum().backward();
    const double image_scale = expected.abs().max().item<double>(), grad_scale = in.grad().abs().max().item<double>();
    at::Tensor first_image, first_grad;
    for (d::Rfft2Lanes lanes : {d::Rfft2Lanes::k4, d::Rfft2Lanes::k8, d::Rfft2Lanes::k16}) {
      if (!d::cpu_runs(lanes)) continue;
      const int width = lanes == d::Rfft2Lanes::k4 ? 4 : lanes == d::Rfft2Lanes::k8 ? 8 : 16;
      at::Tensor image = at::empty({h, w}), grad = at::empty({h, bins, 2});
      d::plane_irfft2(lanes, *plan, spectrum.data_ptr<float>(), gain.data_ptr<float>(), image.data_ptr<float>());
      d::plane_rfft2_adjoint(lanes, *plan, weights.data_ptr<float>(), gain.data_ptr<float>(), grad.data_ptr<float>());
      EXPECT_LE((image - expected.detach()).abs().max().item<double>(), 1e-6 * image_scale) << h << "x" << w << ", " << width;
      EXPECT_LE((grad - in.grad()).abs().max().item<double>(), 1e-6 * grad_scale) << h << "x" << w << ", " << width;
      if (first_image.defined()) {
        EXPECT_TRUE(at::equal(image, first_image)) << h << "x" << w << ": " << width << " lanes differ from 4";
        EXPECT_TRUE(at::equal(grad, first_grad)) << h << "x" << w << ": " << width << " lanes differ from 4";
      } else {
        first_image = image, first_grad = grad;
      }
    }
  }
}

TEST(Color, MatrixIsLucidsNormalizedByMaxColumnNorm) {
  const at::Tensor m = featvis::render::param::color_correlation_sqrt(at::kDouble);
  const double norm0 = std::sqrt(0.26 * 0.26 + 0.27 * 0.27 + 0.27 * 0.27);  // the largest column
  EXPECT_NEAR(m[0][0].item<double>(), 0.26 / norm0, 1e-12);
  EXPECT_NEAR(m[1][2].item<double>(), -0.05 / norm0, 1e-12);
  EXPECT_NEAR(m[2][1].item<double>(), -0.09 / norm0, 1e-12);
  EXPECT_NEAR(m.norm(2, {0}).max().item<double>(), 1.0, 1e-12);
}

TEST(Color, DecorrelationMixesChannelsAndInverts) {
  const at::Tensor t = at::randn({2, 3, 5, 4}, seeded(1), at::kFloat);
  const at::Tensor rgb = featvis::render::param::decorrelate_color(t);
  // Pixel (0,0) of item 1 by hand: rgb = M t.
  const at::Tensor m = featvis::render::param::color_correlation_sqrt();
  const at::Tensor expected = at::matmul(m, t[1].select(1, 0).select(1, 0));
  EXPECT_TRUE(at::allclose(rgb[1].select(1, 0).select(1, 0), expected, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(featvis::render::param::correlate_color(rgb), t, 1e-4, 1e-5));
}

TEST(Color, DecorrelationAndItsGradientAreTheMatrixProduct) {
  // Against an einsum in double (the matrix product the mix replaces), forward and the
  // gradient (the transposed mix), for a batch and a non-contiguous input.
  const at::Tensor t = at::randn({2, 5, 4, 3}, seeded(2), at::kDouble).permute({0, 3, 1, 2});
  ASSERT_FALSE(t.is_contiguous());
  const at::Tensor upstream = at::randn({2, 3, 5, 4}, seeded(3), at::kDouble);
  const at::Tensor m = featvis::render::param::color_correlation_sqrt(at::kDouble);
  const at::Tensor a = t.detach().clone().set_requires_grad(true), b = t.detach().clone().set_requires_grad(true);
  const at::Tensor ours = featvis::render::param::decorrelate_color(a);
  const at::Tensor theirs = at::einsum("ij,njhw->nihw", {m, b});
  EXPECT_LT((ours - theirs).abs().max().item<double>(), 1e-12);
  (ours * upstream).sum().backward();
  (theirs * upstream).sum().backward();
  EXPECT_LT((a.grad() - b.grad()).abs().max().item<double>(), 1e-12);
  EXPECT_GT(a.grad().abs().max().item<double>(), 0.1);
}

TEST(Color, SigmoidOfTheMixAndItsGradientAreAtensComposition) {
  // The fused sigmoid(decorrelated) against at::sigmoid of the mix: values, and gradients
  // through both, in float and double, for a batch and a non-contiguous input.
  for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor t = (3 * at::randn({2, 9, 7, 3}, seeded(4), dtype)).permute({0, 3, 1, 2});
    const at::Tensor upstream = at::randn({2, 3, 9, 7}, seeded(5), dtype);
    const at::Tensor a = t.detach().clone().set_requires_grad(true), b = t.detach().clone().set_requires_grad(true);
    const at::Tensor ours = featvis::render::param::to_valid_rgb(a, true, Squash::kSigmoid);
    const at::Tensor theirs = at::sigmoid(featvis::render::param::decorrelate_color(b));
    EXPECT_TRUE(at::allclose(ours, theirs, 1e-6, 0)) << dtype;
    (ours * upstream).sum().backward();
    (theirs * upstream).sum().backward();
    EXPECT_TRUE(at::allclose(a.grad(), b.grad(), 1e-6, 1e-12)) << dtype;
    EXPECT_GT(a.grad().abs().max().item<double>(), 0.05);
  }
}

TEST(Color, ValidRgbInvertsForEverySquashAndBasis) {
  const at::Tensor photo = test_photo(6, 7).unsqueeze(0);
  for (Squash squash : {Squash::kSigmoid, Squash::kClamp}) {
    for (bool decorrelate : {false, true}) {
      const at::Tensor raw = featvis::render::param::from_valid_rgb(photo, decorrelate, squash);
      const at::Tensor back = featvis::render::param::to_valid_rgb(raw, decorrelate, squash);
      EXPECT_TRUE(at::allclose(back, photo, 0, 1.5e-3)) << featvis::render::param::to_string(squash) << " " << decorrelate;
      // Same 8-bit levels after rounding, including the saturated pixels.
      EXPECT_TRUE(at::equal((back * 255).round(), (photo * 255).round()));
    }
  }
}

TEST(Color, ClampPassesGradientsStraightThrough) {
  const at::Tensor t =
      at::tensor({-3.0f, 0.0f, 0.2f, 3.0f}).view({1, 1, 1, 4}).repeat({1, 3, 1, 1}).set_requires_grad(true);
  const at::Tensor rgb = featvis::render::param::to_valid_rgb(t, false, Squash::kClamp);
  EXPECT_FLOAT_EQ(rgb[0][0][0][0].item<float>(), 0.0f);  // -3 + 0.5 clipped
  EXPECT_FLOAT_EQ(rgb[0][0][0][1].item<float>(), 0.5f);  // 0 is mid grey
  EXPECT_FLOAT_EQ(rgb[0][0][0][2].item<float>(), 0.7f);
  EXPECT_FLOAT_EQ(rgb[0][0][0][3].item<float>(), 1.0f);
  rgb.sum().backward();
  EXPECT_TRUE(at::equal(t.grad(), at::ones_like(t)));  // clipped pixels can come back
}

TEST(Color, ParsesNames) {
  EXPECT_EQ(featvis::render::param::parse_squash("clamp"), Squash::kClamp);
  EXPECT_EQ(featvis::render::param::parse_space("pixel"), Space::kPixel);
  EXPECT_THROW(featvis::render::param::parse_squash("tanh"), featvis::Error);
  EXPECT_EQ(featvis::render::param::parse_space("cppn"), Space::kCPPN);
  EXPECT_THROW(featvis::render::param::parse_space("wavelet"), featvis::SettingError);
}

TEST(ImageParam, RandomStartIsSeededSmallNoiseAroundGrey) {
  ImageParamOptions o;
  o.batch = 2;
  o.height = 32;
  o.width = 24;
  for (Space space : {Space::kFFT, Space::kPixel}) {
    o.space = space;
    const at::Tensor a = ImageParam(o, seeded(7)).image();
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 3, 32, 24}));
    EXPECT_TRUE(at::equal(a, ImageParam(o, seeded(7)).image()));
    EXPECT_FALSE(at::equal(a, ImageParam(o, seeded(8)).image()));
    EXPECT_NEAR(a.mean().item<double>(), 0.5, 0.02);
    EXPECT_GT(a.std().item<double>(), 1e-4);
    EXPECT_LT(a.std().item<double>(), 0.05);
    EXPECT_FALSE(at::equal(a[0], a[1]));  // batch items start differently
  }
}

TEST(ImageParam, FftStartHasMoreLowFrequencyPowerThanPixels) {
  // 1/f scaling: the random FFT image is smoother than white pixel noise.
  ImageParamOptions o;
  o.height = o.width = 64;
  o.decorrelate = false;
  auto roughness = [](const at::Tensor& img) {
    const at::Tensor centred = img - img.mean();
    const at::Tensor dx = centred.slice(3, 1) - centred.slice(3, 0, -1);
    return (dx.pow(2).mean() / centred.pow(2).mean()).item<double>();
  };
  o.space = Space::kFFT;
  const double fft = roughness(ImageParam(o, seeded(1)).image());
  o.space = Space::kPixel;
  const double pixel = roughness(ImageParam(o, seeded(1)).image());
  EXPECT_LT(fft, 0.5 * pixel);
}

TEST(ImageParam, GradientsReachTheParameters) {
  for (Space space : {Space::kFFT, Space::kPixel}) {
    ImageParamOptions o;
    o.height = o.width = 16;
    o.space = space;
    ImageParam p(o, seeded(1));
    ASSERT_EQ(p.parameters().size(), 1u);
    EXPECT_TRUE(p.parameters()[0].requires_grad());
    p.image().select(1, 0).mean().backward();
    EXPECT_GT(p.parameters()[0].grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(ImageParam, StartImageIsReproducedExactly) {
  const at::Tensor photo = test_photo(20, 18);
  for (Space space : {Space::kFFT, Space::kPixel}) {
    for (bool decorrelate : {true, false}) {
      for (Squash squash : {Squash::kSigmoid, Squash::kClamp}) {
        ImageParamOptions o;
        o.batch = 2;
        o.height = 20;
        o.width = 18;
        o.space = space;
        o.decorrelate = decorrelate;
        o.squash = squash;
        o.init_image = photo;
        const at::Tensor image = ImageParam(o, seeded(1)).image();
        ASSERT_EQ(image.sizes(), (std::vector<int64_t>{2, 3, 20, 18}));
        for (int64_t i = 0; i < 2; ++i) {
          EXPECT_TRUE(at::equal((image[i] * 255).round(), (photo * 255).round()))
              << featvis::render::param::to_string(space) << " decorrelate " << decorrelate << " "
              << featvis::render::param::to_string(squash) << " max err " << (image[i] - photo).abs().max().item<float>();
        }
      }
    }
  }
}

TEST(ImageParam, RealPhotoRoundTripsThroughTheFftToTheSameBytes) {
  FEATVIS_REQUIRE_IMAGES(images);
  std::string jpg;
  for (const auto& entry : std::filesystem::directory_iterator(images)) {
    if (entry.path().extension() == ".JPEG" || entry.path().extension() == ".jpg") {
      jpg = entry.path().string();
      break;
    }
  }
  ASSERT_FALSE(jpg.empty()) << "no JPEG in " << images;
  featvis::model::Preprocessing pre;  // resize 256 + centre crop 224, values in [0,1]
  pre.mean = {0, 0, 0};
  pre.std = {255, 255, 255};
  const at::Tensor photo = featvis::image::preprocess_image(featvis::image::load_image_rgb8(jpg), pre);
  ImageParamOptions o;  // Lucid's default: fft + decorrelate + sigmoid
  o.init_image = photo;
  const at::Tensor image = ImageParam(o, seeded(1)).image()[0];
  const std::string dir = featvis::testing::temp_dir();
  featvis::image::save_png(dir + "/photo.png", photo);
  featvis::image::save_png(dir + "/start.png", image);
  EXPECT_TRUE(at::equal(featvis::image::load_image_rgb8(dir + "/photo.png"), featvis::image::load_image_rgb8(dir + "/start.png")));
}

TEST(ImageParam, RejectsBadOptions) {
  ImageParamOptions o;
  o.batch = 0;
  EXPECT_THROW(ImageParam(o, seeded(1)), featvis::Error);
  o = ImageParamOptions{};
  o.height = -4;
  EXPECT_THROW(ImageParam(o, seeded(1)), featvis::Error);
  o = ImageParamOptions{};
  o.height = o.width = 16;
  o.init_image = at::rand({3, 8, 8});
  try {
    ImageParam p(o, seeded(1));
    FAIL() << "size mismatch accepted";
  } catch (const featvis::Error& e) {
    EXPECT_NE(std::string(e.what()).find("[3,16,16]"), std::string::npos) << e.what();
  }
}

TEST(ImageParam, DescriptionNamesTheChoices) {
  ImageParamOptions o;
  o.batch = 2;
  o.height = o.width = 64;
  const std::string d = ImageParam(o, seeded(1)).description();
  EXPECT_NE(d.find("fft"), std::string::npos) << d;
  EXPECT_NE(d.find("decorrelated"), std::string::npos) << d;
  EXPECT_NE(d.find("2 x 3 x 64 x 64"), std::string::npos) << d;
}

TEST(ImageParam, CppnStartsAsOneFlatColourPerItemSeeded) {
  // Lucid's zero last layer: sigmoid(bias) everywhere, a different colour per item.
  ImageParamOptions o;
  o.batch = 3;
  o.height = 20;
  o.width = 28;
  o.space = Space::kCPPN;
  const at::Tensor a = ImageParam(o, seeded(5)).image();
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{3, 3, 20, 28}));
  EXPECT_LT((a - a.mean({2, 3}, true)).abs().max().item<double>(), 1e-6);
  EXPECT_FALSE(at::equal(a[0], a[1]));
  EXPECT_TRUE(at::equal(a, ImageParam(o, seeded(5)).image()));
  EXPECT_FALSE(at::equal(a, ImageParam(o, seeded(6)).image()));
  EXPECT_EQ(ImageParam(o, seeded(5)).parameters().size(), 18u);  // 9 layers x (weight, bias)
}

TEST(ImageParam, CppnIsASmoothPictureOnceTheLastLayerMoves) {
  ImageParamOptions o;
  o.batch = 2;
  o.height = o.width = 32;
  o.space = Space::kCPPN;
  ImageParam p(o, seeded(2));
  // The start's gradient reaches the last layer only (the others sit behind its zeros).
  p.image().select(1, 0).mean().backward();
  EXPECT_GT(p.parameters()[16].grad().abs().sum().item<double>(), 0.0);
  {
    at::NoGradGuard no_grad;
    at::Generator g = seeded(3);  // the last layer's weights as after some steps
    p.parameters()[16].copy_(at::normal(0.0, 1.0, p.parameters()[16].sizes(), g, at::kFloat));
  }
  for (const auto& t : p.parameters())
    if (t.grad().defined()) t.grad().zero_();
  const at::Tensor img = p.image();
  img.select(1, 0).mean().backward();
  EXPECT_GT(p.parameters()[0].grad().abs().sum().item<double>(), 0.0);  // reaches the first layer
  // Smooth: neighbouring pixels differ far less than the picture varies. Mean squared
  // neighbour difference over variance: 2 for white noise, measured 0.044-0.053 here.
  const at::Tensor c = img - img.mean();
  const at::Tensor dx = c.slice(3, 1) - c.slice(3, 0, -1);
  EXPECT_LT((dx.pow(2).mean() / c.pow(2).mean()).item<double>(), 0.3);
  EXPECT_FALSE(at::equal(img[0], img[1]));  // each item has its own network
}

TEST(ImageParam, CppnCannotStartFromAnImage) {
  ImageParamOptions o;
  o.height = o.width = 8;
  o.space = Space::kCPPN;
  o.init_image = at::full({3, 8, 8}, 0.5);
  EXPECT_THROW(ImageParam(o, seeded(1)), featvis::SettingError);
}

}  // namespace

// MACO optimizes the phase only: whatever the phase, the image's spectrum (before colour
// and sigmoid) has the given magnitude, up to the standardization's one scale per item.
// Columns 0 and W/2 are left out: irfft2 makes them Hermitian, which changes them.
TEST(Maco, ImageKeepsTheMagnitudeExactlyForAnyPhase) {
  const int64_t h = 20, w = 16;
  const at::Tensor magnitude = at::rand({3, h, w / 2 + 1}, seeded(1)) + 0.1;
  const at::Tensor phase = at::randn({2, 3, h, w / 2 + 1}, seeded(2));
  const at::Tensor image = featvis::render::param::maco_image(phase, magnitude, h, w);
  ASSERT_EQ(image.sizes(), (std::vector<int64_t>{2, 3, h, w}));
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor ratio = (at::fft_rfft2(image[i]).abs() / magnitude).narrow(2, 1, w / 2 - 1);
    EXPECT_LT(((ratio - ratio.mean()).abs().max() / ratio.mean()).item<double>(), 1e-4) << "item " << i;
    EXPECT_NEAR(image[i].mean().item<double>(), 0.0, 1e-5);
  }
  // A spectrum of another size is resized to the image's.
  EXPECT_EQ(featvis::render::param::magnitude_for(magnitude, 40, 30).sizes(), (std::vector<int64_t>{3, 40, 16}));
  EXPECT_THROW(featvis::render::param::magnitude_for(at::ones({2, 4, 4}), 8, 8), featvis::Error);
  EXPECT_THROW(featvis::render::param::magnitude_for(-at::ones({3, 4, 3}), 8, 8), featvis::Error);
}

// The image through the FFT image's planes equals ATen's irfft2 (default norm) of the same
// spectrum, and so does the phase's gradient.
TEST(Maco, ImageAndPhaseGradientMatchAtensIrfft2) {
  const int64_t h = 24, w = 20;
  const at::Tensor magnitude = at::rand({3, h, w / 2 + 1}, seeded(3)) + 0.1;
  const at::Tensor phase = at::randn({2, 3, h, w / 2 + 1}, seeded(4));
  const at::Tensor weights = at::randn({2, 3, h, w}, seeded(5));
  const at::Tensor ours_phase = phase.clone().set_requires_grad(true);
  const at::Tensor ours = featvis::render::param::maco_image(ours_phase, magnitude, h, w);
  (ours * weights).sum().backward();
  const at::Tensor aten_phase = phase.clone().set_requires_grad(true);
  const at::Tensor flat = aten_phase.flatten(1);
  const at::Tensor p = ((flat - flat.mean(1, true)) / (flat.std(1, false, true) + 1e-5)).view(phase.sizes());
  const at::Tensor image = at::fft_irfft2(at::complex(magnitude * at::cos(p), magnitude * at::sin(p)), std::vector<int64_t>{h, w});
  const at::Tensor f = image.flatten(1);
  const at::Tensor aten = ((f - f.mean(1, true)) / (f.std(1, false, true) + 1e-5)).view(image.sizes());
  (aten * weights).sum().backward();
  EXPECT_LE((ours - aten).abs().max().item<double>(), 1e-5);
  EXPECT_LE((ours_phase.grad() - aten_phase.grad()).abs().max().item<double>(),
            1e-5 * aten_phase.grad().abs().max().item<double>());
}

TEST(Maco, ParamOptimizesThePhaseOnlyAndNeedsASpectrum) {
  ImageParamOptions o;
  o.batch = 2;
  o.height = o.width = 16;
  o.space = Space::kMACO;
  EXPECT_THROW(ImageParam(o, seeded(0)), featvis::Error);  // no spectrum
  o.magnitude = at::rand({3, 32, 17}, seeded(4));
  const ImageParam param(o, seeded(0));
  ASSERT_EQ(param.parameters().size(), 1u);
  EXPECT_EQ(param.parameters()[0].sizes(), (std::vector<int64_t>{2, 3, 16, 9}));
  const at::Tensor image = param.image();
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_TRUE(at::equal(image, ImageParam(o, seeded(0)).image()));  // seeded
  image.sum().backward();
  EXPECT_GT(param.parameters()[0].grad().abs().sum().item<double>(), 0.0);
  EXPECT_NE(param.description().find("maco"), std::string::npos);
  o.init_image = at::full({3, 16, 16}, 0.5);
  EXPECT_THROW(ImageParam(o, seeded(0)), featvis::Error);
}
