// Photo decoding, card preprocessing, PNG writing and the JPEG encoder's own buffer.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/image/jpeg.h>
#include <featvis/image/pil_resize.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <cmath>
#include <filesystem>

namespace {

using featvis::model::Preprocessing;
using featvis::testing::temp_dir;

at::Tensor gradient_photo(int64_t h, int64_t w) {
  // Red rises left->right, green top->bottom, blue constant: crops are recognisable.
  at::Tensor x = at::arange(w, at::kFloat).mul(255.0 / (w - 1)).expand({h, w});
  at::Tensor y = at::arange(h, at::kFloat).mul(255.0 / (h - 1)).unsqueeze(1).expand({h, w});
  return at::stack({x, y, at::full({h, w}, 77.0f)}, 2).round().to(at::kByte).contiguous();
}

TEST(Image, PngRoundTripKeepsPixels) {
  const std::string path = temp_dir() + "/g.png";
  at::Tensor photo = gradient_photo(20, 30);
  featvis::image::save_png(path, photo.permute({2, 0, 1}).to(at::kFloat) / 255.0);
  at::Tensor back = featvis::image::load_image_rgb8(path);
  ASSERT_EQ(back.sizes(), photo.sizes());
  EXPECT_TRUE(at::equal(back, photo));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Image, NotAnImageIsAClearError) {
  const std::string path = temp_dir() + "/notes.jpg";
  featvis::testing::write_bytes(path, "this is text, not a JPEG");
  try {
    featvis::image::load_image_rgb8(path);
    FAIL() << "expected an error";
  } catch (const featvis::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read image"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  EXPECT_THROW(featvis::image::load_image_rgb8(temp_dir() + "/missing.png"), featvis::Error);
}

TEST(Image, ResizeCropTakesTheCentreAtTheCardSize) {
  Preprocessing pre;
  pre.crop = Preprocessing::Crop::kResizeCrop;
  pre.resize = 64;
  pre.width = pre.height = 48;
  pre.mean = {0, 0, 0};
  pre.std = {255, 255, 255};
  at::Tensor x = featvis::image::preprocess_image(gradient_photo(100, 200), pre);  // -> 64x128, crop 48
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 48, 48}));
  // The crop is centred: mean red (horizontal ramp) and green (vertical ramp) stay ~0.5.
  EXPECT_NEAR(x[0].mean().item<double>(), 0.5, 0.02);
  EXPECT_NEAR(x[1].mean().item<double>(), 0.5, 0.02);
  // The horizontal ramp spans only the centre 48/128 of the width.
  const double span = (x[0].select(1, 47).mean() - x[0].select(1, 0).mean()).item<double>();
  EXPECT_NEAR(span, 47.0 / 127.0, 0.03);
  EXPECT_NEAR(x[2].mean().item<double>(), 77.0 / 255.0, 1e-6);
}

TEST(Image, CentralFractionAndScalingFollowTheCard) {
  Preprocessing pre;
  pre.crop = Preprocessing::Crop::kCentralFraction;
  pre.central_fraction = 0.5;
  pre.width = pre.height = 16;
  pre.mean = {127.5f, 127.5f, 127.5f};
  pre.std = {127.5f, 127.5f, 127.5f};
  pre.bgr = true;
  at::Tensor x = featvis::image::preprocess_image(gradient_photo(64, 64), pre);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 16, 16}));
  // BGR: channel 0 is the constant blue 77 -> (77-127.5)/127.5.
  EXPECT_NEAR(x[0].mean().item<double>(), (77 - 127.5) / 127.5, 1e-5);
  // Central half of a 0..255 ramp spans about -0.5..0.5 after scaling.
  EXPECT_LT(x[2].max().item<double>(), 0.6);
  EXPECT_GT(x[2].min().item<double>(), -0.6);
}

// preprocess_image as whole-tensor ops on Pillow's levels (image/pil_resize.h, compared with
// Pillow itself in pil_resize_test.cpp): centre crop at Python's round(), then (x - mean) / std.
at::Tensor tensor_ops_preprocess(const at::Tensor& rgb8, int64_t nh, int64_t nw, int64_t size, const Preprocessing& pre) {
  at::Tensor x = featvis::image::pil_resize(rgb8, nh, nw).permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
  const auto python_round_half = [](int64_t d) { return static_cast<int64_t>(std::nearbyint(d / 2.0)); };
  const int64_t top = python_round_half(nh - size), left = python_round_half(nw - size);
  x = x.slice(2, top, top + size).slice(3, left, left + size);
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}).view({1, 3, 1, 1});
  x = ((x - mean) / std).squeeze(0);
  return pre.bgr ? x.flip({0}) : x;
}

TEST(Image, PreprocessingIsTheTensorOpsBitForBit) {
  at::manual_seed(3);
  Preprocessing pre;
  pre.crop = Preprocessing::Crop::kResizeCrop;
  pre.resize = 256;
  pre.width = pre.height = 224;
  pre.mean = {123.675f, 116.28f, 103.53f};
  pre.std = {58.395f, 57.12f, 57.375f};
  // Down (a photo's usual case), up (a small photo), and BGR.
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{375, 500}, {120, 90}}) {
    for (bool bgr : {false, true}) {
      pre.bgr = bgr;
      const at::Tensor photo = at::randint(0, 256, {h, w, 3}, at::kByte);
      const int64_t nh = h <= w ? 256 : 256 * h / w, nw = w <= h ? 256 : 256 * w / h;
      const at::Tensor ours = featvis::image::preprocess_image(photo, pre);
      EXPECT_TRUE(at::equal(ours, tensor_ops_preprocess(photo, nh, nw, 224, pre))) << h << "x" << w << " bgr " << bgr;
    }
  }
}

TEST(Image, JpegEncoderReusesItsBufferAndGrowsItForLargeImages) {
  // Noise compresses badly: 300 x 300 of it is far more than the buffer's first 16 KiB.
  at::manual_seed(5);
  const at::Tensor noise = at::randint(0, 256, {300, 300, 3}, at::kByte);
  const at::Tensor small = gradient_photo(40, 50);
  featvis::image::JpegEncoder encoder;
  const std::string small_alone = featvis::image::encode_jpeg(small.data_ptr<uint8_t>(), 50, 40);
  const std::string noise_alone = featvis::image::encode_jpeg(noise.data_ptr<uint8_t>(), 300, 300);
  ASSERT_GT(noise_alone.size(), 65536u);
  // Small, large (grown several times), small again: each the bytes of an encoder of its own.
  EXPECT_EQ(std::string(encoder.encode_view(small.data_ptr<uint8_t>(), 50, 40)), small_alone);
  EXPECT_EQ(std::string(encoder.encode_view(noise.data_ptr<uint8_t>(), 300, 300)), noise_alone);
  EXPECT_EQ(encoder.encode(small.data_ptr<uint8_t>(), 50, 40), small_alone);
  const std::string path = temp_dir() + "/noise.jpg";
  featvis::write_file(path, noise_alone);
  EXPECT_EQ(featvis::image::load_image_rgb8(path).sizes(), noise.sizes());
}

TEST(Image, RealPhotoDecodes) {
  FEATVIS_REQUIRE_IMAGES(images);
  at::Tensor photo = featvis::image::load_image_rgb8(images + "/n01440764_tench.JPEG");
  EXPECT_EQ(photo.dim(), 3);
  EXPECT_EQ(photo.size(2), 3);
  EXPECT_GT(photo.to(at::kFloat).std().item<double>(), 10.0);
}

}  // namespace
