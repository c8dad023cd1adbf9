#pragma once
// Lists in one-line messages: "a, b, c" (the known names an error offers, paths searched).
#include <string>
#include <vector>

namespace featvis {

std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace featvis
