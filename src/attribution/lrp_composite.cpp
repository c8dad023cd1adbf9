// The LRP composites by name: which rule each kind of weighted layer gets (lrp.h).
#include <featvis/attribution/lrp.h>
#include <featvis/util/error.h>

namespace featvis::attribution {
namespace {

// One entry per composite: name, first layer, convolutions, dense layers.
const std::vector<LrpComposite>& composite_table() {
  static const std::vector<LrpComposite> table = {
      {"epsilon-plus", LrpRule::kZBox, LrpRule::kAlpha1Beta0, LrpRule::kEpsilon},
      {"epsilon-gamma-box", LrpRule::kZBox, LrpRule::kGamma, LrpRule::kEpsilon},
      {"epsilon-alpha2-beta1", LrpRule::kZBox, LrpRule::kAlpha2Beta1, LrpRule::kEpsilon},
      {"epsilon", LrpRule::kEpsilon, LrpRule::kEpsilon, LrpRule::kEpsilon},
  };
  return table;
}

}  // namespace

std::string to_string(LrpRule rule) {
  switch (rule) {
    case LrpRule::kEpsilon: return "epsilon";
    case LrpRule::kGamma: return "gamma";
    case LrpRule::kAlpha1Beta0: return "alpha1-beta0";
    case LrpRule::kAlpha2Beta1: return "alpha2-beta1";
    case LrpRule::kZBox: return "zbox";
  }
  return "unknown";
}

LrpComposite parse_lrp_composite(const std::string& name) {
  for (const LrpComposite& c : composite_table())
    if (c.name == name) return c;
  std::string names;
  for (const std::string& n : lrp_composite_names()) names += (names.empty() ? "" : ", ") + n;
  throw SettingError("lrp_composite", "unknown LRP composite '" + name + "' (composites: " + names + ")");
}

std::vector<std::string> lrp_composite_names() {
  std::vector<std::string> names;
  for (const LrpComposite& c : composite_table()) names.push_back(c.name);
  return names;
}

}  // namespace featvis::attribution
