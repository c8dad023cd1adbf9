// The thumbnail resize (image/resize_rgb8.h): every loop set the CPU can run (AVX-512,
// AVX2, portable) equals ATen's antialiased bilinear within one level at a rounding tie,
// for boxes inside a larger image (rows a stride apart), odd and even sizes, and tap counts
// from 2 to many; the AVX-512 loops give the AVX2 ones' bytes.
#include <featvis/image/resize_rgb8.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

namespace {

// ATen's own kernel, on the box alone: what the thumbnails were before they had their own loops.
at::Tensor aten_resize(const at::Tensor& hwc, int64_t height, int64_t width) {
  return at::_upsample_bilinear2d_aa(hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat), {height, width}, false)
      .round()
      .clamp(0, 255)
      .to(at::kByte)
      .squeeze(0)
      .permute({1, 2, 0})
      .contiguous();
}

TEST(ResizeRgb8, BothLoopSetsEqualAtenWithinOneLevelOnBoxesOfALargerImage) {
  at::manual_seed(3);
  // Noise (every level a tie candidate), smooth gradients and flat black and white, in one
  // 300 x 260 image.
  at::Tensor image = at::randint(0, 256, {260, 300, 3}, at::kByte);
  image.slice(0, 0, 130) = (at::linspace(0, 255, 300).view({1, 300, 1}) * at::ones({130, 1, 3})).round().to(at::kByte);
  // And black and white squares of 9 pixels at the bottom left: levels 0 and 255 exactly.
  const at::Tensor squares = (at::arange(60).div(9, "floor").view({60, 1}) + at::arange(150).div(9, "floor").view({1, 150}))
                                 .remainder(2)
                                 .mul(255)
                                 .to(at::kByte);
  image.slice(0, 200, 260).slice(1, 0, 150) = squares.unsqueeze(2).expand({60, 150, 3});
  using Loops = featvis::image::Rgb8Resizer::Loops;
  const auto name = [](Loops l) { return l == Loops::kAvx512 ? "AVX-512" : l == Loops::kAvx2 ? "AVX2" : "portable"; };
  int64_t differing = 0, levels = 0;
  std::vector<at::Tensor> previous;  // the previous loop set's outputs, when it was AVX2
  for (Loops loops : {Loops::kAvx2, Loops::kAvx512, Loops::kPortable}) {
    featvis::image::Rgb8Resizer resizer(loops);
    if (resizer.loops() != loops) {
      std::printf("[ resize ] this CPU has no %s loops\n", name(loops));
      continue;
    }
    std::vector<at::Tensor> outputs;
    std::mt19937 random(7);  // the same boxes and sizes for every loop set
    for (int trial = 0; trial < 60; ++trial) {
      const int64_t h = 2 + random() % 258, w = 2 + random() % 298;
      const int64_t y0 = random() % (260 - h + 1), x0 = random() % (300 - w + 1);
      const int64_t height = 1 + random() % std::min<int64_t>(h, 129), width = 1 + random() % std::min<int64_t>(w, 129);
      const at::Tensor box = image.slice(0, y0, y0 + h).slice(1, x0, x0 + w);
      at::Tensor ours = at::empty({height, width, 3}, at::kByte);
      resizer.resize(image.data_ptr<uint8_t>() + (y0 * 300 + x0) * 3, h, w, 300 * 3, ours.data_ptr<uint8_t>(), height,
                     width);
      const at::Tensor diff = (ours.to(at::kInt) - aten_resize(box.contiguous(), height, width).to(at::kInt)).abs();
      ASSERT_LE(diff.max().item<int>(), 1) << name(loops) << " " << w << "x" << h << " -> " << width << "x" << height;
      differing += diff.gt(0).sum().item<int64_t>();
      levels += diff.numel();
      if (loops == Loops::kAvx512 && !previous.empty())
        EXPECT_TRUE(ours.equal(previous[static_cast<size_t>(trial)]))
            << "AVX-512 and AVX2 bytes differ: " << w << "x" << h << " -> " << width << "x" << height;
      outputs.push_back(ours);
    }
    previous = loops == Loops::kAvx2 ? outputs : std::vector<at::Tensor>{};
  }
  std::printf("[ resize ] %lld of %lld levels differ from ATen's by one\n", static_cast<long long>(differing),
              static_cast<long long>(levels));
  EXPECT_LE(differing, levels / 1000);
}

TEST(ResizeRgb8, BadSizesAreErrors) {
  featvis::image::Rgb8Resizer resizer;
  uint8_t pixels[12] = {};
  EXPECT_THROW(resizer.resize(pixels, 2, 2, 3, pixels, 1, 1), featvis::Error);  // rows shorter than 2 pixels
  EXPECT_THROW(resizer.resize(pixels, 2, 2, 6, pixels, 0, 1), featvis::Error);
}

}  // namespace
