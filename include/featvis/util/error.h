#pragma once
// One exception type for every user-facing failure: its message is the one line the
// CLI prints ("featvis: error: <message>"), so it must name the problem and the thing.
#include <stdexcept>
#include <string>
#include <utility>

namespace featvis {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A setting out of range. setting() is its name in the library (lr, weight_decay,
// thresholds); the CLI puts its flag (--lr) in front of the message.
class SettingError : public Error {
 public:
  SettingError(std::string setting, const std::string& message) : Error(message), setting_(std::move(setting)) {}
  const std::string& setting() const { return setting_; }

 private:
  std::string setting_;
};

}  // namespace featvis
