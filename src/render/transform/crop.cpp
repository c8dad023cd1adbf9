#include <featvis/render/transform/crop.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace featvis::render::transform {
namespace {

// "crop(0.35,0.65,224)" for a range, "crop(0.5,224)" for one fraction: what parse() reads.
std::string description(const RandomChoice& fractions, int64_t size) {
  std::ostringstream s;
  s << "crop(";
  for (double f : fractions.values) s << f << ",";
  s << size << ")";
  return s.str();
}

}  // namespace

Transform random_crop(RandomChoice fractions, int64_t size) {
  if (!fractions.range && fractions.values.size() != 1) throw Error("crop takes one fraction or a range");
  for (double f : fractions.values) {
    if (!(f > 0 && f <= 1)) throw Error("crop fractions must be in (0, 1], got " + std::to_string(f));
  }
  if (size < 1) throw Error("crop size must be at least 1 pixel, got " + std::to_string(size));
  // The box, then its resize to size x size as in scale: output x from box (x + 0.5) * box / size - 0.5.
  auto warp = [fractions, size](int64_t height, int64_t width, at::Generator& generator) {
    const double f = fractions.draw(generator);
    const auto box = std::max<int64_t>(
        1, static_cast<int64_t>(std::floor(f * static_cast<double>(std::min(height, width)) + 1e-6)));
    const int64_t y0 = random_int(generator, 0, height - box), x0 = random_int(generator, 0, width - box);
    const double s = static_cast<double>(box) / static_cast<double>(size);
    return Warp{size, size, {s, 0, 0.5 * s - 0.5 + static_cast<double>(x0), 0, s, 0.5 * s - 0.5 + static_cast<double>(y0)}};
  };
  return Transform(
      description(fractions, size),
      [warp, size](const at::Tensor& image, at::Generator& generator) {
        const Warp w = warp(image.size(2), image.size(3), generator);
        const double s = w.to_input[0];
        const auto box = static_cast<int64_t>(std::llround(s * static_cast<double>(size)));
        const auto x0 = static_cast<int64_t>(std::llround(w.to_input[2] - 0.5 * s + 0.5));
        const auto y0 = static_cast<int64_t>(std::llround(w.to_input[5] - 0.5 * s + 0.5));
        const at::Tensor cut = image.slice(2, y0, y0 + box).slice(3, x0, x0 + box);
        if (box == size) return cut;
        return at::upsample_bilinear2d(cut, {size, size}, /*align_corners=*/false);
      },
      Geometry{warp, Fill{Fill::Kind::kNone}});
}

}  // namespace featvis::render::transform
