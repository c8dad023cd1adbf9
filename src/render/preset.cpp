#include <featvis/render/preset.h>
#include <featvis/util/error.h>

namespace featvis::render {

Preset preset(const std::string& name) {
  Preset p;
  p.name = name;
  if (name == "lucid") {
    p.description = "FFT parameterization, decorrelated colour, standard transforms, Adam lr 0.05, redirected ReLU gradient for 16 steps (Lucid)";
    return p;
  }
  if (name == "naive") {
    p.description = "pixel parameterization, plain RGB, no transforms, Adam lr 0.1 + weight decay 1e-6";
    p.space = param::Space::kPixel;
    p.decorrelate = false;
    p.transforms = "none";
    p.lr = 0.1;
    p.weight_decay = 1e-6;
    p.redirected_relu_steps = 0;
    return p;
  }
  throw Error("unknown preset '" + name + "' (use lucid or naive)");
}

std::vector<std::string> preset_names() { return {"lucid", "naive"}; }

}  // namespace featvis::render
