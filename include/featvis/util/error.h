#pragma once
// One exception type for every user-facing failure: its message is the one line the
// CLI prints ("featvis: error: <message>"), so it must name the problem and the thing.
#include <stdexcept>
#include <string>

namespace featvis {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace featvis
