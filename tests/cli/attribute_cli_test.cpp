// `featvis attribute` through the real binary: the files it writes, one-line errors for
// bad input (missing image, unknown target, wrong method, zero-size window), Ctrl-C.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/io/npy.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;

struct TinyWorkspace : featvis::testing::TinyModelDir {
  std::string photo = dir + "/photo.png";
  TinyWorkspace() {
    at::manual_seed(1);
    featvis::image::save_png(photo, at::rand({3, 12, 10}));
  }
};

TEST(AttributeCli, WritesHeatmapOverlayRawAndSummary) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/out/attr.png";
  const CommandResult r = run_featvis({"attribute", ws.model, ws.photo, "--method", "ig", "--steps", "8", "--target",
                                       "logit:2", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "ig");
  EXPECT_EQ(j["target"]["description"], "logit:2");
  EXPECT_EQ(j["options"]["steps"], 8);
  EXPECT_LT(j["completeness"]["relative_error"].get<double>(), 0.05);
  for (const std::string f : {"/out/attr.png", "/out/attr_overlay.png", "/out/attr.npy", "/out/attr.json"})
    EXPECT_TRUE(std::filesystem::exists(ws.dir + f)) << f;
  const at::Tensor raw = featvis::io::load_npy(ws.dir + "/out/attr.npy");
  EXPECT_EQ(raw.sizes(), (std::vector<int64_t>{3, 8, 8}));
  EXPECT_NEAR(raw.sum().item<double>(), j["completeness"]["attribution_sum"].get<double>(), 1e-4);
  EXPECT_EQ(nlohmann::json::parse(featvis::read_file(ws.dir + "/out/attr.json")), j);
  // Default target (top-1 class) and the table output.
  const CommandResult table = run_featvis({"attribute", ws.model, ws.photo, "--method", "gradcam", "--out", out});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("layer"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("logit:"), std::string::npos) << table.out;
}

// LRP on the tiny model (with biases): the table and JSON report conservation, the
// options name the composite, and an unknown composite is a one-line --lrp-composite error.
TEST(AttributeCli, LrpReportsConservationAndItsComposite) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/lrp.png";
  const CommandResult r = run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--lrp-composite",
                                       "epsilon-gamma-box", "--target", "logit:1", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "lrp");
  EXPECT_EQ(j["options"]["lrp_composite"], "epsilon-gamma-box");
  const at::Tensor raw = featvis::io::load_npy(ws.dir + "/lrp.npy");
  EXPECT_NEAR(raw.sum().item<double>(), j["conservation"]["relevance_sum"].get<double>(), 1e-4);
  EXPECT_NEAR(j["conservation"]["target_value"].get<double>(), j["target"]["value"].get<double>(), 1e-5);
  const CommandResult table = run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--out", out});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("conservation"), std::string::npos) << table.out;
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--lrp-composite", "flat", "--out", out}), 1,
      {"--lrp-composite: unknown LRP composite 'flat'", "epsilon-plus"});
  const CommandResult help = run_featvis({"attribute", "--help"});
  EXPECT_NE(help.out.find("epsilon-plus (default"), std::string::npos) << help.out;
}

TEST(AttributeCli, BadInputIsOneLine) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/bad.png";
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.dir + "/missing.jpg", "--out", out}), 1,
                        {"missing.jpg"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--target", "logit:7", "--out", out}), 1,
                        {"logit:7"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--target", "nolayer:1", "--out", out}), 1,
                        {"unknown layer 'nolayer'"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--method", "lime", "--out", out}), 1,
                        {"unknown attribution method 'lime'"});
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "occlusion", "--window", "0", "--out", out}), 1,
      {"occlusion window must be at least 1 pixel, got 0"});
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "occlusion", "--stride", "0", "--out", out}), 1,
      {"occlusion stride must be at least 1 pixel, got 0"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--baseline", "white", "--out", out}), 1,
                        {"baseline 'white'"});
  EXPECT_FALSE(std::filesystem::exists(out));
}

// SIGINT while a long SmoothGrad runs (10^8 samples, one forward pass each): the next
// poll stops it, stderr ends with one line saying so, nothing is written and the process
// dies of SIGINT (a shell reports 130), as `featvis render` does.
TEST(AttributeCli, CtrlCStopsWritesNothingAndSaysSoInOneLine) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/out/attr.png", err_path = ws.dir + "/sigint.err";
  std::vector<std::string> args{featvis::testing::featvis_binary(), "attribute", ws.model, ws.photo, "--method",
                                "smoothgrad", "--smooth-samples", "100000000", "--threads", "1", "--out", out};
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string interval = "FEATVIS_PROGRESS_SECONDS=0.2";  // a progress line: the handler is installed
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("FEATVIS_PROGRESS_SECONDS=", 0) != 0) envp.push_back(*e);
  envp.push_back(interval.data());
  envp.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout) || !freopen(err_path.c_str(), "w", stderr)) _exit(127);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  auto wait_for = [&](auto done, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return done();
  };
  const bool started = wait_for(
      [&] { return fs::exists(err_path) && featvis::read_file(err_path).find("smoothgrad: ") != std::string::npos; }, 60);
  kill(pid, SIGINT);
  const auto signalled = std::chrono::steady_clock::now();
  int status = 0;
  bool reaped = false;
  const bool exited = wait_for([&] { return reaped = reaped || waitpid(pid, &status, WNOHANG) == pid; }, 60);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(started) << "no progress line within 60 s";
  ASSERT_TRUE(exited) << "featvis attribute ignored SIGINT";
  EXPECT_LT(seconds, 10) << "a pass of one 8x8 image takes milliseconds";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
  std::vector<std::string> messages;  // the lines that are not progress lines
  std::istringstream err(featvis::read_file(err_path));
  for (std::string line; std::getline(err, line);)
    if (line.rfind("smoothgrad: ", 0) != 0) messages.push_back(line);
  ASSERT_EQ(messages.size(), 1u) << featvis::read_file(err_path);
  EXPECT_EQ(messages[0].rfind("featvis: smoothgrad interrupted after ", 0), 0u) << messages[0];
  EXPECT_NE(messages[0].find(" of 100000000 images; nothing written"), std::string::npos) << messages[0];
  EXPECT_FALSE(std::filesystem::exists(ws.dir + "/out"));
}

}  // namespace
