#include <featvis/attribution/heatmap.h>
#include <featvis/attribution/overlay.h>
#include <featvis/util/error.h>

#include "colour_bar.h"

#include <cstdio>

namespace featvis::attribution {
namespace {

std::string label(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g", v);
  return text;
}

}  // namespace

OverlayStyle default_overlay_style(Method method) {
  return method == Method::kGradCam || method == Method::kOcclusion ? OverlayStyle::kBlend : OverlayStyle::kMask;
}

OverlayStyle parse_overlay_style(const std::string& text) {
  if (text == "blend") return OverlayStyle::kBlend;
  if (text == "mask") return OverlayStyle::kMask;
  throw Error("unknown overlay '" + text + "' (known: blend, mask)");
}

std::string to_string(OverlayStyle style) { return style == OverlayStyle::kBlend ? "blend" : "mask"; }

at::Tensor overlay(const at::Tensor& image_in, const at::Tensor& map_in, const OverlayOptions& options) {
  const at::Tensor map = map_in.detach().to(at::kCPU, at::kFloat);
  const at::Tensor image = image_in.detach().to(at::kCPU, at::kFloat);
  if (map.dim() != 2 || image.dim() != 3 || image.size(0) != 3 || image.size(1) != map.size(0) ||
      image.size(2) != map.size(1)) {
    throw Error("overlay: image " + c10::str(image.sizes()) + " does not match map " + c10::str(map.sizes()));
  }
  const double clip = clip_value(map, options.clip_percentile);
  const at::Tensor t = display_normalize(map, options.clip_percentile);
  const bool signed_scale = map.min().item<double>() < 0;
  const at::Tensor ramp = at::linspace(signed_scale ? -1 : 0, 1, 64);
  std::vector<BarLabel> labels = {{0, label(signed_scale ? -clip : 0)}, {1, label(clip)}};
  if (signed_scale) labels.insert(labels.begin() + 1, BarLabel{0.5, "0"});

  if (options.style == OverlayStyle::kMask) {
    // The photo seen through |value|: black where nothing is attributed.
    const at::Tensor magnitude = t.abs();
    return with_colour_bar(image * magnitude.unsqueeze(0), at::linspace(0, 1, 64).unsqueeze(0).expand({3, 64}),
                           {{0, "0"}, {1, label(clip)}});
  }
  // Heat over the photo in grey (so the heat colours read unambiguously); a floor of
  // opacity tints unattributed areas with the scale's zero colour, the rest grows with |t|.
  const at::Tensor grey = (0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]).unsqueeze(0).expand({3, -1, -1});
  const at::Tensor alpha = (0.2 + 0.6 * t.abs()).unsqueeze(0);
  return with_colour_bar(grey * (1 - alpha) + heat_colours(t, signed_scale) * alpha,
                         heat_colours(ramp, signed_scale), labels);
}

}  // namespace featvis::attribution
