#include "leading_minus.h"

namespace featvis::cli {

std::vector<std::string> with_dashed_positionals_last(const CLI::App& command, const std::vector<std::string>& argv) {
  std::vector<std::string> kept, moved;
  size_t i = 0;
  for (; i < argv.size() && i < 2; ++i) kept.push_back(argv[i]);
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") break;  // what follows is positional already
    const bool dashed = arg.size() > 1 && arg[0] == '-' && arg[1] != '-';
    if (!dashed && arg.rfind("--", 0) != 0) {
      kept.push_back(arg);
      continue;
    }
    // "--name[=v]" or "-x[...]": CLI11 reads "-xVALUE" and "-xy" (flags) from the first letter.
    const std::string name = dashed ? arg.substr(0, 2) : arg.substr(0, arg.find('='));
    const CLI::Option* option = command.get_option_no_throw(name);
    if (dashed && option == nullptr) {
      moved.push_back(arg);
      continue;
    }
    kept.push_back(arg);
    // An option's separate value stays with it, even one like "-0.5".
    const bool inline_value = dashed ? arg.size() > 2 : arg.find('=') != std::string::npos;
    if (option && option->get_items_expected_min() > 0 && !inline_value && i + 1 < argv.size()) kept.push_back(argv[++i]);
  }
  if (moved.empty()) return argv;
  kept.push_back("--");
  kept.insert(kept.end(), moved.begin(), moved.end());
  if (i < argv.size()) kept.insert(kept.end(), argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
  return kept;
}

}  // namespace featvis::cli
