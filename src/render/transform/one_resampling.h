#pragma once
// One resampling for a chain of geometric transforms (see Resampling::kOnce).
#include <featvis/render/transform/transform.h>

namespace featvis::render::transform::detail {

// Whether the chain can be applied as one resampling: two or more steps, every one
// geometric, one constant fill value, and no constant padding after a zero-filling step.
bool can_resample_once(const std::vector<Transform>& steps);

// The chain's random choices drawn in order, its warps composed into one affine map from
// the output back to `image`, and one grid_sample of `image` through it.
at::Tensor resample_once(const std::vector<Transform>& steps, const at::Tensor& image, at::Generator& generator);

}  // namespace featvis::render::transform::detail
