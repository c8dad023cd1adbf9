#include <featvis/attribution/method.h>
#include <featvis/util/error.h>
#include <featvis/util/join.h>

#include <utility>

namespace featvis::attribution {
namespace {

const std::vector<std::pair<Method, std::string>>& method_table() {
  static const std::vector<std::pair<Method, std::string>> table = {
      {Method::kSaliency, "saliency"},       {Method::kGradientXInput, "gradxinput"},
      {Method::kIntegratedGradients, "ig"},  {Method::kSmoothGrad, "smoothgrad"},
      {Method::kGuidedBackprop, "guided"},   {Method::kGradCam, "gradcam"},
      {Method::kGuidedGradCam, "guided-gradcam"}, {Method::kOcclusion, "occlusion"},
      {Method::kLrp, "lrp"},
  };
  return table;
}

}  // namespace

Method parse_method(const std::string& text) {
  for (const auto& [method, name] : method_table())
    if (name == text) return method;
  throw Error("unknown attribution method '" + text + "' (methods: " + join(method_names()) + ")");
}

std::string to_string(Method method) {
  for (const auto& [m, name] : method_table())
    if (m == method) return name;
  return "unknown";
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& entry : method_table()) names.push_back(entry.second);
  return names;
}

Baseline parse_baseline(const std::string& text) {
  if (text == "black") return Baseline::kBlack;
  if (text == "blur") return Baseline::kBlur;
  throw Error("unknown integrated-gradients baseline '" + text + "' (baselines: black, blur)");
}

std::string to_string(Baseline baseline) { return baseline == Baseline::kBlack ? "black" : "blur"; }

}  // namespace featvis::attribution
