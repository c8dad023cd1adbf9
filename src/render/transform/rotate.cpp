#include <featvis/render/transform/rotate.h>
#include <featvis/util/error.h>

#include <cmath>

namespace featvis::render::transform {

at::Tensor rotate_image(const at::Tensor& image, double degrees) {
  if (degrees == 0) return image;
  const double a = degrees * M_PI / 180.0;
  const double h = static_cast<double>(image.size(2)), w = static_cast<double>(image.size(3));
  // affine_grid works in [-1,1] coordinates on both axes; the aspect factors make this
  // a rotation in pixels for non-square images too.
  const at::Tensor theta = at::tensor({std::cos(a), -std::sin(a) * h / w, 0.0, std::sin(a) * w / h, std::cos(a), 0.0},
                                      at::TensorOptions().dtype(at::kDouble))
                               .view({1, 2, 3})
                               .to(image.options())
                               .expand({image.size(0), 2, 3});
  const at::Tensor grid = at::affine_grid_generator(theta, image.sizes(), /*align_corners=*/false);
  return at::grid_sampler(image, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false);
}

Transform random_rotate(RandomChoice degrees) {
  for (double d : degrees.values) {
    if (!std::isfinite(d)) throw Error("rotation angles must be finite");
  }
  // The rotation as a warp about the image centre, in pixels (what rotate_image does in
  // affine_grid's [-1,1] coordinates with its aspect factors).
  auto warp = [degrees](int64_t height, int64_t width, at::Generator& generator) {
    const double a = degrees.draw(generator) * M_PI / 180.0;
    const double c = std::cos(a), s = std::sin(a);
    const double cx = (static_cast<double>(width) - 1) / 2, cy = (static_cast<double>(height) - 1) / 2;
    return Warp{height, width, {c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy}};
  };
  return Transform(
      "rotate" + degrees.text(),
      [degrees](const at::Tensor& image, at::Generator& generator) {
        return rotate_image(image, degrees.draw(generator));
      },
      Geometry{warp, Fill{Fill::Kind::kZero}});
}

}  // namespace featvis::render::transform
