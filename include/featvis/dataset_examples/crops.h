#pragma once
// Thumbnails of the dataset-example crops: each photo's view (the card's crop in pixel
// levels, before its scaling: kept by the scan, or decoded once more), every box of it
// cut from that one image and resized (image::Rgb8Resizer, which keeps each size's
// weights), and the resizing, JPEG encoding and writing spread over worker threads, a
// photo at a time. Crop files are written plainly, without a temporary file or a sync
// each: they are safe because the index that names them is written after them, atomically
// (build_examples_dir removes a stale index before it touches any crop).
#include <featvis/dataset_examples/index.h>
#include <featvis/model/card.h>

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace featvis::dataset_examples {

struct CropOptions {
  bool write = true;   // false: the index only (positions and boxes), no crop files
  int64_t size = 128;  // longest side of a thumbnail in pixels; smaller boxes keep their size
  int quality = 85;    // JPEG quality
  int threads = 0;     // photos worked on at once; 0: ATen's thread count (the CLI's --threads)
  bool progress = false;
  // build_examples_dir: bytes of the scan's decoded photos kept for the crops (150 KiB a
  // photo at 224x224); photos beyond it are decoded again.
  int64_t keep_views_bytes = int64_t{1} << 30;
};

// Throws SettingError naming crop_size or crop_quality, threads for negative counts.
void check_crop_options(const CropOptions& options);

// What write_crops did. The stage times are summed over the worker threads.
struct CropStats {
  int64_t photos = 0;   // photos cut from
  int64_t decoded = 0;  // of those, decoded here (not kept by the scan)
  int64_t crops = 0;    // top_max entries of the index
  int64_t files = 0;    // files written (entries naming one file count once)
  int64_t encoded = 0;  // JPEGs encoded: distinct (photo, box) pairs
  int64_t bytes = 0;    // encoded bytes, once per distinct pair
  double seconds = 0;   // wall time of the whole stage
  double decode_seconds = 0, resize_seconds = 0, encode_seconds = 0, write_seconds = 0;
};

// The thumbnails of `boxes` ([x0, y0, x1, y1], inside the image) of one [H, W, 3] uint8
// image, each [h, w, 3] uint8 with its longest side at most `max_side` (antialiased
// bilinear, the network input's filter: image::Rgb8Resizer).
std::vector<at::Tensor> cut_thumbnails(const at::Tensor& hwc, const std::vector<std::array<int64_t, 4>>& boxes,
                                       int64_t max_side);

// Writes every top_max crop of `index` under `dir`, cut from `views` (ScanResult::views)
// where they hold the photo, else from the photo decoded again. Unreadable photos are
// errors (they were readable when scanned); nothing is written when options.write is false.
CropStats write_crops(const std::string& dir, const ExamplesIndex& index, const model::Preprocessing& pre,
                      const CropOptions& options = {}, const std::map<int64_t, at::Tensor>& views = {});

}  // namespace featvis::dataset_examples
