#pragma once
// `featvis microscope build`: every selected layer and unit of a model seen through every
// lens, written as a static site. Crash-safe: each file is written atomically, and a
// unit's unit.json (its manifest entry) is written only after all of that unit's files,
// so it marks the unit done; --resume skips done units and refuses other settings.
// Sharded (shard.h), a process builds only its share of the render batches (work_plan.h)
// and writes no manifest or pages; finalize() writes them once every shard is done, from
// the unit files present, so N shards and one process leave the same bytes.
//
//   SITE/index.html, site.json, assets/           the site (all models built into it)
//   SITE/<model>/manifest.json, build.json, layers.js, index.html
//   SITE/<model>/<layer>/layer.json, index.html, deepdream.png ...
//   SITE/<model>/<layer>/<unit>/unit.json, index.html, channel.png ...  (permalink)
#include <featvis/microscope/lens.h>
#include <featvis/microscope/shard.h>
#include <featvis/microscope/work_plan.h>
#include <featvis/model/model.h>
#include <featvis/model/series.h>

#include <functional>
#include <memory>
#include <set>
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
  // A checkpoint series whose last checkpoint is the model: adds the training lens.
  // `series_ref` (how it was named: a folder or a list) is recorded for finalize.
  std::shared_ptr<const model::Series> series;
  std::string series_ref;
  // `--lenses`: the lenses to build (lens_set.h's names); empty = every lens the inputs
  // allow. Recorded in build.json ("selected_lenses"), so a resume, a shard or finalize
  // with another selection is refused.
  std::vector<std::string> lenses;
  bool resume = false;
  // Sharded: only this share of the work, no manifest or pages, and an existing build with
  // the same settings is joined without --resume (the other shards wrote build.json).
  Shard shard;
  bool progress = false;
  std::function<bool()> stop_requested;  // polled between unit groups
};

// What is left to do: the whole build's, or with a shard (BuildOptions::shard) that
// shard's share of it (its render batches and layers' own work, work_plan.h).
struct Estimate {
  int64_t layers = 0, units = 0, units_left = 0, layers_left = 0;  // of this share
  int64_t build_units = 0, build_layers = 0;                       // of the whole build
  double image_steps = 0;         // images x optimization steps still to do
  double ms_per_image_step = 0;   // measured, averaged over the layers
  double seconds = 0;
};

struct BuildSummary {
  int64_t units_rendered = 0, units_skipped = 0, layers_rendered = 0;
  double seconds = 0, seconds_per_unit = 0;
  bool interrupted = false;
  std::string manifest;  // path of manifest.json ("" when interrupted or sharded)
};

struct FinalizeSummary {
  int64_t units = 0, layers = 0;      // present and laid out
  // "layer:unit", or "layer (layer)" when its layer.json is absent; with
  // BuildOptions::shard.count N, " (shard K/N)" after each: the shard that builds it.
  std::vector<std::string> missing;
  std::set<int64_t> missing_shards;  // those K, with a shard count
  std::string manifest;
};

// How build.json names the examples directory: relative to SITE/<model> when it lies
// inside (the --images scan), so a site reads the same wherever the shared filesystem is
// mounted and a sharded build equals a one-process one; else its canonical path.
std::string recorded_examples_dir(const std::string& dir, const std::string& model_dir);

// The options of the build recorded in `build_json` (SITE/<model>/build.json), to finalize
// it: site, layers, units, render settings, examples (made absolute), photos and lens
// selection, with resume set. `spectrum`: a --param maco build's non-default spectrum.
// Throws a one-line Error for a file that is not a build record.
BuildOptions recorded_build_options(const std::string& build_json, const std::string& site, const std::string& spectrum = "");
// The model name in that record ("" when it has none).
std::string recorded_model_name(const std::string& build_json);

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

  // Times a few optimization steps per layer and scales up to what is left to do (of this
  // shard's share, when sharded; layers without work in the share are not timed).
  Estimate estimate();
  BuildSummary build();
  // Writes the manifest and every page from the layer.json and unit.json files present
  // (after all shards ended; removes temporaries that killed runs left) and lists what is
  // missing; a layer's missing units are left out of its pages and named in the manifest.
  FinalizeSummary finalize();

 private:
  bool unit_done(const LayerPlan& layer, int64_t unit) const;
  Json settings_json() const;
  void refuse_other_tensors(const Json& settings_before) const;
  Json manifest_json(const Json& layers) const;
  std::vector<WorkItem> work_items() const;  // work_plan.h, for this build's lenses

  const model::Model& model_;
  BuildOptions options_;
  std::string model_dir_;
  std::vector<LayerPlan> layers_;
  std::vector<double> layer_cost_;  // forward_cost of each layer's tensor (work_plan.h)
  std::vector<std::unique_ptr<Lens>> lenses_;
  std::vector<std::string> notes_;
  std::string examples_dir_;  // canonical, for the settings record
};

}  // namespace featvis::microscope
