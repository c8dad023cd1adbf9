// Model card parsing: a good card round-trips every field, and each kind of mistake is
// reported on one line naming the card file and the field.
#include <featvis/model/card.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>

namespace featvis {
namespace {

using nlohmann::json;

json good_card() {
  return json::parse(R"({
    "name": "tiny_v1",
    "description": "a test card",
    "default": true,
    "file": "tiny.onnx",
    "sha256": "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
    "url": "https://example.invalid/tiny.onnx",
    "source": "made up",
    "input": "input",
    "output": "logits",
    "classes": 3,
    "labels_file": "tiny_labels.txt",
    "preprocessing": {"crop": "resize_crop", "resize": 40, "width": 32, "height": 24,
                      "mean": [1, 2.5, 3], "std": [4, 5, 6.5], "channels": "bgr"},
    "layers": [{"name": "conv1", "title": "first conv", "visualize": "conv1/preact"}, {"name": "pool"}],
    "comment": "free text"
  })");
}

model::ModelCard parse(const json& j) { return model::ModelCard::from_json_text(j.dump(), "x.card.json"); }

TEST(CardTest, GoodCardKeepsEveryField) {
  const model::ModelCard c = parse(good_card());
  EXPECT_EQ(c.name, "tiny_v1");
  EXPECT_EQ(c.description, "a test card");
  EXPECT_TRUE(c.is_default);
  EXPECT_EQ(c.file, "tiny.onnx");
  EXPECT_EQ(c.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // lower-cased
  EXPECT_EQ(c.url, "https://example.invalid/tiny.onnx");
  EXPECT_EQ(c.source, "made up");
  EXPECT_EQ(c.input, "input");
  EXPECT_EQ(c.output, "logits");
  EXPECT_EQ(c.num_classes, 3);
  EXPECT_EQ(c.labels_file, "tiny_labels.txt");
  EXPECT_EQ(c.card_path, "x.card.json");
  const model::Preprocessing& p = c.preprocessing;
  EXPECT_EQ(p.crop, model::Preprocessing::Crop::kResizeCrop);
  EXPECT_EQ(p.resize, 40);
  EXPECT_EQ(p.width, 32);
  EXPECT_EQ(p.height, 24);
  EXPECT_FLOAT_EQ(p.mean[1], 2.5f);
  EXPECT_FLOAT_EQ(p.std[2], 6.5f);
  EXPECT_TRUE(p.bgr);
  ASSERT_EQ(c.layers.size(), 2u);
  EXPECT_EQ(c.layers[0].title, "first conv");
  EXPECT_EQ(c.layers[1].title, "pool");  // title defaults to the tensor name
  EXPECT_EQ(c.layers[0].visualization_tensor(), "conv1/preact");
  EXPECT_EQ(c.layers[1].visualization_tensor(), "pool");  // none named: the layer itself
  EXPECT_EQ(c.visualization_tensor("conv1"), "conv1/preact");
  EXPECT_EQ(c.visualization_tensor("pool"), "pool");
  EXPECT_EQ(c.visualization_tensor("conv1/preact"), "conv1/preact");  // not a card layer
  EXPECT_TRUE(c.labels.empty());           // labels are read by locate_model, not the parser
}

TEST(CardTest, MinimalCardUsesDefaults) {
  const model::ModelCard c = model::ModelCard::from_json_text(R"({"name": "m", "file": "m.onnx", "input": "x", "output": "y",
      "preprocessing": {"crop": "central_fraction", "central_fraction": 0.5, "width": 10, "height": 10,
                        "mean": [0, 0, 0], "std": [1, 1, 1]}})",
                                                "m.card.json");
  EXPECT_FALSE(c.is_default);
  EXPECT_TRUE(c.sha256.empty());
  EXPECT_TRUE(c.url.empty());
  EXPECT_EQ(c.num_classes, 0);
  EXPECT_TRUE(c.layers.empty());
  EXPECT_EQ(c.preprocessing.crop, model::Preprocessing::Crop::kCentralFraction);
  EXPECT_DOUBLE_EQ(c.preprocessing.central_fraction, 0.5);
  EXPECT_FALSE(c.preprocessing.bgr);
}

