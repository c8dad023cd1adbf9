// `featvis models` and `featvis fetch` as a user runs them.
#include "model/loopback_server.h"
#include "model/scoped_env.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/model/fetch.h>
#include <featvis/util/atomic_file.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace featvis {
namespace {

using testing::run_featvis;
using testing::ScopedEnv;

const std::string kTinyPre =
    R"("preprocessing": {"crop": "stretch", "width": 8, "height": 8, "mean": [0, 0, 0], "std": [255, 255, 255]})";

// Each test sees only the shipped cards plus what it puts in its own model directory.
class ModelsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir();
    home_ = std::make_unique<ScopedEnv>("HOME", testing::temp_dir());
    path_ = std::make_unique<ScopedEnv>("FEATVIS_MODEL_PATH", dir_);
  }
  std::string dir_;
  std::unique_ptr<ScopedEnv> home_, path_;
};

TEST_F(ModelsCliTest, Help) {
  const auto r = run_featvis({"models", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--verify"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FEATVIS_MODEL_PATH"), std::string::npos) << r.out;
}

TEST_F(ModelsCliTest, JsonListsEveryCardWithItsStatus) {
  testing::write_bytes(dir_ + "/tiny.onnx", testing::tiny_classifier_onnx(3, 8));
  write_file_atomically(dir_ + "/tiny.card.json",
                        R"({"name": "tiny_cli", "file": "tiny.onnx", "input": "input", "output": "logits", )" +
                            kTinyPre + "}");
  const auto r = run_featvis({"models", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("default"), "mobilenet_v2");
  EXPECT_EQ(j.at("search_path").at(0), dir_);
  std::map<std::string, nlohmann::json> models;
  for (const auto& m : j.at("models")) models[m.at("name").get<std::string>()] = m;
  for (const char* name : {"mobilenet_v2", "mobilenet_v1", "darknet_tiny", "mobilenetv2_7", "squeezenet1_1",
                           "resnet18_v2", "resnet50_v1", "tiny_cli"})
    ASSERT_TRUE(models.count(name)) << name;

  const auto& tiny = models["tiny_cli"];
  EXPECT_EQ(tiny.at("status"), "found");
  EXPECT_EQ(tiny.at("path"), dir_ + "/tiny.onnx");
  EXPECT_EQ(tiny.at("card"), dir_ + "/tiny.card.json");
  EXPECT_EQ(tiny.at("fetchable"), false);
  EXPECT_EQ(tiny.at("default"), false);

  const auto& v2 = models["mobilenet_v2"];
  EXPECT_EQ(v2.at("default"), true);
  EXPECT_EQ(v2.at("fetchable"), false);
  const bool shared = !testing::find_model_file("mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx").empty();
  if (shared) {
    EXPECT_EQ(v2.at("labels").get<std::string>().substr(v2.at("labels").get<std::string>().rfind('/') + 1),
              "imagenet_labels.txt");
  }
  EXPECT_EQ(v2.at("status"), shared ? "found" : "missing");
  EXPECT_EQ(v2.at("path").is_null(), !shared);

  const auto& zoo = models["squeezenet1_1"];
  EXPECT_EQ(zoo.at("fetchable"), true);
  EXPECT_EQ(zoo.at("sha256"), "1eeff551a67ae8d565ca33b572fc4b66e3ef357b0eb2863bb9ff47a918cc4088");
}

TEST_F(ModelsCliTest, TableMarksDefaultAndMissing) {
  write_file_atomically(dir_ + "/ghost.card.json",
                        R"({"name": "ghost", "file": "ghost.onnx", "input": "input", "output": "logits", )" +
                            kTinyPre + "}");
  const auto r = run_featvis({"models"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mobilenet_v2 *"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ghost.onnx (no download URL; copy it onto the search path)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(get it: featvis fetch resnet18_v2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Search path: " + dir_ + ", ./models"), std::string::npos) << r.out;
}

TEST_F(ModelsCliTest, BadCardIsOneLineNamingFileAndField) {
  write_file_atomically(dir_ + "/bad.card.json",
                        R"({"name": "bad", "file": "bad.onnx", "input": "input", "output": "logits",
                            "preprocessing": {"crop": "stretch", "width": 8, "height": 8,
                                              "mean": [0, 0, 0], "std": [1, 0, 1]}})");
  const auto r = run_featvis({"models", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "featvis: error: card '" + dir_ + "/bad.card.json': field 'preprocessing.std' must be 3 positive numbers\n");
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(ModelsCliTest, VerifyReportsAWrongFile) {
  testing::write_bytes(dir_ + "/tiny.onnx", testing::tiny_classifier_onnx(3, 8));
  write_file_atomically(dir_ + "/tiny.card.json",
                        R"({"name": "tiny_cli", "file": "tiny.onnx", "input": "input", "output": "logits", "sha256": ")" +
                            std::string(64, 'b') + "\", " + kTinyPre + "}");
  const auto r = run_featvis({"models", "--json", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& m : nlohmann::json::parse(r.out).at("models")) {
    if (m.at("name") != "tiny_cli") continue;
    EXPECT_EQ(m.at("status"), "sha256 mismatch");
    EXPECT_EQ(m.at("sha256_actual"), model::sha256_file(dir_ + "/tiny.onnx"));
  }
}

TEST_F(ModelsCliTest, FetchWithoutUrlSaysSo) {
  const auto r = run_featvis({"fetch", "mobilenet_v2", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("featvis: error: --url: model 'mobilenet_v2' has no official download URL (converted locally", 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(ModelsCliTest, FetchUnknownName) {
  const auto r = run_featvis({"fetch", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown model 'nope' (downloadable: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("squeezenet1_1"), std::string::npos) << r.err;
}

TEST_F(ModelsCliTest, FetchFromLoopbackThenModelsFindsIt) {
  const std::string body = testing::tiny_classifier_onnx(3, 8);
  testing::LoopbackServer server(body);
  const std::string body_path = testing::temp_dir() + "/body.onnx";
  testing::write_bytes(body_path, body);
  const std::string cards = testing::temp_dir();
  const std::string downloads = testing::temp_dir();
  write_file_atomically(cards + "/web.card.json",
                        R"({"name": "web_tiny", "file": "web_tiny.onnx", "input": "input", "output": "logits", "url": ")" +
                            server.url("/moved") + R"(", "sha256": ")" + model::sha256_file(body_path) + "\", " + kTinyPre + "}");
  ScopedEnv path("FEATVIS_MODEL_PATH", cards + ":" + downloads);

  const auto r = run_featvis({"fetch", "web_tiny", "--dir", downloads});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("saved web_tiny to " + downloads + "/web_tiny.onnx (", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("verified"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("fetching web_tiny.onnx: "), std::string::npos) << r.err;  // progress line
  // stderr is a file here, as in a CI or SLURM log: whole lines, the last one complete.
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(100%)\n"), std::string::npos) << r.err;

  const auto again = run_featvis({"fetch", "web_tiny", "--dir", downloads});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("is already at"), std::string::npos) << again.out;
  EXPECT_EQ(server.model_requests(), 1);

  const auto list = run_featvis({"models", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const auto& m : nlohmann::json::parse(list.out).at("models"))
    if (m.at("name") == "web_tiny") EXPECT_EQ(m.at("path"), downloads + "/web_tiny.onnx");
}

TEST_F(ModelsCliTest, FetchWrongHashFailsAndLeavesNothing) {
  testing::LoopbackServer server("not the model");
  const std::string downloads = testing::temp_dir();
  write_file_atomically(dir_ + "/web.card.json",
                        R"({"name": "web_bad", "file": "web_bad.onnx", "input": "input", "output": "logits", "url": ")" +
                            server.url("/model.onnx") + R"(", "sha256": ")" + std::string(64, 'c') + "\", " + kTinyPre +
                            "}");
  const auto r = run_featvis({"fetch", "web_bad", "--dir", downloads});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("but card 'web_bad' expects " + std::string(64, 'c') + "; the file was deleted"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(downloads));
}

}  // namespace
}  // namespace featvis
