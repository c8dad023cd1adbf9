#pragma once
// A colour bar with value labels under a picture, drawn with a 3x5-pixel digit font so
// that PNGs carry their own scale without a font library.
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::attribution {

struct BarLabel {
  double at;         // position along the bar, 0 (left) to 1 (right)
  std::string text;  // digits, '.', '-', '+' and 'e'
};

// `picture` [3,H,W] with a strip below it: the bar (`colours` [3,W'] resampled to the
// width, left to right) and the labels, white on black.
at::Tensor with_colour_bar(const at::Tensor& picture, const at::Tensor& colours, const std::vector<BarLabel>& labels);

}  // namespace featvis::attribution
