// A sharded Microscope build of a real model: shards as separate processes at the same
// time (K/N from --shard, a SLURM array and a Kubernetes Indexed Job), then `finalize`,
// give the same bytes as one process (manifest, pages, images); overlapping shards
// corrupt nothing; finalize names what is missing. Skips without ../shared.
#include "microscope/microscope_test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace {

using namespace featvis::testing;

// Small settings: 2 layers x 4 units in batches of 2 = 6 work items (2 layers, 4 batches).
std::vector<std::string> build_args(const std::string& site, const std::string& photos) {
  return {"microscope", "build", "darknet_tiny", "--out", site, "--layers", "leaky_re_lu_1,leaky_re_lu_4", "--units", "4",
          "--batch", "2", "--steps", "8", "--size", "64", "--diversity", "2", "--threads", "1", "-q", "--images", photos};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A featvis process started with extra environment variables; run several, then wait.
struct Running {
  pid_t pid = -1;
  std::string err;
};

Running start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  Running r;
  r.err = temp_dir() + "/stderr";
  const std::string out = temp_dir() + "/stdout";
  r.pid = fork();
  if (r.pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string binary = featvis_binary();
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(out.c_str(), "w", stdout) || !freopen(r.err.c_str(), "w", stderr)) _exit(127);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return r;
}

