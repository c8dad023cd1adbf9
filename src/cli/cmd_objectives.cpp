// featvis objectives: every objective kind the text form knows, from the kind table.
#include "cli_common.h"
#include "commands.h"

#include <featvis/objective/kind_table.h>

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace featvis::cli {

void add_objectives_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "objectives", "List the objective kinds for `featvis render` and `featvis attribute --target`");
  cmd->add_flag("--json", *json, "machine-readable JSON on stdout");
  cmd->callback([json] {
    if (*json) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const objective::Kind& k : objective::kinds()) {
        out.push_back({{"name", k.name}, {"signature", k.signature()}, {"summary", k.summary}, {"help", k.help}});
      }
      std::cout << out.dump(2) << '\n';
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const objective::Kind& k : objective::kinds()) rows.push_back({k.signature(), k.summary});
    print_table(std::cout, {"objective", "what it maximizes"}, rows);
    std::cout << "Combine them: a + b, a - b, 2.5*a, -a, (a), a | b (one per batch item). "
                 "Quote odd layer names: 'block 2':3.\n";
  });
}

}  // namespace featvis::cli
