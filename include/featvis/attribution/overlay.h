#pragma once
// An attribution map shown on its photo, with a colour bar giving the scale (the shared
// rendering of `featvis attribute` and the Microscope's attribution lens).
#include <featvis/attribution/method.h>

#include <ATen/ATen.h>

#include <string>

namespace featvis::attribution {

// How a map is shown on the photo, as in Captum's visualize_image_attr:
//  kBlend: the heat map (heatmap()'s colours) over the photo in grey, heat opacity growing
//          with |value|: for coarse maps of regions (Grad-CAM, occlusion).
//  kMask:  the photo where |value| is high, black where it is 0 (photo * |normalized|):
//          for fine per-pixel maps (gradients, IG), whose speckle reads poorly as colour.
enum class OverlayStyle { kBlend, kMask };

OverlayStyle default_overlay_style(Method method);
OverlayStyle parse_overlay_style(const std::string& text);  // "blend" or "mask"; featvis::Error otherwise
std::string to_string(OverlayStyle style);

struct OverlayOptions {
  OverlayStyle style = OverlayStyle::kBlend;
  double clip_percentile = 99;  // see display_normalize()
};

// [3,H,W] photo in [0,1] and its [H,W] map -> [3,H+B,W] RGB: the overlay with a colour
// bar of B rows below it (the scale from 0, or -clip, to the clip value, labelled with
// those values when the picture is wide enough for the digits).
at::Tensor overlay(const at::Tensor& image, const at::Tensor& map, const OverlayOptions& options);

}  // namespace featvis::attribution
