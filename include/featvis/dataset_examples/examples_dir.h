#pragma once
// A complete dataset-examples directory, as `featvis examples --out DIR` and the
// Microscope's --images write it: a resumable scan (DIR/checkpoint.cbor while it runs),
// then DIR/index.json and the crop thumbnails. The checkpoint is removed once the index
// holds everything.
#include <featvis/dataset_examples/index.h>
#include <featvis/dataset_examples/scan.h>

#include <string>

namespace featvis::dataset_examples {

struct ExamplesDirResult {
  ScanResult scan;
  std::vector<std::string> images;  // relative to images_root, as listed
  std::string checkpoint;           // DIR/checkpoint.cbor
  ExamplesIndex index;              // empty when the scan was interrupted
};

// Scans `images_root` with `options` (its checkpoint_path is set to DIR/checkpoint.cbor)
// and, unless interrupted, writes the crops (longest side `thumbnail`) and the index.
ExamplesDirResult build_examples_dir(const model::Model& model, const std::string& images_root, const std::string& dir,
                                     ScanOptions options, int thumbnail = 128);

}  // namespace featvis::dataset_examples
