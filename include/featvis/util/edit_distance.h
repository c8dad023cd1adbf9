#pragma once
// Levenshtein distance, for "did you mean" suggestions in error messages.
#include <cstddef>
#include <string>

namespace featvis {

size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace featvis
