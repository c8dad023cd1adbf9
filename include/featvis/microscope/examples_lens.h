#pragma once
// The lenses that read a dataset-examples directory (`featvis examples --out DIR`, or the
// scan `microscope build --images` runs): "examples" puts each unit's top crops into the
// site; "attribution" shows which part of the unit's top photo makes it fire.
#include <featvis/dataset_examples/index.h>
#include <featvis/microscope/lens.h>

#include <memory>
#include <string>
#include <vector>

namespace featvis::microscope {

struct ExamplesSource {
  std::string dir;  // holds index.json and the crops it names
  dataset_examples::ExamplesIndex index;
};

// The scanned ranking of a layer's units: its visualization tensor's (LayerPlan::tensor),
// else, in a scan made before the card named one, the layer's own; null when not scanned.
const dataset_examples::LayerIndex* ranking_of(const dataset_examples::ExamplesIndex& index, const LayerPlan& layer);

// The top photo by channel mean of each unit of `group` that the scan ranked, in the
// group's order: what the attribution and accentuation lenses look at.
struct TopPhoto {
  int64_t unit = 0;
  std::string name;  // relative to the index's images_root
  std::string path;  // images_root/name
};
std::vector<TopPhoto> top_photos(const ExamplesSource& source, const LayerPlan& layer, const std::vector<int64_t>& group);

// Reads DIR/index.json (featvis::Error naming the file and field when malformed).
ExamplesSource read_examples_source(const std::string& dir);

// Both are inactive when `source` is null (no dataset examples in the build).
//
// Copies each unit's top_max crops to <unit>/examples/<i>.jpg and records them with their
// photo, score and box (best first), plus the top_mean photos by name.
std::unique_ptr<Lens> examples_lens(std::shared_ptr<const ExamplesSource> source);

// Grad-CAM of the unit (channel objective) on its top photo by channel mean, taken at the
// unit's own layer: the map is where on the photo the unit fires. Writes the overlay on
// the photo as <unit>/attribution.png + thumbnail.
std::unique_ptr<Lens> attribution_lens(std::shared_ptr<const ExamplesSource> source);
// Feature accentuation of the unit in the same top photo: from the photo, channel +
// 20 * distance(photo), the group's units as one batch. Writes <unit>/accentuation.png.
std::unique_ptr<Lens> accentuation_lens(std::shared_ptr<const ExamplesSource> source);

}  // namespace featvis::microscope
