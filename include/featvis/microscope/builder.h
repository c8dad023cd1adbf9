#pragma once
// `featvis microscope build`: every selected layer and unit of a model seen through every
// lens, written as a static site. Crash-safe: each file is written atomically, and a
// unit's unit.json (its manifest entry) is written only after all of that unit's files,
// so it marks the unit done; --resume skips done units and refuses other settings.
//
//   SITE/index.html, site.json, assets/           the site (all models built into it)
//   SITE/<model>/manifest.json, build.json, layers.js, index.html
//   SITE/<model>/<layer>/layer.json, index.html, deepdream.png ...
//   SITE/<model>/<layer>/<unit>/unit.json, index.html, channel.png ...  (permalink)
#include <featvis/microscope/lens.h>
#include <featvis/model/model.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace featvis::microscope {

struct BuildOptions {
  std::string site;
  std::vector<std::string> layers;  // empty: the card's layers
  std::string units = "16";         // "N" (the first N of each layer) or "all"
  RenderSettings render;
  std::string examples;             // a `featvis examples` directory, or "" (no examples lens)
  std::vector<std::string> photos;  // caricature start photos; "" = from the examples index
  bool resume = false;
  bool progress = false;
  std::function<bool()> stop_requested;  // polled between unit groups
};

struct Estimate {
  int64_t layers = 0, units = 0, units_left = 0, layers_left = 0;
  double image_steps = 0;         // images x optimization steps still to do
  double ms_per_image_step = 0;   // measured, averaged over the layers
  double seconds = 0;
};

struct BuildSummary {
  int64_t units_rendered = 0, units_skipped = 0, layers_rendered = 0;
  double seconds = 0, seconds_per_unit = 0;
  bool interrupted = false;
  std::string manifest;  // path of manifest.json ("" when interrupted)
};

class Builder {
 public:
  // Checks layers, units, lenses and (with --resume) the settings of an existing build.
  Builder(const model::Model& model, BuildOptions options);
  ~Builder();

  const std::vector<LayerPlan>& layers() const { return layers_; }
  // Which lenses are present and why others are not ("no --examples: ...").
  const std::vector<std::string>& notes() const { return notes_; }
  std::vector<std::string> lens_names() const;
  std::string model_dir() const { return model_dir_; }

  // Times a few optimization steps per layer and scales up to what is left to do.
  Estimate estimate();
  BuildSummary build();

 private:
  bool unit_done(const LayerPlan& layer, int64_t unit) const;
  Json settings_json() const;
  void refuse_other_tensors(const Json& settings_before) const;
  Json manifest_json() const;

  const model::Model& model_;
  BuildOptions options_;
  std::string model_dir_;
  std::vector<LayerPlan> layers_;
  std::vector<std::unique_ptr<Lens>> lenses_;
  std::vector<std::string> notes_;
  std::string examples_dir_;  // canonical, for the settings record
};

}  // namespace featvis::microscope
