#include <featvis/render/transform/jitter.h>
#include <featvis/util/error.h>

namespace featvis::render::transform {

Transform jitter(int64_t d) {
  if (d < 0) throw Error("jitter must be >= 0 pixels, got " + std::to_string(d));
  if (d == 0) return Transform();
  return Transform("jitter(" + std::to_string(d) + ")", [d](const at::Tensor& image, at::Generator& generator) {
    const int64_t h = image.size(2) - d, w = image.size(3) - d;
    if (h < 1 || w < 1) {
      throw Error("jitter(" + std::to_string(d) + ") needs an image larger than " + std::to_string(d) + " pixels");
    }
    const int64_t dy = random_int(generator, 0, d), dx = random_int(generator, 0, d);
    return image.slice(2, dy, dy + h).slice(3, dx, dx + w);
  });
}

}  // namespace featvis::render::transform
