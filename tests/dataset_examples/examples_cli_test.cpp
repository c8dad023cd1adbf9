// `featvis examples` through the real binary: output on a synthetic model and photos,
// Ctrl-C and resume, and one-line errors for bad input.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/dataset_examples/index.h>
#include <featvis/image/image.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;

struct Workspace : featvis::testing::TinyModelDir {
  std::string photos = dir + "/photos";
  explicit Workspace(int count = 5) {
    at::manual_seed(3);
    for (int i = 0; i < count; ++i) {
      fs::create_directories(photos + "/sub");
      featvis::image::save_png(photos + (i % 2 ? "/sub/" : "/") + "p" + std::to_string(i) + ".png", at::rand({3, 9, 11}));
    }
  }
};

TEST(ExamplesCli, WritesTheIndexAndCrops) {
  Workspace ws;
  const std::string out = ws.dir + "/out";
  const auto r = run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--top", "3", "--threads", "1",
                              "--batch", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["images"], 5);
  EXPECT_EQ(summary["images_scanned"], 5);
  const auto index = featvis::dataset_examples::read_examples_index(out + "/index.json");
  ASSERT_EQ(index.layers.size(), 1u);  // --layers all: the card's one layer
  EXPECT_EQ(index.layers[0].name, "conv1");
  EXPECT_EQ(index.images_root, fs::canonical(ws.photos).string());
  EXPECT_EQ(index.images.size(), 5u);
  for (const auto& u : index.layers[0].units)
    for (const auto& e : u.top_max) EXPECT_TRUE(fs::is_regular_file(out + "/" + e.crop)) << e.crop;
  EXPECT_FALSE(fs::exists(out + "/checkpoint.cbor"));
  const auto table = run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--layers", "conv1,logits"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("whole input"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("3x3 /1"), std::string::npos) << table.out;
}

TEST(ExamplesCli, CtrlCSavesACheckpointAndTheSameCommandResumes) {
  Workspace ws(300);
  const std::string out = ws.dir + "/out";
  const std::vector<std::string> args{"examples", ws.model, "--images", ws.photos, "--out", out, "--batch", "1",
                                      "--checkpoint-every", "1", "--threads", "1", "--top", "2", "--json"};
  const std::string err_path = ws.dir + "/stderr";
  const pid_t pid = fork();
  if (pid == 0) {
    std::string binary = featvis::testing::featvis_binary();
    std::vector<std::string> copy = args;
    std::vector<char*> argv{binary.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen("/dev/null", "w", stdout) || !freopen(err_path.c_str(), "w", stderr)) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Interrupt as soon as the first batch is saved.
  for (int i = 0; i < 20000 && !fs::exists(out + "/checkpoint.cbor"); ++i) usleep(1000);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) GTEST_SKIP() << "the scan finished before SIGINT arrived";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
  ASSERT_TRUE(fs::exists(out + "/checkpoint.cbor"));
  EXPECT_FALSE(fs::exists(out + "/index.json"));
  const auto r = run_featvis(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resumed from"), std::string::npos) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_GT(summary["resumed_from"].get<int>(), 0);
  EXPECT_EQ(summary["resumed_from"].get<int>() + summary["images_scanned"].get<int>(), 300);
  EXPECT_TRUE(fs::exists(out + "/index.json"));
}

TEST(ExamplesCli, BadInputIsOneLineErrors) {
  Workspace ws;
  const std::string out = ws.dir + "/out";
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.dir + "/missing", "--out", out}), 1,
                        {"image folder", "missing", "does not exist"});
  fs::create_directories(ws.dir + "/empty");
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.dir + "/empty", "--out", out}), 1,
                        {"empty", "holds no .jpg, .jpeg, .png, .webp, .tif or .tiff files"});
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--layers", "conv2"}), 1,
                        {"unknown layer 'conv2'"});
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--top", "0"}), 2,
                        {"--top"});
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--layers", "all,conv1"}),
                        1, {"'all' cannot be combined"});
  expect_one_line_error(run_featvis({"examples", ws.model, "--images", ws.photos}), 2, {"--out"});
}

}  // namespace
