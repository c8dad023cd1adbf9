// Bad input through the real `featvis` binary: one line on stderr naming the problem,
// a non-zero exit, never a crash. scripts/test.sh runs these again under ASan/UBSan.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <algorithm>
#include <fstream>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;
using featvis::testing::write_bytes;

const std::string kTinyCard = featvis::testing::tiny_classifier_card();

// A folder with tiny.onnx, its card, a photo and a text file posing as a photo.
struct Workspace : featvis::testing::TinyModelDir {
  Workspace() { write_bytes(dir + "/fake.jpg", "not an image at all"); }
};

TEST(Cli, TinyModelWorksEndToEnd) {
  Workspace ws;
  const CommandResult layers = run_featvis({"layers", ws.model, "--json"});
  ASSERT_EQ(layers.exit_code, 0) << layers.err;
  EXPECT_NE(layers.out.find("\"conv1\""), std::string::npos);
  EXPECT_NE(layers.out.find("\"units\": 4"), std::string::npos) << layers.out;
}

TEST(Cli, MissingModelFile) {
  expect_one_line_error(run_featvis({"layers", "/nonexistent/dir/model.onnx"}), 1, {"/nonexistent/dir/model.onnx"});
}

TEST(Cli, UnknownModelName) {
  expect_one_line_error(run_featvis({"classify", "no_such_model_anywhere", "x.jpg"}), 1, {"no_such_model_anywhere"});
}

TEST(Cli, TruncatedOnnx) {
  Workspace ws;
  const std::string bytes = featvis::testing::tiny_classifier_onnx(3, 8);
  const std::string path = ws.dir + "/cut.onnx";
  write_bytes(path, bytes.substr(0, bytes.size() / 2));
  expect_one_line_error(run_featvis({"layers", path}), 1, {"cut.onnx", "not a valid ONNX model"});
}

TEST(Cli, GarbageOnnx) {
  Workspace ws;
  const std::string path = ws.dir + "/garbage.onnx";
  write_bytes(path, std::string(4096, '\xff'));
  expect_one_line_error(run_featvis({"layers", path}), 1, {"garbage.onnx"});
}

TEST(Cli, UnsupportedOpNamesOpAndNode) {
  Workspace ws;
  const std::string path = ws.dir + "/odd.onnx";
  write_bytes(path, featvis::testing::tiny_classifier_onnx(3, 8, "NonMaxSuppression"));
  expect_one_line_error(run_featvis({"layers", path}), 1, {"unsupported ONNX op 'NonMaxSuppression'", "odd_node"});
}

TEST(Cli, UnknownLayerNameSuggestsCloseOnes) {
  Workspace ws;
  expect_one_line_error(run_featvis({"activations", ws.model, ws.dir + "/fake.jpg", "--layer", "conv2"}), 1,
                        {"unknown layer 'conv2'", "conv1"});
}

TEST(Cli, NotAnImage) {
  Workspace ws;
  expect_one_line_error(run_featvis({"classify", ws.model, ws.dir + "/fake.jpg"}), 1, {"cannot read image", "fake.jpg"});
  expect_one_line_error(run_featvis({"classify", ws.model, ws.dir + "/absent.png"}), 1, {"absent.png"});
}

TEST(Cli, WrongCardJson) {
  Workspace ws;
  const std::string broken = ws.dir + "/broken.card.json";
  write_bytes(broken, "{ \"name\": \"tiny\", ");
  expect_one_line_error(run_featvis({"layers", broken}), 1, {"broken.card.json"});
  const std::string bad_std = ws.dir + "/badstd.card.json";
  std::string text = kTinyCard;
  text.replace(text.find("[255, 255, 255]"), 15, "[255, 0, 255]");
  write_bytes(bad_std, text);
  expect_one_line_error(run_featvis({"layers", bad_std}), 1, {"badstd.card.json", "std"});
}

TEST(Cli, CardNamingAMissingLayerOrOutput) {
  Workspace ws;
  std::string text = kTinyCard;
  text.replace(text.find("\"logits\""), 8, "\"scores\"");
  const std::string path = ws.dir + "/tiny2.card.json";
  write_bytes(path, text);
  write_bytes(ws.dir + "/tiny2.onnx", featvis::testing::tiny_classifier_onnx(3, 8));
  expect_one_line_error(run_featvis({"layers", path}), 1, {"scores"});
}

TEST(Cli, BadFlagValues) {
  Workspace ws;
  expect_one_line_error(run_featvis({"classify", ws.model, ws.dir + "/fake.jpg", "--top", "0"}), 2, {"--top"});
  expect_one_line_error(run_featvis({"eval", ws.model, "--images", ws.dir + "/nope"}), 1, {"nope"});
  expect_one_line_error(run_featvis({"layers", ws.model, "--threads", "-3"}), 2, {"--threads"});
  expect_one_line_error(run_featvis({"layers", ws.model, "--device", "tpu"}), 1, {"tpu"});
  expect_one_line_error(run_featvis({"frobnicate"}), 2, {"frobnicate"});
}

TEST(Cli, EvalWithBadLabelsFile) {
  Workspace ws;
  write_bytes(ws.dir + "/labels.csv", "path,label\nfake.jpg,0\n");
  expect_one_line_error(run_featvis({"eval", ws.model, "--images", ws.dir}), 1, {"labels.csv", "file"});
}

TEST(Cli, HelpAndVersionSucceed) {
  for (const char* cmd : {"models", "layers", "classify", "eval", "activations", "fetch"}) {
    const CommandResult r = run_featvis({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << ": " << r.out;
  }
  EXPECT_EQ(run_featvis({"--version"}).exit_code, 0);
}

}  // namespace
