#pragma once
// Random rotation about the centre, in degrees, with bilinear sampling through
// affine_grid + grid_sample (differentiable); corners brought in are black, as in
// Lucid's random_rotate. The image keeps its size.
#include <featvis/render/transform/transform.h>

namespace featvis::render::transform {

// rotate{-10,0,10} (one of a list) or rotate(-10,10) (uniform range), degrees.
Transform random_rotate(RandomChoice degrees);

// Rotates by a fixed angle (the random version's building block, also for tests).
at::Tensor rotate_image(const at::Tensor& image, double degrees);

}  // namespace featvis::render::transform
