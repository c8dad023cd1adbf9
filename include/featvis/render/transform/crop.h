#pragma once
// Random crop: a square box of a random fraction of the image's shorter side, at a random
// place, resized to size x size (MACO's crops: the picture is rendered large and the
// network sees a different part of it, at its input size, every step).
#include <featvis/render/transform/transform.h>

#include <cstdint>

namespace featvis::render::transform {

// crop(0.35,0.65,224): the fraction uniform in a range; crop(0.5,224): one fraction; in (0, 1].
Transform random_crop(RandomChoice fractions, int64_t size);

}  // namespace featvis::render::transform
