#include "class_label.h"

#include <featvis/util/did_you_mean.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cctype>

namespace featvis::objective {
namespace {

std::string normalized(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const size_t end = s.find_last_not_of(" \t");
  std::string out = s.substr(begin, end - begin + 1);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> synonyms(const std::string& label) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= label.size()) {
    const size_t comma = std::min(label.find(',', start), label.size());
    const std::string s = normalized(label.substr(start, comma - start));
    if (!s.empty()) out.push_back(s);
    start = comma + 1;
  }
  return out;
}

std::string listed(const std::vector<std::string>& labels, const std::vector<int64_t>& classes) {
  std::string out;
  for (size_t i = 0; i < classes.size(); ++i)
    out += (i ? ", " : "") + std::to_string(classes[i]) + " '" + labels[static_cast<size_t>(classes[i])] + "'";
  return out;
}

}  // namespace

int64_t find_class(const std::vector<std::string>& labels, const std::string& name) {
  const std::string wanted = normalized(name);
  std::vector<int64_t> matches;
  // Every synonym of every class, in class order, for the suggestions.
  std::vector<std::string> names;
  std::vector<int64_t> class_of;
  for (size_t k = 0; k < labels.size(); ++k) {
    for (const auto& s : synonyms(labels[k])) {
      if (s == wanted) {
        matches.push_back(static_cast<int64_t>(k));
        break;
      }
      names.push_back(s);
      class_of.push_back(static_cast<int64_t>(k));
    }
  }
  if (matches.size() == 1) return matches[0];
  if (matches.size() > 1) {
    throw Error("label '" + name + "' is ambiguous: classes " + listed(labels, matches) + "; use the class index");
  }
  std::vector<int64_t> closest;
  for (size_t i : did_you_mean(wanted, names, names.size())) {
    if (closest.size() == 3) break;
    if (std::find(closest.begin(), closest.end(), class_of[i]) == closest.end()) closest.push_back(class_of[i]);
  }
  throw Error("unknown label '" + name + "'" +
              (closest.empty() ? std::string() : " (closest: classes " + listed(labels, closest) + ")"));
}

}  // namespace featvis::objective
