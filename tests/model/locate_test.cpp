// Finding models: the search path and FEATVIS_MODEL_PATH, references by card name, by
// .onnx path and by .card.json path, labels, and the errors for what is missing.
#include "model/scoped_env.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace featvis {
namespace {

using testing::ScopedEnv;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string tiny_card(const std::string& name, const std::string& file, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "file": ")" + file + R"(", "input": "input", "output": "logits", )" + extra +
         R"("preprocessing": {"crop": "stretch", "width": 8, "height": 8, "mean": [0, 0, 0], "std": [255, 255, 255]}})";
}

using testing::error_of;
// A model directory on FEATVIS_MODEL_PATH with a 3-class model, its card and labels;
// HOME points at an empty directory so the user's ~/.cache cannot interfere.
class ModelsLocateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir();
    home_ = std::make_unique<ScopedEnv>("HOME", testing::temp_dir());
    path_ = std::make_unique<ScopedEnv>("FEATVIS_MODEL_PATH", dir_);
    testing::write_bytes(dir_ + "/tiny.onnx", testing::tiny_classifier_onnx(3, 8));
    write_text(dir_ + "/tiny.card.json",
               tiny_card("tiny_test", "tiny.onnx", R"("classes": 3, "labels_file": "tiny_labels.txt", )"));
    write_text(dir_ + "/tiny_labels.txt", "apple\nbanana\ncherry\n");
  }

  std::string dir_;
  std::unique_ptr<ScopedEnv> home_, path_;
};

TEST(ModelsSearchPathTest, EnvironmentEntriesComeFirstInOrder) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::string("/tmp/fv-a::/tmp/fv-b:"));
  const auto dirs = model::model_search_path();
  ASSERT_GE(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], "/tmp/fv-a");
  EXPECT_EQ(dirs[1], "/tmp/fv-b");  // empty entries are skipped
  EXPECT_EQ(dirs[2], "./models");
}

TEST(ModelsSearchPathTest, DefaultsWithoutEnvironment) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  ScopedEnv home("HOME", std::string("/tmp/fv-home"));
  const auto dirs = model::model_search_path();
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs.front(), "./models");
  EXPECT_NE(std::find(dirs.begin(), dirs.end(), "../shared/models"), dirs.end());
  EXPECT_EQ(dirs.back(), "/tmp/fv-home/.cache/featvis/models");
  EXPECT_EQ(model::default_download_dir(), "/tmp/fv-home/.cache/featvis/models");
  // <source>/../shared/models is listed unless it is the same directory as ../shared/models.
  const std::string source_shared = (fs::path(testing::source_dir()) / "../shared/models").lexically_normal().string();
  const bool same = fs::weakly_canonical("../shared/models") == fs::weakly_canonical(source_shared);
  EXPECT_EQ(std::find(dirs.begin(), dirs.end(), source_shared) != dirs.end(), !same);
}

TEST(ModelsSearchPathTest, SameDirectoryListedOnce) {
  const std::string d = testing::temp_dir();
  ScopedEnv env("FEATVIS_MODEL_PATH", d + ":" + d + "/:" + d + "/.");
  const auto dirs = model::model_search_path();
  EXPECT_EQ(std::count(dirs.begin(), dirs.end(), d), 1);
  EXPECT_EQ(dirs[1], "./models");
}

TEST(ModelsSearchPathTest, NoHomeMeansNoDownloadDirectory) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  ScopedEnv home("HOME", std::nullopt);
  EXPECT_EQ(model::default_download_dir(), "");
  for (const auto& d : model::model_search_path()) EXPECT_EQ(d.find(".cache"), std::string::npos) << d;
}

