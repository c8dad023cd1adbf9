#pragma once
// Minimal RFC-4180 CSV: comma separated, fields optionally double-quoted ("" escapes).
#include <string>
#include <vector>

namespace featvis {

std::vector<std::string> parse_csv_line(const std::string& line);

}  // namespace featvis
