#include <featvis/render/transform/pad.h>
#include <featvis/util/error.h>

#include <sstream>

namespace featvis::render::transform {

Transform pad(int64_t width, PadOptions options) {
  if (width < 0) throw Error("pad width must be >= 0, got " + std::to_string(width));
  if (width == 0) return Transform();
  std::ostringstream d;
  d << "pad(" << width;
  if (options.mode == PadMode::kReflect) {
    d << ",reflect";
  } else if (options.value != 0.5) {
    d << "," << options.value;
  }
  d << ")";
  std::optional<Geometry> geometry;
  if (options.mode == PadMode::kConstant) {
    geometry = Geometry{[width](int64_t h, int64_t w, at::Generator&) {
                          const auto shift = static_cast<double>(-width);
                          return Warp{h + 2 * width, w + 2 * width, {1, 0, shift, 0, 1, shift}};
                        },
                        Fill{Fill::Kind::kConstant, options.value}};
  }
  return Transform(d.str(), [width, options](const at::Tensor& image, at::Generator&) {
    if (options.mode == PadMode::kConstant)
      return at::constant_pad_nd(image, {width, width, width, width}, options.value);
    if (width >= image.size(2) || width >= image.size(3)) {
      throw Error("pad(" + std::to_string(width) + ",reflect) needs an image larger than " + std::to_string(width) +
                  " pixels");
    }
    return at::reflection_pad2d(image, {width, width, width, width});
  }, geometry);
}

}  // namespace featvis::render::transform
