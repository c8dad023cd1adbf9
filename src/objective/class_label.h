#pragma once
// Finding a class by its label, as typed on the command line ("tench", "Tiger Cat").
#include <cstdint>
#include <string>
#include <vector>

namespace featvis::objective {

// Index of the one class that has `name` as its label or as one of its comma-separated
// synonyms ("tench, Tinca tinca"), ignoring case and surrounding spaces. Throws
// featvis::Error (no position) when no class matches, listing the closest labels, or when
// several do, listing them.
int64_t find_class(const std::vector<std::string>& labels, const std::string& name);

}  // namespace featvis::objective
