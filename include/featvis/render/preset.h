#pragma once
// Named recipes for `featvis render --preset`: the regularized method from the Distill
// article ("lucid", the default) and the naive one it improves on ("naive"), so the
// difference can be seen with the same model and objective.
#include <featvis/render/param/image_param.h>

#include <string>
#include <vector>

namespace featvis::render {

struct Preset {
  std::string name;
  std::string description;
  param::Space space = param::Space::kFFT;
  bool decorrelate = true;
  param::Squash squash = param::Squash::kSigmoid;
  std::string transforms = "standard";  // transform::parse text
  double lr = 0.05;
  double weight_decay = 0.0;
  int64_t redirected_relu_steps = 16;  // RenderOptions::redirected_relu_steps
};

// "lucid": FFT + decorrelated colour + sigmoid, standard transforms, Adam lr 0.05,
//          redirected ReLU gradient for the first 16 steps.
// "naive": pixel space, plain RGB + sigmoid, no transforms, Adam lr 0.1 with weight
//          decay 1e-6, exact gradient: the widespread PyTorch recipe (e.g. pytorch-cnn-visualizations'
//          layer visualization), which yields high-frequency patterns that excite the unit
//          strongly but look like noise.
// Throws featvis::Error for other names.
Preset preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace featvis::render
