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
};

struct LensSet {
  std::vector<std::unique_ptr<Lens>> lenses;  // active or not (Lens::active)
  std::vector<std::string> notes;             // which lenses are absent or reduced, and why
};

LensSet make_lenses(const LensInputs& inputs);

}  // namespace featvis::microscope