TEST_F(ModelsLocateTest, ShippedCardsAreKnownAndMobileNetV2IsDefault) {
  const auto cards = model::known_cards();
  std::vector<std::string> names;
  for (const auto& c : cards) names.push_back(c.name);
  for (const char* n : {"mobilenet_v2", "mobilenet_v1", "darknet_tiny", "tiny_test"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(model::default_model_name(), "mobilenet_v2");
}

TEST_F(ModelsLocateTest, FirstCardWithANameWins) {
  // A card on the search path cannot silently replace a shipped card of the same name.
  write_text(dir_ + "/impostor.card.json", tiny_card("mobilenet_v2", "tiny.onnx"));
  for (const auto& c : model::known_cards())
    if (c.name == "mobilenet_v2") EXPECT_EQ(c.file, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
}

TEST_F(ModelsLocateTest, MalformedCardOnSearchPathIsAnError) {
  write_text(dir_ + "/bad.card.json", R"({"name": "bad", "file": "b.onnx", "input": "i", "output": "o",
      "preprocessing": {"crop": "stretch", "width": 8, "height": 8, "mean": [0, 0, 0], "std": [1, 0, 1]}})");
  EXPECT_EQ(error_of([] { model::known_cards(); }),
            "card '" + dir_ + "/bad.card.json': field 'preprocessing.std' must be 3 positive numbers");
}

TEST_F(ModelsLocateTest, ByName) {
  const model::ModelLocation loc = model::locate_model("tiny_test");
  EXPECT_EQ(loc.onnx_path, dir_ + "/tiny.onnx");
  EXPECT_EQ(loc.card.card_path, dir_ + "/tiny.card.json");
  EXPECT_EQ(loc.labels_path, dir_ + "/tiny_labels.txt");
  EXPECT_EQ(loc.card.labels, (std::vector<std::string>{"apple", "banana", "cherry"}));
  EXPECT_TRUE(loc.note.empty());
  ASSERT_FALSE(loc.searched.empty());
  EXPECT_EQ(loc.searched.front(), dir_);  // beside the card first
}

TEST_F(ModelsLocateTest, LoadByNameChecksTheGraph) {
  const model::Model m = model::load_model("tiny_test");
  EXPECT_EQ(m.onnx_path, dir_ + "/tiny.onnx");
  EXPECT_TRUE(m.graph.has_tensor("logits"));
  EXPECT_EQ(m.label(1), "banana");
  EXPECT_EQ(m.label(3), "class 3");
  EXPECT_EQ(m.label(-1), "class -1");
  EXPECT_TRUE(m.note.empty());
}

TEST_F(ModelsLocateTest, ByOnnxPathFindsStemCard) {
  const model::ModelLocation loc = model::locate_model(dir_ + "/tiny.onnx");
  EXPECT_EQ(loc.card.name, "tiny_test");
  EXPECT_EQ(loc.onnx_path, dir_ + "/tiny.onnx");
  EXPECT_EQ(loc.card.labels.size(), 3u);
}

TEST_F(ModelsLocateTest, ByOnnxPathFindsFileCardFirst) {
  const std::string d = testing::temp_dir();
  testing::write_bytes(d + "/net.onnx", testing::tiny_classifier_onnx(3, 8));
  write_text(d + "/net.onnx.card.json", tiny_card("from_file_card", "net.onnx"));
  write_text(d + "/net.card.json", tiny_card("from_stem_card", "net.onnx"));
  EXPECT_EQ(model::locate_model(d + "/net.onnx").card.name, "from_file_card");
}

TEST_F(ModelsLocateTest, BareOnnxFileNameIsLookedUpOnTheSearchPath) {
  EXPECT_EQ(model::locate_model("tiny.onnx").onnx_path, dir_ + "/tiny.onnx");
}

TEST_F(ModelsLocateTest, ByCardPath) {
  const std::string d = testing::temp_dir();
  write_text(d + "/elsewhere.card.json", tiny_card("elsewhere", "tiny.onnx"));
  const model::ModelLocation loc = model::locate_model(d + "/elsewhere.card.json");
  EXPECT_EQ(loc.card.name, "elsewhere");
  EXPECT_EQ(loc.onnx_path, dir_ + "/tiny.onnx");  // not beside the card, so from the search path
  ASSERT_GE(loc.searched.size(), 2u);
  EXPECT_EQ(loc.searched[0], d);
  EXPECT_EQ(loc.searched[1], dir_);
}

TEST_F(ModelsLocateTest, OnnxWithoutCardUsesGraphDefaultsAndSaysSo) {
  const std::string d = testing::temp_dir();
  testing::write_bytes(d + "/anon.onnx", testing::tiny_classifier_onnx(5, 16));
  const model::ModelLocation loc = model::locate_model(d + "/anon.onnx");
  EXPECT_EQ(loc.card.name, "anon");
  EXPECT_NE(loc.note.find("no card for '" + d + "/anon.onnx'"), std::string::npos) << loc.note;
  const model::Model m = model::load_model(d + "/anon.onnx");
  EXPECT_EQ(m.card.input, "input");
  EXPECT_EQ(m.card.output, "logits");
  EXPECT_EQ(m.card.preprocessing.width, 16);
  EXPECT_EQ(m.card.preprocessing.height, 16);
  EXPECT_EQ(m.card.preprocessing.resize, 18);  // 16 * 256 / 224, rounded down
  EXPECT_FLOAT_EQ(m.card.preprocessing.std[0], 255.f);
  EXPECT_TRUE(m.card.labels.empty());
  EXPECT_EQ(m.label(2), "class 2");
  EXPECT_FALSE(m.note.empty());
}

TEST_F(ModelsLocateTest, UnknownNameListsKnownOnes) {
  const std::string msg = error_of([] { model::locate_model("no_such_model"); });
  EXPECT_EQ(msg.rfind("unknown model 'no_such_model' (known: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("mobilenet_v2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tiny_test"), std::string::npos) << msg;
}

TEST_F(ModelsLocateTest, MissingModelFileNamesEverySearchedDirectory) {
  write_text(dir_ + "/ghost.card.json", tiny_card("ghost", "ghost.onnx"));
  const model::ModelLocation loc = model::locate_model("ghost");
  EXPECT_TRUE(loc.onnx_path.empty());
  const std::string msg = error_of([] { model::load_model("ghost"); });
  std::string searched;
  for (const auto& d : loc.searched) searched += (searched.empty() ? "" : ", ") + d;
  EXPECT_EQ(msg, "model 'ghost' not found; searched: " + searched + " for 'ghost.onnx'");
  EXPECT_NE(msg.find(dir_), std::string::npos);
  EXPECT_NE(msg.find("./models"), std::string::npos);
  EXPECT_NE(msg.find("../shared/models"), std::string::npos);
}

TEST_F(ModelsLocateTest, MissingFetchableModelSuggestsFetch) {
  write_text(dir_ + "/web.card.json",
             tiny_card("web_model", "web.onnx",
                       R"("url": "http://127.0.0.1:9/web.onnx", "sha256": ")" + std::string(64, 'a') + R"(", )"));
  const std::string msg = error_of([] { model::load_model("web_model"); });
  EXPECT_NE(msg.find("not found; searched: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("download it with `featvis fetch web_model`"), std::string::npos) << msg;
}

TEST_F(ModelsLocateTest, MissingOnnxPathIsAnError) {
  EXPECT_EQ(error_of([] { model::locate_model("/nonexistent/x.onnx"); }),
            "model '/nonexistent/x.onnx' not found; searched: /nonexistent/x.onnx");
  const std::string msg = error_of([] { model::locate_model("nothing-here.onnx"); });
  EXPECT_EQ(msg.rfind("model 'nothing-here.onnx' not found; searched: . (current directory), " + dir_, 0), 0u)
      << msg;
  EXPECT_EQ(error_of([] { model::locate_model("/nonexistent/x.card.json"); }), "card '/nonexistent/x.card.json' not found");
}

TEST_F(ModelsLocateTest, LabelCountMustMatchClasses) {
  write_text(dir_ + "/tiny_labels.txt", "apple\nbanana\n");
  const std::string msg = error_of([] { model::locate_model("tiny_test"); });
  EXPECT_EQ(msg, "card '" + dir_ + "/tiny.card.json': labels file '" + dir_ +
                     "/tiny_labels.txt' has 2 lines but field 'classes' is 3");
}

TEST_F(ModelsLocateTest, ClassesDefaultToLabelCount) {
  write_text(dir_ + "/nocount.card.json", tiny_card("nocount", "tiny.onnx", R"("labels_file": "tiny_labels.txt", )"));
  EXPECT_EQ(model::locate_model("nocount").card.num_classes, 3);
}

TEST_F(ModelsLocateTest, MissingLabelsFileFailsLoad) {
  fs::remove(dir_ + "/tiny_labels.txt");
  EXPECT_TRUE(model::locate_model("tiny_test").labels_path.empty());
  const std::string msg = error_of([] { model::load_model("tiny_test"); });
  EXPECT_EQ(msg.rfind("labels file 'tiny_labels.txt' of model 'tiny_test' not found", 0), 0u) << msg;
}

TEST_F(ModelsLocateTest, LabelsFoundBesideTheOnnxWhenNotBesideTheCard) {
  const std::string d = testing::temp_dir();
  write_text(d + "/split.card.json", tiny_card("split", "tiny.onnx", R"("labels_file": "tiny_labels.txt", )"));
  const model::ModelLocation loc = model::locate_model(d + "/split.card.json");
  EXPECT_EQ(loc.labels_path, dir_ + "/tiny_labels.txt");
}

TEST_F(ModelsLocateTest, CardTensorsMustExistInTheGraph) {
  write_text(dir_ + "/badout.card.json",
             R"({"name": "badout", "file": "tiny.onnx", "input": "input", "output": "logitz",
                 "preprocessing": {"crop": "stretch", "width": 8, "height": 8, "mean": [0,0,0], "std": [1,1,1]}})");
  const std::string out_msg = error_of([] { model::load_model("badout"); });
  EXPECT_EQ(out_msg.rfind("card '" + dir_ + "/badout.card.json': field 'output': unknown layer 'logitz'", 0), 0u)
      << out_msg;
  EXPECT_NE(out_msg.find("'logits'"), std::string::npos) << out_msg;  // the close match is suggested

  write_text(dir_ + "/badin.card.json",
             R"({"name": "badin", "file": "tiny.onnx", "input": "conv1", "output": "logits",
                 "preprocessing": {"crop": "stretch", "width": 8, "height": 8, "mean": [0,0,0], "std": [1,1,1]}})");
  const std::string in_msg = error_of([] { model::load_model("badin"); });
  EXPECT_EQ(in_msg.rfind("card '" + dir_ + "/badin.card.json': field 'input': ", 0), 0u) << in_msg;
}

TEST(CardLabelsFileTest, TrailingBlankLinesAndCrlfAreFine) {
  const std::string d = testing::temp_dir();
  write_text(d + "/l.txt", "a, alpha\r\nb\r\n\n\n");
  EXPECT_EQ(model::read_labels_file(d + "/l.txt"), (std::vector<std::string>{"a, alpha", "b"}));
  write_text(d + "/nonl.txt", "a\nb");
  EXPECT_EQ(model::read_labels_file(d + "/nonl.txt").size(), 2u);
}

TEST(CardLabelsFileTest, BlankLineInTheMiddleIsAnError) {
  const std::string d = testing::temp_dir();
  write_text(d + "/l.txt", "a\n\nc\n");
  EXPECT_EQ(error_of([&] { model::read_labels_file(d + "/l.txt"); }),
            "labels file '" + d + "/l.txt': line 2 is empty (line i names class i-1, so every line needs a label)");
  write_text(d + "/empty.txt", "\n");
  EXPECT_EQ(error_of([&] { model::read_labels_file(d + "/empty.txt"); }), "labels file '" + d + "/empty.txt' is empty");
  EXPECT_EQ(error_of([&] { model::read_labels_file(d + "/none.txt"); }), "cannot read labels file '" + d + "/none.txt'");
}

}  // namespace
}  // namespace featvis
