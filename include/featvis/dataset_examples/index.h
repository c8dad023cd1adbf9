#pragma once
// The dataset-examples index (format "featvis-examples/1"), shared with the Microscope
// site and other consumers: per layer, per unit, the top/bottom photos by channel mean
// and the top photos by maximum with position, input box and crop thumbnail.
#include <featvis/dataset_examples/scan.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace featvis::dataset_examples {

struct ExampleEntry {
  int64_t image = 0;  // index into ExamplesIndex::images
  double score = 0;
  std::optional<std::array<int64_t, 2>> position;  // [y, x]; top_max of 4-D layers only
  std::array<int64_t, 4> box{0, 0, 0, 0};          // [x0, y0, x1, y1], network-input pixels; top_max only
  std::string crop;  // thumbnail path relative to the index; top_max only; empty in an index without crops
};

struct UnitExamples {
  int64_t unit = 0;
  std::vector<ExampleEntry> top_mean, bottom_mean, top_max;  // best (lowest for bottom) first
};

struct LayerIndex {
  std::string name;
  std::vector<int64_t> shape;
  std::array<int64_t, 2> field_size{0, 0}, field_stride{0, 0};
  std::array<double, 2> field_offset{0, 0};  // centre of unit (0,0)'s field
  std::vector<UnitExamples> units;
};

struct ExamplesIndex {
  std::string model;
  std::string images_root;          // absolute
  std::vector<std::string> images;  // relative to images_root, sorted
  int64_t top_k = 0;
  std::array<int64_t, 2> input_size{0, 0};  // [height, width]
  std::vector<LayerIndex> layers;
};

// Layer name with every character outside [A-Za-z0-9_.-] replaced by '_'.
std::string layer_slug(const std::string& name);

// "crops/<image>/<x0>-<y0>-<x1>-<y1>.jpg": a crop is a function of the photo and the box,
// so units that share both (a deep layer's whole-input box, often) share one file.
std::string crop_path(int64_t image, const std::array<int64_t, 4>& box);

// The index of a scan; top_max entries get boxes from the layer's receptive field and,
// with `crops`, crop paths by crop_path() (written as null without). Empty slots (fewer photos than K) are left out.
ExamplesIndex make_examples_index(const model::Model& model, const std::string& images_root,
                                  const std::vector<std::string>& images, const ScanResult& scan, bool crops = true);

// The text of index.json, and DIR/index.json written atomically.
std::string examples_index_json(const ExamplesIndex& index);
void write_examples_index(const std::string& dir, const ExamplesIndex& index);
// Throws featvis::Error naming the file and the field for a malformed index.
ExamplesIndex read_examples_index(const std::string& path);

}  // namespace featvis::dataset_examples
