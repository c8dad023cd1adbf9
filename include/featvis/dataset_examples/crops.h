#pragma once
// Thumbnails of the dataset-example crops: each photo is decoded once, cropped like the
// card does (the network's view, un-normalized to RGB), cut at each box and saved as a
// small JPEG.
#include <featvis/dataset_examples/index.h>
#include <featvis/model/card.h>

#include <string>

namespace featvis::dataset_examples {

// Writes every top_max crop of `index` under `dir`, longest side at most `max_side`
// pixels. Unreadable photos are errors (they were readable when scanned).
void write_crops(const std::string& dir, const ExamplesIndex& index, const model::Preprocessing& pre, int max_side = 128);

}  // namespace featvis::dataset_examples
