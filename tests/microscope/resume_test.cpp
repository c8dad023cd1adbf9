// Crash safety: kill -9 a `featvis microscope build` mid-way, resume it, and compare with
// an uninterrupted build of the same settings.
#include "microscope/microscope_test_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

using namespace featvis::testing;

std::vector<std::string> build_args(const TinyWorkspace& ws, const std::string& out) {
  return {"microscope", "build", ws.model, "--out", out, "--layers", "conv1,block2", "--units", "4", "--steps", "150",
          "--size", "16", "--batch", "1", "--diversity", "2", "--threads", "1", "-q", "--examples", ws.examples};
}

int count_done_units(const std::string& model_dir) {
  int n = 0;
  if (!fs::exists(model_dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(model_dir)) n += e.path().filename() == "unit.json";
  return n;
}

TEST(MicroscopeResume, KillNineThenResumeMatchesAnUninterruptedBuild) {
  TinyWorkspace ws;
  const std::string killed = ws.dir + "/killed", clean = ws.dir + "/clean";

  const std::vector<std::string> args = build_args(ws, killed);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv;
    const std::string bin = featvis_binary();
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  // Kill once some units are done and others are not.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (count_done_units(killed + "/tiny") < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the build ended before it was killed";
  const int done_before = count_done_units(killed + "/tiny");
  ASSERT_GE(done_before, 3);
  ASSERT_LT(done_before, 8);
  EXPECT_FALSE(fs::exists(killed + "/tiny/manifest.json"));

  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  resume.push_back("--json");
  const CommandResult r = run_featvis(resume);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["units_skipped"], done_before);
  EXPECT_EQ(summary["units_rendered"], 8 - done_before);

  ASSERT_EQ(run_featvis(build_args(ws, clean)).exit_code, 0);
  EXPECT_EQ(featvis::read_file(killed + "/tiny/manifest.json"), featvis::read_file(clean + "/tiny/manifest.json"));
  EXPECT_EQ(files_under(killed), files_under(clean));  // no stray temporaries, nothing missing
  EXPECT_EQ(unreadable_file(killed), "");
  for (const auto& layer : {"conv1", "block2"}) {
    for (int u = 0; u < 4; ++u) {
      const std::string rel = std::string("/tiny/") + layer + "/" + std::to_string(u) + "/unit.json";
      auto a = read_json(killed + rel), b = read_json(clean + rel);
      // Same files and structure; pixel values of re-grouped renders may differ.
      for (auto* j : {&a, &b})
        for (auto& [name, lens] : (*j)["lenses"].items()) lens.erase("activation");
      EXPECT_EQ(a, b) << rel;
    }
  }
}

}  // namespace
