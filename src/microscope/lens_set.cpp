#include <featvis/microscope/lens_set.h>
#include <featvis/microscope/training_lens.h>
#include <featvis/util/error.h>
#include <featvis/util/join.h>

#include <algorithm>

namespace featvis::microscope {
namespace {

std::vector<std::unique_ptr<Lens>> every_lens(const LensInputs& in) {
  std::vector<std::unique_ptr<Lens>> all;
  all.push_back(channel_lens());
  all.push_back(neuron_lens());
  all.push_back(diversity_lens(in.settings.diversity));
  all.push_back(examples_lens(in.examples));
  all.push_back(deepdream_lens(in.photos));
  all.push_back(attribution_lens(in.examples));
  all.push_back(accentuation_lens(in.examples));
  all.push_back(training_lens(in.series, in.examples));
  return all;
}

}  // namespace

std::vector<std::string> known_lens_names() {
  const RenderSettings settings;
  std::vector<std::string> names;
  for (const auto& lens : every_lens(LensInputs{settings, nullptr, {}, nullptr, {}})) names.push_back(lens->name());
  return names;
}

LensSet make_lenses(const LensInputs& in) {
  LensSet set;
  std::vector<std::unique_ptr<Lens>> all = every_lens(in);
  const std::vector<std::string> known = known_lens_names();
  for (const auto& name : in.selected)
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw SettingError("lenses", "unknown lens '" + name + "' (known: " + join(known) + ")");
  auto wanted = [&](const std::string& name) {
    return in.selected.empty() || std::find(in.selected.begin(), in.selected.end(), name) != in.selected.end();
  };
  for (auto& lens : all) {
    if (!wanted(lens->name())) continue;
    if (!in.selected.empty() && !lens->active()) {
      throw SettingError("lenses", "lens '" + lens->name() + "' cannot be built here: " +
                                       (lens->name() == "diversity" ? std::string("--diversity is 0 (give 2-4)")
                                        : lens->name() == "training"
                                            ? std::string("it needs a checkpoint series (build from a series folder)")
                                            : std::string("it needs dataset examples (--images or --examples)")));
    }
    set.lenses.push_back(std::move(lens));
  }
  const bool examples_wanted = wanted("examples") || wanted("attribution") || wanted("accentuation");
  if (!in.examples && examples_wanted)
    set.notes.push_back("no --images or --examples: the dataset-examples, attribution and accentuation lenses are absent");
  if (in.series && !in.examples && wanted("training"))
    set.notes.push_back("no --images or --examples: the training lens draws strips, without example overlap or settle steps");
  if (in.photos.empty() && wanted("deepdream"))
    set.notes.push_back("no photos for caricatures (pass --photos or --examples): DeepDream from noise only");
  if (!in.selected.empty()) {  // in build order, so that finalize (which reads them back) writes the same note
    std::vector<std::string> names;
    for (const auto& lens : set.lenses) names.push_back(lens->name());
    set.notes.push_back("only the lenses selected with --lenses: " + join(names));
  }
  return set;
}

}  // namespace featvis::microscope
