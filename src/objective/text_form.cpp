#include "text_form.h"

#include <featvis/objective/kind_table.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace featvis::objective::text {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/' || c == '.';
}

std::string quote(const std::string& name) {
  bool plain = !name.empty() && !is_keyword(name) &&
               !std::isdigit(static_cast<unsigned char>(name[0])) && name[0] != '.';
  for (char c : name) plain = plain && is_name_char(c);
  if (plain) return name;
  const char q = name.find('\'') == std::string::npos ? '\'' : '"';
  return q + name + q;
}

std::string number(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  // %g writes whole numbers with more digits than significant ones as "1e+02".
  if (std::strchr(buffer, 'e') && std::fabs(value) >= 1 && std::fabs(value) < 1e16) {
    char whole[32];
    std::snprintf(whole, sizeof whole, "%.0f", value);
    if (std::strtod(whole, nullptr) == value) return whole;
  }
  return buffer;
}

}  // namespace featvis::objective::text
