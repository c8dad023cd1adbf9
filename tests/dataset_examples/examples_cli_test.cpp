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

TEST(ExamplesCli, NoCropsWritesTheIndexWithBoxesAndNoCropFiles) {
  Workspace ws;
  const std::string out = ws.dir + "/out";
  const auto r = run_featvis({"examples", ws.model, "--images", ws.photos, "--out", out, "--top", "2", "--threads", "1",
                              "--no-crops", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["crops"].is_null());
  const auto index = featvis::dataset_examples::read_examples_index(out + "/index.json");
  int entries = 0;
  for (const auto& u : index.layers[0].units)
    for (const auto& e : u.top_max) {
      ++entries;
      EXPECT_TRUE(e.crop.empty());
      EXPECT_TRUE(e.position.has_value());
      EXPECT_GT(e.box[2], e.box[0]);
    }
  EXPECT_GT(entries, 0);
  EXPECT_FALSE(fs::exists(out + "/crops"));
}

// --crop-size on the real model: logits see the whole 224x224 input, so every crop is
// exactly the size asked for; a mid layer's 75x75 fields shrink to it.
TEST(ExamplesCli, CropSizeIsHonoured) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(samples);
  const std::string photos = featvis::testing::temp_dir(), out = featvis::testing::temp_dir() + "/out";
  for (const char* name : {"n01440764_tench.JPEG", "n01443537_goldfish.JPEG"})
    fs::create_symlink(fs::path(samples) / name, fs::path(photos) / name);
  const auto r = run_featvis({"examples", "mobilenet_v2", "--images", photos, "--out", out, "--layers",
                              "logits,MobileNetV2/expanded_conv_8/expand", "--top", "1", "--threads", "1", "--crop-size",
                              "40", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["crops"]["size"], 40);
  const auto index = featvis::dataset_examples::read_examples_index(out + "/index.json");
  for (const auto& layer : index.layers)
    for (size_t u = 0; u < layer.units.size(); u += 50) {
      const auto& e = layer.units[u].top_max.at(0);
      const at::Tensor crop = featvis::image::load_image_rgb8(out + "/" + e.crop);
      const int64_t longest = std::max(e.box[2] - e.box[0], e.box[3] - e.box[1]);
      EXPECT_EQ(std::max(crop.size(0), crop.size(1)), std::min<int64_t>(40, longest)) << e.crop;
      if (layer.name == "logits") EXPECT_EQ(crop.size(0), 40);
    }
}

TEST(ExamplesCli, BadCropFlagsAreOneLineErrors) {
  Workspace ws(1);
  const std::string out = ws.dir + "/out";
  const std::vector<std::string> base{"examples", ws.model, "--images", ws.photos, "--out", out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_featvis(args);
  };
  expect_one_line_error(with({"--crop-size", "4"}), 1, {"--crop-size", "8-1024 pixels, not 4"});
  expect_one_line_error(with({"--crop-size", "2000"}), 1, {"--crop-size", "not 2000"});
  expect_one_line_error(with({"--crop-size", "big"}), 2, {"--crop-size"});
  expect_one_line_error(with({"--crop-quality", "0"}), 1, {"--crop-quality", "1-100"});
  expect_one_line_error(with({"--no-crops", "--crop-size", "64"}), 2, {"--crop-size", "excludes", "--no-crops"});
  EXPECT_FALSE(fs::exists(out + "/index.json"));  // checked before the scan
  const auto help = run_featvis({"examples", "--help"});
  EXPECT_NE(help.out.find("--no-crops"), std::string::npos);
  EXPECT_NE(help.out.find("--crop-size"), std::string::npos);
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
