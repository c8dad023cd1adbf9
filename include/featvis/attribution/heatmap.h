#pragma once
// Attribution maps as pictures. Raw maps are often sparse (a few pixels hold most of the
// gradient), so for display they are normalized as Captum's visualize_image_attr does:
// divided by a high percentile of |value| and clipped, so the rest becomes visible.
#include <ATen/ATen.h>

namespace featvis::attribution {

// |value| at `clip_percentile` (0 < p <= 100; 100 = the maximum), the value shown at full
// strength; the maximum when that percentile is 0 (a map that is mostly zero), and 0 for
// an all-zero map. featvis::Error for a percentile out of range.
double clip_value(const at::Tensor& map, double clip_percentile);

// map / clip_value, clipped to [-1, 1] ([0, 1] for a non-negative map); zeros for an
// all-zero map.
at::Tensor display_normalize(const at::Tensor& map, double clip_percentile);

// [H,W] map -> [3,H,W] RGB in [0,1] of its display-normalized values. A map with
// negative values gets a diverging scale (blue - white - red, symmetric around 0); a
// non-negative one a black-red-yellow-white scale from 0 to the clip value.
at::Tensor heatmap(const at::Tensor& map, double clip_percentile = 99);

// The colour scale of heatmap() for normalized values t in [-1,1] (signed) or [0,1]: [3, ...].
at::Tensor heat_colours(const at::Tensor& t, bool signed_scale);

}  // namespace featvis::attribution
