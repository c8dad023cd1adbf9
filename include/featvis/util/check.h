#pragma once
// FEATVIS_CHECK(cond, parts...) throws featvis::Error with the parts streamed into one
// message when cond is false, in the manner of ATen's TORCH_CHECK:
//   FEATVIS_CHECK(k < n, "class ", k, " out of range: ", n, " classes");
// FEATVIS_CHECK_SETTING(cond, setting, parts...) throws featvis::SettingError naming
// the library setting (lr, batch), which the CLI turns into its flag.
#include <featvis/util/error.h>

#include <sstream>
#include <string>

namespace featvis::detail {

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

}  // namespace featvis::detail

#define FEATVIS_CHECK(cond, ...)                                        \
  do {                                                                  \
    if (!(cond)) throw ::featvis::Error(::featvis::detail::concat(__VA_ARGS__)); \
  } while (false)

#define FEATVIS_CHECK_SETTING(cond, setting, ...)                                          \
  do {                                                                                     \
    if (!(cond)) throw ::featvis::SettingError(setting, ::featvis::detail::concat(__VA_ARGS__)); \
  } while (false)
