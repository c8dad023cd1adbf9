#include <featvis/util/json_diff.h>

namespace featvis {

std::string first_difference(const nlohmann::ordered_json& now, const nlohmann::ordered_json& before) {
  for (const auto& [key, value] : now.items())
    if (!before.contains(key) || before.at(key) != value)
      return key + " " + value.dump() + " now, " + (before.contains(key) ? before.at(key).dump() : "absent") + " before";
  for (const auto& [key, value] : before.items())
    if (!now.contains(key)) return key + " absent now, " + value.dump() + " before";
  return "";
}

}  // namespace featvis
