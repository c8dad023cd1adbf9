// Caricature by activation matching (Lucid's `caricature` recipe, its dot_compare
// objective): raise the projection of the image's activations at a layer onto a photo's,
// weighted by their cosine similarity raised to a power. From noise, the result shows what
// the layer keeps of the photo, exaggerated.
#include <featvis/objective/kinds.h>
#include <featvis/util/check.h>

#include "objective_util.h"
#include "text_form.h"

namespace featvis::objective {

Objective caricature(const std::string& layer, const at::Tensor& photo, const std::string& name, double power) {
  FEATVIS_CHECK(photo.dim() == 3 && photo.size(0) == 3, "caricature: the photo must be [3,H,W], got ", photo.sizes());
  FEATVIS_CHECK(power >= 0, "caricature: the cosine power must be >= 0, got ", power);
  // The reference's name is the photo's text, so two caricatures of one photo share a row.
  const std::string key = name;
  std::string description = "caricature(" + text::quote(layer) + ", " + name;
  if (power != 1) description += ", " + text::number(power);
  description += ")";
  Objective objective(description, {layer}, [layer, key, power](const ObjectiveInput& in) {
    FEATVIS_CHECK(in.reference_activations && in.reference_activations->count(key),
                  "caricature: the photo '", key, "' was not in the network's batch");
    const at::Tensor a = detail::feature_map(in, layer).flatten(1);  // [N, D]
    const graph::TensorMap& seen = in.reference_activations->at(key);
    auto it = seen.find(layer);
    FEATVIS_CHECK(it != seen.end(), "caricature: layer '", layer, "' was not computed for the photo");
    // The photo is a fixed target: its activations pass no gradient.
    const at::Tensor p = it->second.detach().reshape({1, -1}).to(a.options());
    constexpr double kEps = 1e-6;  // Lucid's, keeps the ratios finite for all-zero activations
    const at::Tensor p_norm = p.norm();
    const at::Tensor dot = (a * p).sum(1);
    // The tiny addend keeps sqrt's gradient finite for an all-zero item.
    const at::Tensor a_norm = (a.pow(2).sum(1) + 1e-12).sqrt();
    const at::Tensor cos = dot / (a_norm * p_norm + kEps);
    // Floor as in direction(): a negative cosine never turns a negative dot into a reward.
    return dot / (p_norm + kEps) * cos.clamp_min(0.1).pow(power);
  });
  return objective.with_references({{key, photo}});
}

}  // namespace featvis::objective
