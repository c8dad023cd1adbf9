#pragma once
// The photos of a folder for a dataset scan: found recursively, in a fixed order.
#include <string>
#include <vector>

namespace featvis::dataset_examples {

// Paths relative to `root` of every photo (is_photo_file_name) below it, sorted.
// Throws featvis::Error if `root` is not a folder or holds no such file.
std::vector<std::string> list_images(const std::string& root);

}  // namespace featvis::dataset_examples
