#pragma once
// Builds small ONNX models in memory for unit tests that must not depend on ../shared.
#include <string>
#include <vector>

namespace onnx {
class GraphProto;
}

namespace featvis::testing {

// Declares `name` a float graph output of unknown shape: ONNX (and its checker, which the
// loader runs) requires every graph output to have a type.
void add_float_output(onnx::GraphProto* graph, const std::string& name);

// A tiny classifier: input "input" [1,3,H,W] -> Conv 3x3 (4 ch, pads 1) "conv1/preact" ->
// Relu "conv1" -> <extra_op> "odd" (only if extra_op is set) -> GlobalAveragePool "pool" ->
// Flatten "flat" -> Gemm (classes) "logits". Weights are deterministic.
std::string tiny_classifier_onnx(int classes = 3, int size = 8, const std::string& extra_op = "");

// Two convolutions, for tests that need layers of different sizes and a name that must
// be quoted: input [1,3,H,W] -> Conv 3x3 (4 ch, pads 1) "conv1/preact" -> Relu "conv1" ->
// Conv 3x3 stride 2 (6 ch, pads 1) "block 2:conv" [1,6,H/2,W/2] -> Relu "block2" ->
// GlobalAveragePool "pool" -> Flatten "flat" -> Gemm (classes) "logits".
std::string tiny_two_conv_onnx(int classes = 3, int size = 8);

// One node of a hand-built graph (onnx_from_nodes).
struct TestNode {
  std::string op;
  std::vector<std::string> inputs;  // tensor names; weights of a Conv are added automatically
  std::string output;
  std::vector<std::pair<std::string, std::vector<int64_t>>> ints;  // INTS attributes (pads, strides, ...)
  std::vector<std::pair<std::string, int64_t>> int_attrs;          // INT attributes (axis, ceil_mode, ...)
  std::vector<std::pair<std::string, std::string>> strings;        // STRING attributes (auto_pad)
  std::vector<float> clip_bounds;  // Clip: min and max, added as scalar inputs (opset 13)
  int64_t out_channels = 0;        // Conv: output channels (0: its input's)
  bool bias = false;               // Conv: a bias "<output>.b" too
};

// A model of `nodes` (in order) on an input "input" [1, channels, size, size]. Each Conv
// gets weights "<output>.w" [O, C / group, kh, kw] from its kernel_shape (C: its input's
// channels, Concat adds channels up; O: out_channels or C); a BatchNormalization gets
// "<output>.scale", ".bias", ".mean" and a positive ".var". The last node's output is the
// graph output.
std::string onnx_from_nodes(const std::vector<TestNode>& nodes, int channels = 3, int size = 16);

// The model card of tiny_classifier_onnx saved as "tiny.onnx": 8x8 stretch, pixel/255;
// its layer "conv1" optimized as `visualize` when given (e.g. "conv1/preact").
std::string tiny_classifier_card(const std::string& visualize = "");

// Writes bytes to a file (for CLI tests).
void write_bytes(const std::string& path, const std::string& bytes);

// A fresh temporary folder holding tiny.onnx (tiny_classifier_onnx(3, 8), or with
// two_conv tiny_two_conv_onnx(3, 8)) and its card tiny.card.json: a model the CLI can load
// by path. Tests derive their workspaces from it.
struct TinyModelDir {
  explicit TinyModelDir(bool two_conv = false);
  std::string dir, model, card;
};

}  // namespace featvis::testing
