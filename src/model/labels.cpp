// Class labels: a plain text file, line i names class i.
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <fstream>

namespace featvis::model {

std::vector<std::string> read_labels_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read labels file '" + path + "'");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files edited on Windows
    labels.push_back(line);
  }
  // A blank line in the middle would shift every later class by one: refuse it.
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].find_first_not_of(" \t") == std::string::npos) {
      const bool only_trailing_blanks = [&] {
        for (size_t j = i; j < labels.size(); ++j)
          if (labels[j].find_first_not_of(" \t") != std::string::npos) return false;
        return true;
      }();
      if (only_trailing_blanks) {
        labels.resize(i);
        break;
      }
      throw Error("labels file '" + path + "': line " + std::to_string(i + 1) +
                  " is empty (line i names class i-1, so every line needs a label)");
    }
  }
  if (labels.empty()) throw Error("labels file '" + path + "' is empty");
  return labels;
}

}  // namespace featvis::model