// Exit code, with stderr after it when not 0.
std::string finish(const Running& r) {
  int status = 0;
  waitpid(r.pid, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return code == 0 ? "0" : std::to_string(code) + ": " + featvis::read_file(r.err);
}

class MicroscopeShards : public ::testing::Test {
 protected:
  // The one-process build every sharded one is compared with, built once for the suite.
  static void SetUpTestSuite() {
    if (find_model_file("darknet_tiny_imagenet.onnx").empty() || sample_images_dir().empty()) return;
    dir_ = new std::string(temp_dir());
    fs::create_directories(photos());
    int n = 0;
    for (const auto& e : fs::directory_iterator(sample_images_dir())) {
      if (e.path().extension() != ".JPEG") continue;
      if (n++ == 6) break;
      fs::create_symlink(e.path(), photos() + "/" + e.path().filename().string());
    }
    one_ = new CommandResult(run_featvis(build_args(reference(), photos())));
  }
  static void TearDownTestSuite() {
    delete one_;
    delete dir_;
  }
  void SetUp() override {
    FEATVIS_REQUIRE_MODEL(model, "darknet_tiny_imagenet.onnx");
    FEATVIS_REQUIRE_IMAGES(images);
    ASSERT_EQ(one_->exit_code, 0) << one_->err;
  }
  static std::string photos() { return *dir_ + "/photos"; }
  static std::string reference() { return *dir_ + "/one"; }
  static std::string site(const std::string& name) { return *dir_ + "/" + name; }

  static std::string* dir_;
  static CommandResult* one_;
};
std::string* MicroscopeShards::dir_ = nullptr;
CommandResult* MicroscopeShards::one_ = nullptr;

TEST_F(MicroscopeShards, ThreeShardProcessesAndFinalizeEqualOneProcessByteForByte) {
  const std::string s = site("three");
  const std::vector<std::string> args = build_args(s, photos());
  // Shards need the examples scan first, and say so.
  expect_one_line_error(run_featvis(plus(args, {"--shard", "1/3"})), 1, {"no dataset examples", "--examples-only"});
  const CommandResult scan = run_featvis(plus(args, {"--examples-only"}));
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  EXPECT_TRUE(fs::is_regular_file(s + "/darknet_tiny/examples/index.json"));
  EXPECT_FALSE(fs::exists(s + "/darknet_tiny/build.json"));  // nothing rendered yet

  // At the same time, each finding its K/N another way.
  const std::vector<Running> shards{
      start(plus(args, {"--shard", "0/3"})),
      start(args, {{"SLURM_ARRAY_TASK_ID", "11"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_MIN", "10"}}),
      start(plus(args, {"--shard-count", "3"}), {{"JOB_COMPLETION_INDEX", "2"}})};
  for (const auto& r : shards) ASSERT_EQ(finish(r), "0");
  // No shard lays out the site.
  EXPECT_FALSE(fs::exists(s + "/darknet_tiny/manifest.json"));
  EXPECT_FALSE(fs::exists(s + "/darknet_tiny/index.html"));
  EXPECT_FALSE(fs::exists(s + "/index.html"));
  EXPECT_FALSE(fs::exists(s + "/darknet_tiny/leaky_re_lu_1/0/index.html"));

  // A rerun shard resumes: nothing left to do.
  const CommandResult again = run_featvis(plus(args, {"--shard", "2/3", "--json"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto summary = nlohmann::json::parse(again.out);
  EXPECT_EQ(summary["units_rendered"], 0);
  EXPECT_EQ(summary["shard"]["source"], "--shard");

  const CommandResult fin = run_featvis({"microscope", "finalize", s, "--json"});
  ASSERT_EQ(fin.exit_code, 0) << fin.err;
  const auto report = nlohmann::json::parse(fin.out);
  EXPECT_EQ(report[0]["units"], 8);
  EXPECT_EQ(report[0]["missing"].size(), 0u);
  EXPECT_EQ(tree_difference(s, reference()), "");
  EXPECT_EQ(unreadable_file(s), "");
  EXPECT_EQ(read_json(s + "/darknet_tiny/manifest.json")["lenses"],
            nlohmann::json({"channel", "neuron", "diversity", "examples", "deepdream", "attribution", "accentuation"}));
}

// Shards of two splits (0/2 with 0/3 and 1/3, as a wrong job script would) at the same
// time: units built twice are whole files of the same render, and finalize names the
// units nobody built until their shard runs.
TEST_F(MicroscopeShards, OverlappingShardsCorruptNothingAndFinalizeNamesTheMissing) {
  const std::string s = site("overlap");
  const std::vector<std::string> args = build_args(s, photos());
  ASSERT_EQ(run_featvis(plus(args, {"--examples-only"})).exit_code, 0);
  const std::vector<Running> shards{start(plus(args, {"--shard", "0/2"})), start(plus(args, {"--shard", "0/3"})),
                                    start(plus(args, {"--shard", "1/3"}))};
  for (const auto& r : shards) ASSERT_EQ(finish(r), "0");

  const CommandResult partial = run_featvis({"microscope", "finalize", s, "--shards", "3"});
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_NE(partial.err.find("missing (first: darknet_tiny "), std::string::npos) << partial.err;
  // Only shard 2 of 3 did not run: finalize names it.
  EXPECT_NE(partial.err.find("rerun shards 2 of 3"), std::string::npos) << partial.err;
  EXPECT_NE(partial.out.find("(shard 2/3)"), std::string::npos) << partial.out;
  EXPECT_EQ(partial.out.find("(shard 0/3)"), std::string::npos) << partial.out;
  EXPECT_EQ(std::count(partial.err.begin(), partial.err.end(), '\n'), 1) << partial.err;
  EXPECT_NE(partial.out.find("missing: leaky_re_lu_"), std::string::npos) << partial.out;
  // The partial site is browsable and its manifest says what it lacks.
  const auto manifest = read_json(s + "/darknet_tiny/manifest.json");
  size_t missing = 0;
  for (const auto& layer : manifest["layers"]) missing += layer.value("missing", nlohmann::json::array()).size();
  // Units of a built layer, or a whole layer (its layer.json) that no shard wrote yet.
  EXPECT_TRUE(missing > 0 || manifest["layers"].size() < 2) << manifest.dump();
  EXPECT_EQ(unreadable_file(s), "");

  ASSERT_EQ(finish(start(plus(args, {"--shard", "2/3"}))), "0");
  const CommandResult fin = run_featvis({"microscope", "finalize", s});
  ASSERT_EQ(fin.exit_code, 0) << fin.err;
  EXPECT_EQ(tree_difference(s, reference()), "");
}

// Checked before the model is opened: no real model needed.
TEST(MicroscopeShardCli, BadShardsAndSitesAreOneLineErrors) {
  const std::string s = temp_dir() + "/errors";
  const std::vector<std::string> args = build_args(s, temp_dir());
  expect_one_line_error(run_featvis(plus(args, {"--shard", "3/3"})), 1, {"--shard", "out of range"});
  expect_one_line_error(run_featvis(plus(args, {"--shard", "one/3"})), 1, {"--shard", "must be K/N"});
  expect_one_line_error(run_featvis(plus(args, {"--shard-count", "3"})), 1, {"JOB_COMPLETION_INDEX", "neither is set"});
  expect_one_line_error(run_featvis({"microscope", "finalize", s}), 1, {"not a directory"});
  fs::create_directories(s);
  expect_one_line_error(run_featvis({"microscope", "finalize", s}), 1, {"no microscope build"});
  const std::string conflict = finish(start(args, {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "3"},
                                                   {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "3"}}));
  EXPECT_EQ(conflict.rfind("1: featvis: error: --shard: shard 1/3 from SLURM_ARRAY_TASK_ID and 0/3 from OMPI_COMM_WORLD_RANK disagree", 0),
            0u)
      << conflict;
}

}  // namespace
