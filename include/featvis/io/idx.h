#pragma once
// IDX files (LeCun's MNIST format, also Fashion-MNIST's), plain or gzip-compressed:
// a big-endian magic (0x0000 then a type byte, 0x08 = uint8, then the number of
// dimensions), one big-endian uint32 per dimension, then the raw data in C order.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace featvis::io {

// Reads a uint8 IDX file (".gz" or not, recognized by its first bytes) as a kByte
// tensor of the file's shape. Throws featvis::Error naming the file for a missing file,
// a bad magic, a type other than uint8, or data shorter or longer than the dimensions say.
at::Tensor load_idx(const std::string& path);

// An IDX image file [N, H, W] and its label file [N] read together: the images as
// kByte [N, H, W], the labels as kLong [N]. Also checks the ranks, that both count the
// same items, and that every label is below `num_classes` (when > 0).
struct IdxDataset {
  at::Tensor images;  // [N, H, W] uint8
  at::Tensor labels;  // [N] int64
};
IdxDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, int64_t num_classes = 0);

}  // namespace featvis::io
