#include <featvis/render/transform/scale.h>
#include <featvis/util/error.h>

#include <cmath>

namespace featvis::render::transform {

Transform random_scale(RandomChoice scales) {
  for (double s : scales.values) {
    if (!(s > 0) || !std::isfinite(s)) throw Error("scale factors must be positive, got " + std::to_string(s));
  }
  return Transform("scale" + scales.text(), [scales](const at::Tensor& image, at::Generator& generator) {
    const double s = scales.draw(generator);
    // Truncated like Lucid's int cast; the epsilon keeps 1.1 * 240 at 264, not 263.
    const auto h = static_cast<int64_t>(std::floor(s * static_cast<double>(image.size(2)) + 1e-6));
    const auto w = static_cast<int64_t>(std::floor(s * static_cast<double>(image.size(3)) + 1e-6));
    if (h == image.size(2) && w == image.size(3)) return image;
    if (h < 1 || w < 1) throw Error("scale " + std::to_string(s) + " shrinks the image to nothing");
    return at::upsample_bilinear2d(image, {h, w}, /*align_corners=*/false);
  });
}

}  // namespace featvis::render::transform
