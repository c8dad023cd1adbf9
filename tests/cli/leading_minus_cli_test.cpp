// `featvis render` with an objective that begins with '-' (a negated objective), which
// CLI11 alone would take for an option.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;

nlohmann::json rendered(const std::vector<std::string>& args) {
  const CommandResult r = run_featvis(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(LeadingMinusCli, NegatedObjectiveIsThePositionalWhereverItStands) {
  featvis::testing::TinyModelDir ws;
  const std::string out = ws.dir + "/out";
  const std::vector<std::string> small = {"--size", "8", "--steps", "2", "--threads", "1", "--json"};
  std::vector<std::string> after_model = {"render", ws.model, "-conv1/preact:1", "-o", out + "/a", "-q"};
  after_model.insert(after_model.end(), small.begin(), small.end());
  const nlohmann::json a = rendered(after_model);
  EXPECT_EQ(a["objective"]["text"], "-conv1/preact:1");
  EXPECT_EQ(a["objective"]["description"], "-conv1/preact:1");
  EXPECT_TRUE(std::filesystem::is_regular_file(out + "/a/render.json"));  // -o kept its value
  // Before the model, and with the user's own "--" after it, the order of positionals holds.
  std::vector<std::string> first = {"render", "-conv1/preact:1", ws.model, "--out", out + "/b"};
  first.insert(first.end(), small.begin(), small.end());
  EXPECT_EQ(rendered(first)["objective"]["text"], "-conv1/preact:1");
  std::vector<std::string> dashes = {"render", ws.model, "--out", out + "/c"};
  dashes.insert(dashes.end(), small.begin(), small.end());
  dashes.insert(dashes.end(), {"--", "-conv1/preact:2"});
  EXPECT_EQ(rendered(dashes)["objective"]["text"], "-conv1/preact:2");
  // Unknown long options stay errors.
  expect_one_line_error(run_featvis({"render", ws.model, "conv1:1", "--stpes", "3"}), 2, {"--stpes"});
}

}  // namespace
