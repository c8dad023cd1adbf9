#pragma once
// Attribution maps as pictures.
#include <ATen/ATen.h>

namespace featvis::attribution {

// [H,W] map -> [3,H,W] RGB in [0,1]. A map with negative values gets a diverging scale
// (blue - white - red, symmetric around 0); a non-negative one a black-red-yellow-white
// scale from 0 to its maximum.
at::Tensor heatmap(const at::Tensor& map);

// The heatmap blended on the photo ([3,H,W] in [0,1]), each pixel's heat opacity
// proportional to |value| / max |value|, so unattributed areas show the photo.
at::Tensor overlay(const at::Tensor& image, const at::Tensor& map);

}  // namespace featvis::attribution
