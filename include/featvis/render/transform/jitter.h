#pragma once
// Jitter: a random crop d pixels smaller in each dimension, i.e. a shift by 0..d pixels
// (Lucid's jitter; the image shrinks by d).
#include <featvis/render/transform/transform.h>

namespace featvis::render::transform {

Transform jitter(int64_t d);

}  // namespace featvis::render::transform
