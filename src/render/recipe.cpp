// The render recipe: see recipe.h.
#include <featvis/model/model.h>
#include <featvis/render/param/maco.h>
#include <featvis/render/recipe.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/check.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace featvis::render {

constexpr double kMacoLr = 1.0;

void check_settings(const RenderOptions& options, int64_t batch, const objective::Objective& objective) {
  FEATVIS_CHECK_SETTING(options.steps >= 0, "steps", "steps must be >= 0, got ", options.steps);
  FEATVIS_CHECK_SETTING(options.redirected_relu_steps >= 0, "redirect_relu",
                        "redirected ReLU steps must be >= 0, got ", options.redirected_relu_steps);
  FEATVIS_CHECK_SETTING(options.lr > 0 && std::isfinite(options.lr), "lr",
                        "learning rate must be positive and finite");
  // Adam scales float parameters by lr: beyond float's range that is an overflow error.
  FEATVIS_CHECK_SETTING(options.lr <= std::numeric_limits<float>::max(), "lr", "learning rate ", options.lr,
                        " is too large for float parameters (limit 3.4e38)");
  FEATVIS_CHECK_SETTING(options.weight_decay >= 0 && std::isfinite(options.weight_decay), "weight_decay",
                        "weight decay must be >= 0");
  for (int64_t t : options.thresholds) {
    FEATVIS_CHECK_SETTING(t >= 0 && t <= options.steps, "thresholds", "threshold ", t, " is outside 0..",
                          options.steps, " steps");
  }
  FEATVIS_CHECK_SETTING(batch >= 1, "batch", "batch must be at least 1, got ", batch);
  FEATVIS_CHECK_SETTING(objective.batch_size() == 0 || objective.batch_size() == batch, "batch", "objective '",
                        objective.description(), "' renders ", objective.batch_size(), " images, the batch is ",
                        batch);
}

at::Tensor maco_spectrum(const std::string& file, const model::Model& model) {
  if (!file.empty()) return param::read_spectrum(file);
  const std::string name = model.card.name + ".spectrum.npy";
  for (const std::string& dir : model::model_search_path()) {
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    if (std::filesystem::is_regular_file(path)) return param::read_spectrum(path.string());
  }
  throw SettingError("spectrum", "no natural-image spectrum '" + name + "' on the model search path; make it with "
                     "`featvis spectrum " + model.card.name + " --images DIR`");
}

Prepared prepare(const Recipe& recipe, const model::Model& model, const objective::Objective& objective) {
  Prepared p{preset(recipe.preset), {}, {}, {}, {}, at::make_generator<at::CPUGeneratorImpl>(recipe.seed)};
  const model::Preprocessing& card = model.card.preprocessing;
  p.image.batch = recipe.batch > 0 ? recipe.batch : std::max<int64_t>(1, objective.batch_size());
  p.image.space = recipe.space.value_or(p.preset.space);
  const bool maco = p.image.space == param::Space::kMACO;
  // MACO renders large and shows the network random crops at its input size.
  const int64_t canvas = maco ? 2 : 1;
  p.image.height = recipe.size > 0 ? recipe.size : canvas * card.height;
  p.image.width = recipe.size > 0 ? recipe.size : canvas * card.width;
  p.image.decorrelate = recipe.decorrelate.value_or(p.preset.decorrelate);
  p.image.squash = recipe.squash.value_or(p.preset.squash);
  p.image.decay_power = recipe.decay_power;
  p.image.sd = recipe.sd;
  p.image.tensor_options = at::TensorOptions().dtype(at::kFloat).device(model.graph.device());
  if (maco) p.image.magnitude = maco_spectrum(recipe.spectrum, model);
  p.transform_text = recipe.transforms.value_or(
      maco ? "crop(0.35,0.65," + std::to_string(card.height) + "),jitter(4)" : p.preset.transforms);
  p.transform = transform::parse(p.transform_text);
  p.options.steps = recipe.steps;
  // A CPPN's weights move the whole picture at once: Lucid optimizes it with lr 0.005.
  // MACO's phase is standardized every step, so steps must be large to move it (MACO uses 1).
  p.options.lr = recipe.lr.value_or(p.image.space == param::Space::kCPPN ? 0.005 : maco ? kMacoLr : p.preset.lr);
  p.options.importance = maco;
  p.options.weight_decay = recipe.weight_decay.value_or(p.preset.weight_decay);
  p.options.redirected_relu_steps = recipe.redirected_relu_steps.value_or(p.preset.redirected_relu_steps);
  p.options.thresholds = recipe.thresholds;
  check_settings(p.options, p.image.batch, objective);
  return p;
}

RenderResult Prepared::run(const model::Model& model, const objective::Objective& objective,
                           const SnapshotCallback& on_snapshot) {
  param::ImageParam param(image, generator);
  return render(model, objective, param, transform, options, generator, on_snapshot);
}

}  // namespace featvis::render
