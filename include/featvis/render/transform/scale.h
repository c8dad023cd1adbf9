#pragma once
// Random scale: bilinear resize by a factor drawn per step (Lucid's random_scale; the
// image size changes, as in Lucid).
#include <featvis/render/transform/transform.h>

namespace featvis::render::transform {

// scale{0.9,1,1.1} (one of a list) or scale(0.9,1.1) (uniform range).
Transform random_scale(RandomChoice scales);

}  // namespace featvis::render::transform
