#pragma once
// Arguments that begin with '-' but are not options of a command, such as a negated
// objective "-LAYER:7": CLI11 would take them for options, so they are moved after "--".
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace featvis::cli {

// argv with every argument of `command` (argv[1]) that starts with a single '-' but names
// none of its options (nor is an option's value) moved to the end, after "--", in order.
std::vector<std::string> with_dashed_positionals_last(const CLI::App& command, const std::vector<std::string>& argv);

}  // namespace featvis::cli
