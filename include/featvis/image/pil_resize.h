#pragma once
// Pillow's bilinear resize, Image.resize(size, Image.BILINEAR, box), of 8-bit RGB,
// reproduced to the byte: the same triangle filter with its support widened by the
// reduction, the weights rounded to 22-bit fixed point, the width pass first and its
// result rounded to 8 bits before the height pass. The published accuracies of the real
// models were measured on Pillow's pixels (../shared/models/README.md), and with this
// resize featvis reproduces them exactly (tests/accuracy). Integer arithmetic on the bytes
// is also several times faster than a float kernel on a converted copy.
#include <ATen/ATen.h>

#include <array>

namespace featvis::image {

struct PilResizeOptions {
  // Pillow's box: the source rectangle (left, top, right, bottom) in input pixels, as
  // C floats like Pillow's; right/bottom < 0 mean the image's edge. Default: all of it.
  std::array<float, 4> box = {0.f, 0.f, -1.f, -1.f};
  // Only this part of the output, [top, top + height) x [left, left + width): the same
  // bytes as cropping the whole result, without computing what the crop drops.
  // height/width < 1 mean the whole output.
  int64_t crop_top = 0, crop_left = 0, crop_height = 0, crop_width = 0;
};

// [H, W, 3] uint8 (any strides) -> [out_height, out_width, 3] uint8, or the crop's size.
at::Tensor pil_resize(const at::Tensor& hwc, int64_t out_height, int64_t out_width,
                      const PilResizeOptions& options = {});

}  // namespace featvis::image
