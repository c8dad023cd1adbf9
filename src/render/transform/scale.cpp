#include <featvis/render/transform/scale.h>
#include <featvis/util/error.h>

#include <cmath>

namespace featvis::render::transform {

Transform random_scale(RandomChoice scales) {
  for (double s : scales.values) {
    if (!(s > 0) || !std::isfinite(s)) throw Error("scale factors must be positive, got " + std::to_string(s));
  }
  // The resize as a warp: bilinear resizing without corner alignment takes output pixel x
  // from input (x + 0.5) * in / out - 0.5, as upsample_bilinear2d does.
  auto warp = [scales](int64_t height, int64_t width, at::Generator& generator) {
    const double s = scales.draw(generator);
    // Truncated like Lucid's int cast; the epsilon keeps 1.1 * 240 at 264, not 263.
    const auto h = static_cast<int64_t>(std::floor(s * static_cast<double>(height) + 1e-6));
    const auto w = static_cast<int64_t>(std::floor(s * static_cast<double>(width) + 1e-6));
    if (h < 1 || w < 1) throw Error("scale " + std::to_string(s) + " shrinks the image to nothing");
    const double sx = static_cast<double>(width) / static_cast<double>(w);
    const double sy = static_cast<double>(height) / static_cast<double>(h);
    return Warp{h, w, {sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5}};
  };
  return Transform(
      "scale" + scales.text(),
      [warp](const at::Tensor& image, at::Generator& generator) {
        const Warp resize = warp(image.size(2), image.size(3), generator);
        if (resize.height == image.size(2) && resize.width == image.size(3)) return image;
        return at::upsample_bilinear2d(image, {resize.height, resize.width}, /*align_corners=*/false);
      },
      Geometry{warp, Fill{Fill::Kind::kNone}});
}

}  // namespace featvis::render::transform
