#pragma once
// The attribution methods and IG baselines by name, as the command line writes them.
#include <string>
#include <vector>

namespace featvis::attribution {

enum class Method {
  kSaliency,        // |gradient| (Simonyan et al. 2014)
  kGradientXInput,  // gradient * input (Shrikumar et al. 2016)
  kIntegratedGradients,  // Sundararajan et al. 2017
  kSmoothGrad,      // mean over noisy copies of another gradient method (Smilkov et al. 2017)
  kGuidedBackprop,  // Springenberg et al. 2015
  kGradCam,         // Selvaraju et al. 2017
  kGuidedGradCam,   // guided backprop * Grad-CAM
  kOcclusion,       // drop in the target when a patch is greyed out (Zeiler & Fergus 2014)
  kLrp,             // layer-wise relevance propagation (Bach et al. 2015), rules by composite (lrp.h)
};

// "saliency", "gradxinput", "ig", "smoothgrad", "guided", "gradcam", "guided-gradcam", "occlusion", "lrp".
Method parse_method(const std::string& text);  // featvis::Error listing the names if unknown
std::string to_string(Method method);
std::vector<std::string> method_names();

// Integrated gradients' reference image: black, or the photo heavily blurred.
enum class Baseline { kBlack, kBlur };
Baseline parse_baseline(const std::string& text);
std::string to_string(Baseline baseline);

}  // namespace featvis::attribution
