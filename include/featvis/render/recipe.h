#pragma once
// One render recipe: a preset with its overrides, plus size, batch, steps and seed,
// becomes the parameterization, transforms and loop options of a render. `featvis
// render` and the Microscope's render lenses both start here, and every setting is
// checked here (check_settings), with one wording.
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/preset.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/transform.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace featvis::render {

struct Recipe {
  std::string preset = "lucid";
  // Overrides of the preset; unset = the preset's value.
  std::optional<param::Space> space;
  std::optional<bool> decorrelate;
  std::optional<param::Squash> squash;
  std::optional<std::string> transforms;  // transform::parse text
  std::optional<double> lr;
  std::optional<double> weight_decay;
  std::optional<int64_t> redirected_relu_steps;

  int64_t size = 0;   // image side in pixels; 0 = the card's input size
  int64_t batch = 0;  // 0 = what the objective needs, else 1
  int64_t steps = 512;
  uint64_t seed = 0;  // start image, then transforms
  double decay_power = 1.0;
  double sd = 0.01;
  std::vector<int64_t> thresholds;
  // MACO's natural-image spectrum (.npy from `featvis spectrum`); "" = "<card name>.spectrum.npy"
  // on the model search path.
  std::string spectrum;
};

// A recipe made concrete for one model and objective.
struct Prepared {
  Preset preset;
  param::ImageParamOptions image;  // init_image may still be set before run()
  std::string transform_text;
  transform::Transform transform;
  RenderOptions options;  // progress and stop_requested may still be set before run()
  at::Generator generator;

  // Builds the start image from `generator` and runs the loop (render()).
  RenderResult run(const model::Model& model, const objective::Objective& objective,
                   const SnapshotCallback& on_snapshot = {});
};

// Throws featvis::SettingError (the setting's name: preset, lr, weight_decay, steps,
// thresholds, batch) when a setting is out of range or the batch does not fit the
// objective.
Prepared prepare(const Recipe& recipe, const model::Model& model, const objective::Objective& objective);

// MACO's natural-image spectrum: `file`, or "" for <card name>.spectrum.npy on the model
// search path (written by `featvis spectrum`). Throws featvis::SettingError ("spectrum")
// naming that command when there is none, featvis::Error for a bad file.
at::Tensor maco_spectrum(const std::string& file, const model::Model& model);

// The checks of loop options and batch that prepare() and render() share.
void check_settings(const RenderOptions& options, int64_t batch, const objective::Objective& objective);

}  // namespace featvis::render
