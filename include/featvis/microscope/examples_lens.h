#pragma once
// The dataset-examples lens: reads what `featvis examples --out DIR` wrote (DIR/index.json,
// format "featvis-examples/1", and its JPEG crops) and puts each unit's top examples into
// the site. The scan itself is `featvis examples`; this lens only presents it.
#include <featvis/microscope/lens.h>

#include <memory>
#include <string>
#include <vector>

namespace featvis::microscope {

struct ExamplesIndex {
  std::string dir;          // the --examples directory
  std::string model;        // "model" of the index
  std::string images_root;  // "images_root"
  std::vector<std::string> images;
  Json layers;  // the "layers" array as written
};

// Reads and checks DIR/index.json; featvis::Error naming the file and the bad field.
ExamplesIndex read_examples_index(const std::string& dir);

// Copies each unit's top_max crops to <unit>/examples/<i>.jpg and records them with
// their photo, score and box (best first), plus the top_mean photos by name.
std::unique_ptr<Lens> examples_lens(ExamplesIndex index);

}  // namespace featvis::microscope
