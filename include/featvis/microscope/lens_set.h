#pragma once
// Every lens featvis has, in build order: the one list the builder schedules and the
// page writer asks for sections. A new lens is one more line in lens_set.cpp.
#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/lens.h>
#include <featvis/model/series.h>

#include <memory>
#include <string>
#include <vector>

namespace featvis::microscope {

struct LensInputs {
  const RenderSettings& settings;
  std::shared_ptr<const ExamplesSource> examples;  // null: no dataset examples
  std::vector<std::string> photos;                 // caricature start photos
  std::shared_ptr<const model::Series> series;     // the model's training run, or null
  // `--lenses`: the lenses to build, by name (any order); empty = every lens the inputs
  // allow. A named lens that cannot run (examples without photos, diversity with
  // --diversity 0) is an error, not a silent absence.
  std::vector<std::string> selected;
};

struct LensSet {
  // Active or not (Lens::active); with a selection, only the selected lenses.
  std::vector<std::unique_ptr<Lens>> lenses;
  std::vector<std::string> notes;  // which lenses are absent or reduced, and why
};

// Every lens's name, in build order: channel neuron diversity examples deepdream
// attribution accentuation.
std::vector<std::string> known_lens_names();

// Throws SettingError("lenses", ...) for an unknown name (listing the known ones) or a
// selected lens that these inputs cannot build.
LensSet make_lenses(const LensInputs& inputs);

}  // namespace featvis::microscope
