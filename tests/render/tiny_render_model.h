#pragma once
// The tiny classifier the render tests optimize for: conv1 [3 channels], logits.
#include "support/onnx_builder.h"

#include <featvis/model/model.h>

namespace featvis::testing {

inline model::Model tiny_render_model() {
  model::Model m{model::ModelCard{}, graph::Graph::load_onnx_bytes(tiny_classifier_onnx(3, 8), "tiny"), "tiny.onnx", ""};
  m.card.name = "tiny";
  m.card.input = "input";
  m.card.output = "logits";
  return m;  // preprocessing: x = pixel / 255, i.e. the [0,1] image itself
}

}  // namespace featvis::testing
