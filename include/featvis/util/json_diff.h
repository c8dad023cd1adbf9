#pragma once
// The first top-level difference between two settings records, for "settings differ
// from the run in DIR (...)": what a resumed run names when it refuses other settings.
#include <nlohmann/json.hpp>

#include <string>

namespace featvis {

// "KEY <now> now, <before> before", "KEY absent now, <before> before", or "" when equal.
std::string first_difference(const nlohmann::ordered_json& now, const nlohmann::ordered_json& before);

}  // namespace featvis
