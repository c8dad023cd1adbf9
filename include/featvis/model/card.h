#pragma once
// A model card: everything besides the weights that a user needs to feed a model and
// read its outputs (input size, pixel scaling, labels, layers worth visualizing).
// Stored as JSON beside the model or in the repo's cards/ folder.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace featvis::model {

struct Preprocessing {
  // How a photo of any size becomes the model's input square.
  enum class Crop {
    kResizeCrop,       // scale shorter side to `resize`, centre-crop width x height
    kCentralFraction,  // centred square of `central_fraction` x shorter side, resize to input
    kStretch,          // resize the whole photo to width x height
  };
  Crop crop = Crop::kResizeCrop;
  int resize = 256;
  double central_fraction = 0.875;
  int width = 224;
  int height = 224;
  // Applied to pixels in 0..255 after cropping: x = (pixel - mean) / std, per channel.
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{255.f, 255.f, 255.f};
  bool bgr = false;  // channel order fed to the network
};

struct CardLayer {
  std::string name;   // ONNX tensor name
  std::string title;  // short human title ("block 5 expand")
  // The tensor optimized and ranked for this layer ("visualize"), usually the input of
  // the Relu/Clip that produces `name`: a ReLU6 output stops at 6, so its renders
  // saturate grey and its dataset examples tie. Empty: the layer itself.
  std::string visualize;

  const std::string& visualization_tensor() const { return visualize.empty() ? name : visualize; }
};

struct ModelCard {
  std::string name;         // short id used on the command line: "mobilenet_v2"
  std::string description;
  bool is_default = false;  // the model used when none is named ("default": true)
  std::string file;         // ONNX file name, looked up on the model search path
  std::string sha256;       // of `file`, optional (verified by `featvis fetch`)
  std::string url;          // official download address, optional (needs sha256)
  std::string source;       // where the weights came from, for people (optional)
  std::string input;        // graph input name
  std::string output;       // tensor holding the class scores (pre-softmax)
  Preprocessing preprocessing;
  std::string labels_file;  // resolved beside the card or on the model search path
  int64_t num_classes = 0;  // "classes"; 0 = unknown (then taken from the labels file)
  std::vector<CardLayer> layers;  // worth visualizing, shallow to deep
  std::vector<std::string> labels;  // filled when the labels file is found

  std::string card_path;  // where it was read from

  // Parses and validates; throws featvis::Error naming the file and the bad field.
  static ModelCard from_json_text(const std::string& text, const std::string& origin);
  static ModelCard from_file(const std::string& path);

  // What to optimize and rank for `layer`: its card entry's visualization tensor, or the
  // layer itself when it is not on the card.
  std::string visualization_tensor(const std::string& layer) const;
};

}  // namespace featvis::model
