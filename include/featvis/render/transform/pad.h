#pragma once
// Padding gives jitter and rotation room, so the image's border is not always the
// network's border (Lucid pads with constant 0.5 grey in its standard set).
#include <featvis/render/transform/transform.h>

namespace featvis::render::transform {

enum class PadMode { kConstant, kReflect };

struct PadOptions {
  PadMode mode = PadMode::kConstant;
  double value = 0.5;  // kConstant only
};

// Adds `width` pixels on every side: pad(12), pad(12,reflect), pad(12,0.3).
Transform pad(int64_t width, PadOptions options = {});

}  // namespace featvis::render::transform