TEST(CardTest, StretchCrop) {
  json j = good_card();
  j["preprocessing"] = {{"crop", "stretch"}, {"width", 8}, {"height", 8}, {"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  EXPECT_EQ(parse(j).preprocessing.crop, model::Preprocessing::Crop::kStretch);
}

struct BadCase {
  std::string what;
  std::function<void(json&)> mutate;
  std::string expected;  // substring of the message after "card 'x.card.json': "
};

class BadCardTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCardTest, NamesCardAndField) {
  json j = good_card();
  GetParam().mutate(j);
  try {
    parse(j);
    FAIL() << GetParam().what << ": no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("card 'x.card.json': ", 0), 0u) << msg;
    EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << GetParam().what << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

void drop(json& j, const std::string& key) { j.erase(key); }

INSTANTIATE_TEST_SUITE_P(
    Fields, BadCardTest,
    ::testing::Values(
        BadCase{"no name", [](json& j) { drop(j, "name"); }, "field 'name' is required"},
        BadCase{"empty name", [](json& j) { j["name"] = ""; }, "field 'name' must not be empty"},
        BadCase{"name with space", [](json& j) { j["name"] = "my model"; }, "field 'name' must use only"},
        BadCase{"name is a file", [](json& j) { j["name"] = "m.onnx"; }, "field 'name' must be a short id"},
        BadCase{"description number", [](json& j) { j["description"] = 3; }, "field 'description' must be a string"},
        BadCase{"default string", [](json& j) { j["default"] = "yes"; }, "field 'default' must be true or false"},
        BadCase{"no file", [](json& j) { drop(j, "file"); }, "field 'file' is required"},
        BadCase{"file not onnx", [](json& j) { j["file"] = "m.pt"; }, "field 'file' must name an .onnx file"},
        BadCase{"short sha", [](json& j) { j["sha256"] = "abc"; }, "field 'sha256' must be 64 hexadecimal digits"},
        BadCase{"non-hex sha", [](json& j) { j["sha256"] = std::string(64, 'g'); }, "field 'sha256' must be 64"},
        BadCase{"ftp url", [](json& j) { j["url"] = "ftp://x/m.onnx"; }, "field 'url' must start with http"},
        BadCase{"url without sha", [](json& j) { drop(j, "sha256"); }, "field 'sha256' is required when 'url'"},
        BadCase{"no input", [](json& j) { drop(j, "input"); }, "field 'input' is required"},
        BadCase{"output number", [](json& j) { j["output"] = 5; }, "field 'output' must be a string"},
        BadCase{"classes negative", [](json& j) { j["classes"] = -1; }, "field 'classes' must be a whole number"},
        BadCase{"classes fraction", [](json& j) { j["classes"] = 2.5; }, "field 'classes' must be a whole number"},
        BadCase{"labels number", [](json& j) { j["labels_file"] = 1; }, "field 'labels_file' must be a string"},
        BadCase{"no preprocessing", [](json& j) { drop(j, "preprocessing"); }, "field 'preprocessing' is required"},
        BadCase{"preprocessing list", [](json& j) { j["preprocessing"] = json::array(); },
                "field 'preprocessing' must be an object"},
        BadCase{"unknown crop", [](json& j) { j["preprocessing"]["crop"] = "zoom"; },
                "field 'preprocessing.crop' must be \"resize_crop\""},
        BadCase{"no crop", [](json& j) { j["preprocessing"].erase("crop"); }, "field 'preprocessing.crop' is required"},
        BadCase{"zero width", [](json& j) { j["preprocessing"]["width"] = 0; }, "field 'preprocessing.width' must be"},
        BadCase{"no width", [](json& j) { j["preprocessing"].erase("width"); }, "field 'preprocessing.width' is required"},
        BadCase{"height string", [](json& j) { j["preprocessing"]["height"] = "224"; },
                "field 'preprocessing.height' must be a whole number"},
        BadCase{"resize below crop", [](json& j) { j["preprocessing"]["resize"] = 30; },
                "field 'preprocessing.resize' (30) must be at least the crop size (32)"},
        BadCase{"no resize", [](json& j) { j["preprocessing"].erase("resize"); },
                "field 'preprocessing.resize' is required"},
        BadCase{"fraction with resize crop", [](json& j) { j["preprocessing"]["central_fraction"] = 0.8; },
                "field 'preprocessing.central_fraction' only applies"},
        BadCase{"fraction above one",
                [](json& j) {
                  j["preprocessing"]["crop"] = "central_fraction";
                  j["preprocessing"].erase("resize");
                  j["preprocessing"]["central_fraction"] = 1.5;
                },
                "field 'preprocessing.central_fraction' must be a number in (0, 1]"},
        BadCase{"resize with stretch",
                [](json& j) { j["preprocessing"]["crop"] = "stretch"; }, "field 'preprocessing.resize' only applies"},
        BadCase{"mean of two", [](json& j) { j["preprocessing"]["mean"] = {1, 2}; },
                "field 'preprocessing.mean' must be 3 numbers"},
        BadCase{"mean text", [](json& j) { j["preprocessing"]["mean"] = {1, "2", 3}; },
                "field 'preprocessing.mean' must be 3 numbers"},
        BadCase{"no std", [](json& j) { j["preprocessing"].erase("std"); }, "field 'preprocessing.std' is required"},
        BadCase{"zero std", [](json& j) { j["preprocessing"]["std"] = {1, 0, 1}; },
                "field 'preprocessing.std' must be 3 positive numbers"},
        BadCase{"negative std", [](json& j) { j["preprocessing"]["std"] = {1, 1, -2}; },
                "field 'preprocessing.std' must be 3 positive numbers"},
        BadCase{"channels rgba", [](json& j) { j["preprocessing"]["channels"] = "rgba"; },
                "field 'preprocessing.channels' must be \"rgb\" or \"bgr\""},
        BadCase{"typo in preprocessing", [](json& j) { j["preprocessing"]["scale"] = 2; },
                "field 'preprocessing.scale' is not a card field"},
        BadCase{"typo at top", [](json& j) { j["lables_file"] = "x"; }, "field 'lables_file' is not a card field"},
        BadCase{"layers object", [](json& j) { j["layers"] = json::object(); }, "field 'layers' must be a list"},
        BadCase{"layer string", [](json& j) { j["layers"][1] = "pool"; }, "field 'layers[1]' must be an object"},
        BadCase{"layer without name", [](json& j) { j["layers"][1] = {{"title", "t"}}; },
                "field 'layers[1].name' is required"},
        BadCase{"layer typo", [](json& j) { j["layers"][0]["tittle"] = "t"; },
                "field 'layers[0].tittle' is not a card field"},
        BadCase{"repeated layer", [](json& j) { j["layers"][1]["name"] = "conv1"; },
                "field 'layers[1].name' repeats layer 'conv1'"},
        BadCase{"visualize not text", [](json& j) { j["layers"][0]["visualize"] = 3; },
                "field 'layers[0].visualize' must be a string"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name;
      for (char c : info.param.what) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(CardTest, NotJsonSaysWhere) {
  try {
    model::ModelCard::from_json_text("{\"name\": \"a\",\n  \"file\" 3}", "broken.card.json");
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("card 'broken.card.json': not valid JSON: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("json.exception"), std::string::npos) << msg;
  }
}

TEST(CardTest, TopLevelMustBeObject) {
  EXPECT_THROW(
      {
        try {
          model::ModelCard::from_json_text("[1, 2]", "list.card.json");
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "card 'list.card.json': must be a JSON object {\"name\": ..., \"file\": ..., ...}");
          throw;
        }
      },
      Error);
}

TEST(CardTest, MissingFileIsAnError) {
  try {
    model::ModelCard::from_file("/nonexistent/dir/none.card.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "card '/nonexistent/dir/none.card.json' not found");
  }
}

}  // namespace
}  // namespace featvis
