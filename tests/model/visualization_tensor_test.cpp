// The visualization tensor of a layer: derived from the rectifier producing it, checked
// against the graph when a card names one, and the note for capped (ReLU6) layers.
#include "model/scoped_env.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/rectifier.h>
#include <featvis/model/model.h>
#include <featvis/model/visualization_tensor.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <fstream>

namespace featvis {
namespace {

using testing::ScopedEnv;

TEST(VisualizationTensorTest, TheInputOfARelu) {
  const graph::Graph g = graph::Graph::load_onnx_bytes(testing::tiny_classifier_onnx(3, 8), "tiny");
  EXPECT_EQ(model::derive_visualization_tensor(g, "conv1"), "conv1/preact");  // Relu
  const auto relu = graph::rectifier_producing(g, "conv1");
  ASSERT_TRUE(relu.has_value());
  EXPECT_EQ(relu->op, "Relu");
  EXPECT_FALSE(relu->capped);
  EXPECT_EQ(model::derive_visualization_tensor(g, "conv1/preact"), "");  // Conv
  EXPECT_EQ(model::derive_visualization_tensor(g, "logits"), "");        // Gemm
  EXPECT_EQ(model::derive_visualization_tensor(g, "input"), "");         // graph input
  EXPECT_EQ(model::derive_visualization_tensor(g, "nothing"), "");
}

TEST(VisualizationTensorTest, ACardNamingAnUnknownTensorFailsAtLoad) {
  const std::string dir = testing::temp_dir();
  ScopedEnv path("FEATVIS_MODEL_PATH", dir);
  testing::write_bytes(dir + "/tiny.onnx", testing::tiny_classifier_onnx(3, 8));
  testing::write_bytes(dir + "/tiny.card.json", testing::tiny_classifier_card("conv1/pre"));
  const std::string error = testing::error_of([&] { model::load_model(dir + "/tiny.card.json"); });
  EXPECT_NE(error.find("field 'layers[0].visualize'"), std::string::npos) << error;
  EXPECT_NE(error.find("conv1/pre"), std::string::npos) << error;
}

TEST(VisualizationTensorTest, MobileNetV2LayersAreCappedAtSixAndTheNoteNamesThePreActivation) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  FEATVIS_REQUIRE_MODEL(file, model::locate_model("mobilenet_v2").card.file);
  const model::Model m = model::load_model("mobilenet_v2");
  const std::string layer = "MobileNetV2/Conv2d_18_1";
  const auto clip = graph::rectifier_producing(m.graph, layer);
  ASSERT_TRUE(clip.has_value());
  EXPECT_EQ(clip->op, "Clip");
  EXPECT_TRUE(clip->capped);
  ASSERT_TRUE(clip->cap.has_value());
  EXPECT_EQ(*clip->cap, 6.0);
  const std::string note = model::capped_layer_note(m, layer);
  EXPECT_NE(note.find("'" + layer + "' is capped (Clip at 6)"), std::string::npos) << note;
  EXPECT_NE(note.find("'" + layer + "/preact' instead"), std::string::npos) << note;
  EXPECT_EQ(model::capped_layer_note(m, layer + "/preact"), "");     // not capped
  EXPECT_EQ(model::capped_layer_note(m, "MobileNetV2/expanded_conv_1/project"), "");  // not on the card
}

}  // namespace
}  // namespace featvis
