#include <featvis/render/transform/jitter.h>
#include <featvis/util/error.h>

namespace featvis::render::transform {

Transform jitter(int64_t d) {
  if (d < 0) throw Error("jitter must be >= 0 pixels, got " + std::to_string(d));
  if (d == 0) return Transform();
  // The crop as a warp: the output's pixel (x, y) is the input's (x + dx, y + dy).
  auto warp = [d](int64_t height, int64_t width, at::Generator& generator) {
    const int64_t h = height - d, w = width - d;
    if (h < 1 || w < 1) {
      throw Error("jitter(" + std::to_string(d) + ") needs an image larger than " + std::to_string(d) + " pixels");
    }
    const int64_t dy = random_int(generator, 0, d), dx = random_int(generator, 0, d);
    return Warp{h, w, {1, 0, static_cast<double>(dx), 0, 1, static_cast<double>(dy)}};
  };
  return Transform(
      "jitter(" + std::to_string(d) + ")",
      [warp](const at::Tensor& image, at::Generator& generator) {
        const Warp crop = warp(image.size(2), image.size(3), generator);
        const auto dx = static_cast<int64_t>(crop.to_input[2]), dy = static_cast<int64_t>(crop.to_input[5]);
        return image.slice(2, dy, dy + crop.height).slice(3, dx, dx + crop.width);
      },
      Geometry{warp, Fill{Fill::Kind::kNone}});
}

}  // namespace featvis::render::transform
