#include <featvis/microscope/lens_set.h>
#include <featvis/microscope/training_lens.h>

namespace featvis::microscope {

LensSet make_lenses(const LensInputs& in) {
  LensSet set;
  set.lenses.push_back(channel_lens());
  set.lenses.push_back(neuron_lens());
  set.lenses.push_back(diversity_lens(in.settings.diversity));
  set.lenses.push_back(examples_lens(in.examples));
  set.lenses.push_back(deepdream_lens(in.photos));
  set.lenses.push_back(attribution_lens(in.examples));
  set.lenses.push_back(accentuation_lens(in.examples));
  set.lenses.push_back(training_lens(in.series, in.examples));
  if (!in.examples) set.notes.push_back("no --images or --examples: the dataset-examples, attribution and accentuation lenses are absent");
  if (in.series && !in.examples) set.notes.push_back("no --images or --examples: the training lens draws strips, without example overlap or settle steps");
  if (in.photos.empty()) set.notes.push_back("no photos for caricatures (pass --photos or --examples): DeepDream from noise only");
  return set;
}

}  // namespace featvis::microscope
