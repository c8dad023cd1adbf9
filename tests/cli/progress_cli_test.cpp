// Progress when stderr is a file (run_featvis captures it), as in CI logs and SLURM
// output: whole lines, never carriage-return redraws.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::run_featvis;

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  return lines;
}

// Runs with $FEATVIS_PROGRESS_SECONDS set (unset when empty).
CommandResult run_with_interval(const std::string& seconds, const std::vector<std::string>& args) {
  if (seconds.empty()) {
    unsetenv("FEATVIS_PROGRESS_SECONDS");
  } else {
    setenv("FEATVIS_PROGRESS_SECONDS", seconds.c_str(), 1);
  }
  const CommandResult r = run_featvis(args);
  unsetenv("FEATVIS_PROGRESS_SECONDS");
  return r;
}

void expect_plain_lines(const CommandResult& r) {
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\033'), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.empty() || r.err.back() == '\n') << r.err;
}

TEST(ProgressCli, LogGetsAPlainLineEveryIntervalAndAtTheEnd) {
  featvis::testing::TinyModelDir ws;
  const std::vector<std::string> render = {"render", ws.model, "conv1:1", "--size", "8", "--steps", "6",
                                           "--threads", "1", "--out", ws.dir + "/r"};
  // Interval 0: a line for every step.
  const CommandResult every = run_with_interval("0", render);
  ASSERT_EQ(every.exit_code, 0) << every.err;
  expect_plain_lines(every);
  const std::vector<std::string> lines = lines_starting(every.err, "render: ");
  ASSERT_EQ(lines.size(), 6u) << every.err;
  EXPECT_EQ(lines.back().rfind("render: 6/6 (100%)", 0), 0u) << lines.back();
  // The default interval (5 s) outlasts this run: only the final line.
  const CommandResult quiet_log = run_with_interval("", render);
  ASSERT_EQ(quiet_log.exit_code, 0) << quiet_log.err;
  expect_plain_lines(quiet_log);
  const std::vector<std::string> final_only = lines_starting(quiet_log.err, "render: ");
  ASSERT_EQ(final_only.size(), 1u) << quiet_log.err;
  EXPECT_EQ(final_only[0].rfind("render: 6/6 (100%)", 0), 0u) << final_only[0];
  // --quiet: nothing.
  std::vector<std::string> quiet = render;
  quiet.push_back("-q");
  EXPECT_TRUE(lines_starting(run_with_interval("0", quiet).err, "render: ").empty());
}

TEST(ProgressCli, ExamplesScanLogsItsEnd) {
  featvis::testing::TinyModelDir ws;
  for (int i = 0; i < 3; ++i) featvis::image::save_png(ws.dir + "/p" + std::to_string(i) + ".png", at::rand({3, 8, 8}));
  const CommandResult r = run_with_interval("", {"examples", ws.model, "--images", ws.dir, "--layers", "conv1",
                                                 "--top", "1", "--out", ws.dir + "/ex"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_plain_lines(r);
  const std::vector<std::string> lines = lines_starting(r.err, "examples: ");
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_EQ(lines[0].rfind("examples: 3/3 (100%)", 0), 0u) << lines[0];
}

}  // namespace
