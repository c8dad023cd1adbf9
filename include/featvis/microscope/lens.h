#pragma once
// A Microscope "technique": one way of looking at a unit (feature visualization, neuron,
// diversity, dataset examples, attribution, accentuation, DeepDream). Each lens writes its files into
// the site, returns the manifest entries that the pages and the JSON API read, and turns
// those entries into its own section of the unit and layer pages. The builder only
// schedules lenses and records what they returned, the page writer only lays sections
// out, so a new lens is one more class plus one line in lens_set.cpp (see ADDING_A_LENS.md).
#include <featvis/model/model.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace featvis::microscope {

using Json = nlohmann::ordered_json;

// What every render-based lens shares; part of the settings a resume must match.
struct RenderSettings {
  int64_t steps = 256;
  int64_t size = 0;      // image side; 0 = the card's input size
  int64_t batch = 16;    // units per channel/neuron optimization
  int64_t diversity = 3;  // images per unit in the diversity set (2-4; 0 = no diversity lens)
  double diversity_weight = 10.0;
  uint64_t seed = 0;
  int64_t thumb = 128;  // longest side of the JPEG thumbnails
  // Full-size pictures: "webp" (lossy, about a tenth of a PNG) or "png" (lossless).
  std::string image_format = "webp";
  // The render lenses' parameterization (render::param::parse_space: fft, pixel, cppn,
  // maco) and MACO's spectrum file ("" = <model>.spectrum.npy on the search path).
  std::string param = "fft";
  std::string spectrum;
  // The render lenses' transforms (transform::parse text); "" = the lucid preset's. A model
  // with a Flatten before its dense layers needs the input size kept ("none", "jitter(1)").
  std::string transforms;
};

struct LayerPlan {
  std::string name;   // ONNX tensor name
  // What the render lenses optimize and the dataset examples rank: the card's
  // visualization tensor (the pre-activation of a ReLU6 layer), or `name`. Same shape.
  std::string tensor;
  std::string slug;   // directory name (site_path.h)
  std::string title;  // the card's title, or ""
  std::vector<int64_t> shape;  // at the card's input size, batch of one
  int64_t channels = 0;
  std::vector<int64_t> units;  // the units built, ascending
};

struct LensContext {
  const model::Model& model;
  const RenderSettings& settings;
  std::string model_dir;  // SITE/<model-slug>
};

// Manifest entries per unit of a group, keyed by unit then lens name.
using UnitEntries = std::map<int64_t, Json>;

// A lens's part of a unit or layer page: an <h2> title and its HTML, with paths relative
// to the page's directory (where the lens wrote its files). Consecutive half-width
// sections sit side by side.
struct PageSection {
  std::string title;
  std::string html;
  bool half_width = false;
};

class Lens {
 public:
  virtual ~Lens() = default;
  virtual std::string name() const = 0;

  // Whole-layer files (e.g. DeepDream) under model_dir/<slug>/; returns the entry stored
  // as layer["lenses"][name()], or null when the lens has nothing per layer.
  virtual Json build_layer(const LensContext&, const LayerPlan&) { return nullptr; }

  // Files of the units in `group` (rendered together) under model_dir/<slug>/<unit>/;
  // sets entries[unit][name()] for each unit it has something for. Must give the same
  // files for the same group and settings, so that a resumed group matches.
  virtual void build_units(const LensContext&, const LayerPlan&, const std::vector<int64_t>& group,
                           UnitEntries& entries) {}

  // Optimization work in image-steps (one image through one step), for --dry-run.
  virtual double layer_image_steps(const RenderSettings&) const { return 0; }
  virtual double unit_image_steps(const RenderSettings&) const { return 0; }
  // Whether those renders read the whole layer (diversity's Gram matrices, DeepDream), so
  // that every channel is computed; the others read their units' channels alone, which
  // objective::evaluate computes alone (graph::Graph::channel_slice). --dry-run times both.
  virtual bool reads_whole_layer() const { return false; }

  // False when this build's settings leave the lens out (it then builds nothing, but its
  // page sections still say why it is absent).
  virtual bool active() const { return true; }

  // Its sections of the unit and layer pages from its entry (null when it has none there),
  // or nothing when it has no place on that page.
  virtual std::optional<PageSection> unit_section(const Json& /*entry*/) const { return std::nullopt; }
  virtual std::optional<PageSection> layer_section(const Json& /*entry*/) const { return std::nullopt; }
  // Its section of the model's overview page from the manifest's "layers" (each layer's
  // entry is layer["lenses"][name()]), or nothing.
  virtual std::optional<PageSection> model_section(const Json& /*layers*/) const { return std::nullopt; }
  // The picture that stands for the unit in grids (relative to the unit's directory), or "".
  virtual std::string unit_thumbnail(const Json& /*entry*/) const { return ""; }
};

// Feature visualization lenses (render library): "channel" (many units per optimization,
// one per batch item), "neuron" (the unit at the layer's centre, batched the same way),
// "diversity" (`diversity` images per unit: channel - weight * diversity(layer); inactive
// when `diversity` is 0).
std::unique_ptr<Lens> channel_lens();
std::unique_ptr<Lens> neuron_lens();
std::unique_ptr<Lens> diversity_lens(int64_t diversity);
// "deepdream": the whole layer from noise and, as caricatures, from the given photos.
std::unique_ptr<Lens> deepdream_lens(std::vector<std::string> photos);

}  // namespace featvis::microscope

#include <featvis/render/recipe.h>

namespace featvis::microscope {

// One seed per (lens, layer, group): a group rendered again on resume gets the same
// start and transforms, whatever else was rendered before it in this process.
uint64_t lens_seed(uint64_t seed, const std::string& lens, const std::string& layer, int64_t first_unit);

// The render lenses' recipe: lucid preset, the build's parameterization, transforms and
// size, `batch` images, the build's steps (or `steps`), `seed`.
render::Recipe lens_recipe(const LensContext& ctx, int64_t batch, uint64_t seed, int64_t steps = 0);

// Milliseconds per image-step on `layer` (a few channel-objective steps with `batch`
// images, after one warm-up step), for --dry-run estimates; with `whole_layer`, of the same
// objectives read whole (Lens::reads_whole_layer).
double time_image_step(const LensContext& ctx, const LayerPlan& layer, int64_t batch, bool whole_layer = false);

}  // namespace featvis::microscope
