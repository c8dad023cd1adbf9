// The card's scaling (image/network_input.h): the CPU's one-pass function against the ATen
// expression it replaces, values and gradients, RGB and BGR.
#include "support/test_support.h"

#include <featvis/image/network_input.h>

namespace {

at::Tensor aten_scaling(const at::Tensor& rgb01, const featvis::model::Preprocessing& pre) {
  const auto o = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}, o).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}, o).view({1, 3, 1, 1});
  const at::Tensor x = rgb01 * (255.0 / std).to(rgb01.options()) - (mean / std).to(rgb01.options());
  return pre.bgr ? x.flip({1}) : x;
}

TEST(NetworkInput, OnePassEqualsAtensScalingAndItsGradient) {
  featvis::model::Preprocessing pre;
  pre.mean = {123.675f, 116.28f, 103.53f};
  pre.std = {58.395f, 57.12f, 57.375f};
  for (bool bgr : {false, true}) {
    pre.bgr = bgr;
    for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
      // A batch, non-contiguous, with an odd number of pixels (a vector loop's tail).
      const at::Tensor rgb = at::rand({2, 13, 11, 3}, dtype).permute({0, 3, 1, 2});
      const at::Tensor upstream = at::randn({2, 3, 13, 11}, dtype);
      const at::Tensor a = rgb.detach().clone().set_requires_grad(true), b = rgb.detach().clone().set_requires_grad(true);
      const at::Tensor ours = featvis::image::network_input(a, pre), theirs = aten_scaling(b, pre);
      EXPECT_TRUE(at::equal(ours, theirs)) << "bgr " << bgr << " " << dtype;
      (ours * upstream).sum().backward();
      (theirs * upstream).sum().backward();
      EXPECT_TRUE(at::equal(a.grad(), b.grad())) << "bgr " << bgr << " " << dtype;
      EXPECT_GT(a.grad().abs().max().item<double>(), 1.0);
    }
  }
  // Not vacuous: BGR is the flip of RGB.
  const at::Tensor rgb = at::rand({1, 3, 4, 5});
  pre.bgr = false;
  const at::Tensor as_rgb = featvis::image::network_input(rgb, pre);
  pre.bgr = true;
  EXPECT_TRUE(at::equal(featvis::image::network_input(rgb, pre), as_rgb.flip({1})));
}

}  // namespace
