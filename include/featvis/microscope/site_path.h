#pragma once
// Names on disk and in URLs: SITE/<model>/<layer-slug>/<unit>/ is a unit's permalink.
#include <featvis/dataset_examples/index.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace featvis::microscope {

// The "format" of site.json, manifest.json and build.json.
inline constexpr char kSiteFormat[] = "featvis-microscope/1";

// Directory names of models and layers: featvis::dataset_examples::layer_slug (dataset_examples/index.h), the rule
// `featvis examples` uses for its crops, so crop paths and site paths agree.
std::string unit_dir(const std::string& model_dir, const std::string& layer_slug, int64_t unit);

// Creates a directory and its parents; featvis::Error naming it on failure.
void make_dirs(const std::string& dir);

struct RenderSettings;  // lens.h

// Writes a [3,H,W] image in [0,1] as <dir>/<stem>.webp (full size, lossy; .png with
// settings.image_format "png") and <dir>/<stem>.jpg (longest side at most settings.thumb,
// area-averaged), both atomically. Returns the file names (manifest entries are relative
// to their directory).
struct ImagePair {
  std::string image, thumb;
};
ImagePair save_image_pair(const std::string& dir, const std::string& stem, const at::Tensor& chw01,
                          const RenderSettings& settings);

}  // namespace featvis::microscope
