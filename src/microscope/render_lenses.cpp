// The lenses that come from feature visualization: channel, neuron, diversity, DeepDream
// and caricatures, all through render::render with the "lucid" preset and the build's
// parameterization (--param).
#include <featvis/image/image.h>
#include <featvis/microscope/html.h>
#include <featvis/microscope/lens.h>
#include <featvis/microscope/site_path.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/recipe.h>

#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

int64_t image_size(const LensContext& ctx) {
  return ctx.settings.size > 0 ? ctx.settings.size : ctx.model.card.preprocessing.height;
}

render::RenderResult optimize(const LensContext& ctx, const objective::Objective& objective, int64_t batch, uint64_t seed,
                              const at::Tensor& init = {}, int64_t steps = 0) {
  render::Recipe recipe = lens_recipe(ctx, batch, seed, steps);
  // A start image needs an image-space parameterization: DeepDream from a photo stays FFT.
  if (init.defined()) recipe.space.reset();
  render::Prepared prepared = render::prepare(recipe, ctx.model, objective);
  prepared.image.init_image = init;
  return prepared.run(ctx.model, objective);
}

// The tensor a render optimized, for its page section (entries written before it was
// recorded optimized the layer itself).
std::string optimized_tensor(const Json& entry) {
  if (!entry.contains("tensor")) return "the layer";
  return "<code>" + html_escape(entry["tensor"].get<std::string>()) + "</code>";
}

Json pair_json(const ImagePair& p) { return Json{{"image", p.image}, {"thumb", p.thumb}}; }

// Channel and neuron: one unit per batch item, the whole group in one optimization.
class PerUnitLens : public Lens {
 public:
  using Make = objective::Objective (*)(const std::string& layer, int64_t unit);
  PerUnitLens(std::string name, Make make) : name_(std::move(name)), make_(make) {}
  std::string name() const override { return name_; }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    std::vector<objective::Objective> items;
    for (int64_t u : group) items.push_back(make_(layer.tensor, u));
    const auto result = optimize(ctx, objective::per_item(items), static_cast<int64_t>(group.size()),
                                 lens_seed(ctx.settings.seed, name_, layer.name, group.front()));
    for (size_t i = 0; i < group.size(); ++i) {
      const std::string dir = unit_dir(ctx.model_dir, layer.slug, group[i]);
      make_dirs(dir);
      Json entry = pair_json(save_image_pair(dir, name_, result.images[static_cast<int64_t>(i)], ctx.settings));
      entry["activation"] = result.final_values()[i];
      entry["tensor"] = layer.tensor;
      entries[group[i]][name_] = entry;
    }
  }
  double unit_image_steps(const RenderSettings& s) const override { return static_cast<double>(s.steps); }

 private:
  std::string name_;
  Make make_;
};

class ChannelLens : public PerUnitLens {
 public:
  ChannelLens() : PerUnitLens("channel", [](const std::string& layer, int64_t unit) { return objective::channel(layer, unit); }) {}
  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (entry.is_null()) return PageSection{"Feature visualization", html_absent("Not in this build."), true};
    return PageSection{"Feature visualization",
                       html_img(entry["image"], "channel visualization", "big") +
                           "<p class=\"sub\">Optimized to maximize the channel's mean of " + optimized_tensor(entry) +
                           " (reached " + html_number(entry.value("activation", 0.0)) +
                           "): what <em>causes</em> the unit to fire.</p>",
                       true};
  }
  std::string unit_thumbnail(const Json& entry) const override {
    return entry.is_null() ? std::string() : entry["thumb"].get<std::string>();
  }
};

class NeuronLens : public PerUnitLens {
 public:
  NeuronLens() : PerUnitLens("neuron", [](const std::string& layer, int64_t unit) { return objective::neuron(layer, unit); }) {}
  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (entry.is_null()) return PageSection{"Neuron (centre position)", html_absent("Not in this build.")};
    return PageSection{"Neuron (centre position)",
                       "<div class=\"figs\"><figure>" + html_img(entry["image"], "neuron visualization") +
                           "<figcaption>" + optimized_tensor(entry) + " " + html_number(entry.value("activation", 0.0)) +
                           "</figcaption></figure></div>"};
  }
};

class DiversityLens : public Lens {
 public:
  explicit DiversityLens(int64_t diversity) : active_(diversity > 0) {}
  std::string name() const override { return "diversity"; }
  bool active() const override { return active_; }
  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    for (int64_t u : group) {
      const objective::Objective objective =
          objective::channel(layer.tensor, u) - ctx.settings.diversity_weight * objective::diversity(layer.tensor);
      const auto result = optimize(ctx, objective, ctx.settings.diversity, lens_seed(ctx.settings.seed, name(), layer.name, u));
      const std::string dir = unit_dir(ctx.model_dir, layer.slug, u);
      make_dirs(dir);
      Json images = Json::array();
      for (int64_t i = 0; i < ctx.settings.diversity; ++i) {
        images.push_back(pair_json(save_image_pair(dir, "diversity_" + std::to_string(i), result.images[i], ctx.settings)));
      }
      entries[u][name()] = Json{{"images", images}, {"tensor", layer.tensor}};
    }
  }
  double unit_image_steps(const RenderSettings& s) const override {
    return static_cast<double>(s.steps * s.diversity);
  }
  bool reads_whole_layer() const override { return true; }  // the Gram matrices of every channel
  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (entry.is_null()) return PageSection{"Diversity", html_absent("Not in this build (--diversity 0).")};
    std::string html = "<div class=\"figs\">";
    int i = 0;
    for (const auto& d : entry["images"]) html += "<figure>" + html_img(d["image"], "diversity " + std::to_string(i++)) + "</figure>";
    return PageSection{"Diversity", html + "</div><p class=\"sub\">Optimized: " + optimized_tensor(entry) + ".</p>"};
  }

 private:
  bool active_;
};

// The cosine's power in the caricatures (Lucid's cossim_pow): above 1 the picture follows the
// photo's pattern of activations more than their size.
constexpr double kCaricaturePower = 2.0;

class DeepDreamLens : public Lens {
 public:
  explicit DeepDreamLens(std::vector<std::string> photos) : photos_(std::move(photos)) {}
  std::string name() const override { return "deepdream"; }

  Json build_layer(const LensContext& ctx, const LayerPlan& layer) override {
    const std::string dir = (fs::path(ctx.model_dir) / layer.slug).string();
    make_dirs(dir);
    const objective::Objective objective = objective::deepdream(layer.tensor);
    const auto dream = optimize(ctx, objective, 1, lens_seed(ctx.settings.seed, "deepdream", layer.name, -1));
    Json entry{{"dream", pair_json(save_image_pair(dir, "deepdream", dream.images[0], ctx.settings))}};
    Json caricatures = Json::array();
    if (!photos_.empty()) {
      const int64_t size = image_size(ctx);
      std::vector<at::Tensor> starts;
      for (const auto& p : photos_) starts.push_back(image::load_image01(p, ctx.model.card.preprocessing, size, size));
      // Lucid's caricature: from noise, the layer's activations matched to each photo's
      // (DeepDream started from a photo stays a `featvis render --init` away).
      std::vector<objective::Objective> items;
      for (size_t i = 0; i < photos_.size(); ++i) {
        items.push_back(objective::caricature(layer.tensor, starts[i], photos_[i], kCaricaturePower));
      }
      const auto result = optimize(ctx, objective::per_item(items), static_cast<int64_t>(items.size()),
                                   lens_seed(ctx.settings.seed, "caricature", layer.name, -1));
      for (size_t i = 0; i < photos_.size(); ++i) {
        const std::string stem = "caricature_" + std::to_string(i);
        Json c = pair_json(save_image_pair(dir, stem, result.images[static_cast<int64_t>(i)], ctx.settings));
        c["photo"] = pair_json(save_image_pair(dir, stem + "_photo", starts[i], ctx.settings));
        c["source"] = fs::path(photos_[i]).filename().string();
        caricatures.push_back(c);
      }
    }
    entry["caricatures"] = caricatures;
    entry["tensor"] = layer.tensor;
    return entry;
  }
  bool reads_whole_layer() const override { return true; }
  double layer_image_steps(const RenderSettings& s) const override {
    // Each caricature's photo joins the batch: two rows per photo.
    return static_cast<double>(s.steps * static_cast<int64_t>(1 + 2 * photos_.size()));
  }
  std::optional<PageSection> layer_section(const Json& entry) const override {
    const std::string title = "DeepDream and caricatures";
    if (entry.is_null()) return PageSection{title, html_absent("Not in this build.")};
    std::string html = "<div class=\"figs\"><figure>" + html_img(entry["dream"]["image"], "DeepDream from noise") +
                       "<figcaption>the whole layer, from noise</figcaption></figure>";
    for (const auto& c : entry["caricatures"]) {
      html += "<figure>" + html_img(c["photo"]["image"], c["source"].get<std::string>()) + "<figcaption>" +
              html_escape(c["source"].get<std::string>()) + "</figcaption></figure><figure>" +
              html_img(c["image"], "caricature") + "<figcaption>its caricature</figcaption></figure>";
    }
    html += "</div>";
    if (entry["caricatures"].empty()) html += html_absent("No caricatures: the build had no photos.");
    html += "<p class=\"sub\">Optimized: DeepDream of " + optimized_tensor(entry) +
            "; each caricature, from noise, matches " + optimized_tensor(entry) + " to the photo's (Lucid's caricature).</p>";
    return PageSection{title, html};
  }

 private:
  std::vector<std::string> photos_;
};

}  // namespace

uint64_t lens_seed(uint64_t seed, const std::string& lens, const std::string& layer, int64_t first_unit) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : lens + '\0' + layer + '\0' + std::to_string(first_unit)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

render::Recipe lens_recipe(const LensContext& ctx, int64_t batch, uint64_t seed, int64_t steps) {
  render::Recipe recipe;
  recipe.space = render::param::parse_space(ctx.settings.param);
  recipe.spectrum = ctx.settings.spectrum;
  if (!ctx.settings.transforms.empty()) recipe.transforms = ctx.settings.transforms;
  recipe.size = image_size(ctx);
  recipe.batch = batch;
  recipe.steps = steps > 0 ? steps : ctx.settings.steps;
  recipe.seed = seed;
  return recipe;
}

double time_image_step(const LensContext& ctx, const LayerPlan& layer, int64_t batch, bool whole_layer) {
  std::vector<objective::Objective> items;
  for (int64_t i = 0; i < batch; ++i) items.push_back(objective::channel(layer.tensor, i % layer.channels));
  const objective::Objective units = objective::per_item(items);
  const objective::Objective objective = whole_layer ? units.read_whole() : units;
  // A render's first steps use the redirected ReLU gradient (a pass more at each clamp in
  // the backward); all run the blocked network (graph/blocked_backprop.h), compiled once
  // per image size that the transforms draw. Time each kind after a warm-up with the same
  // seed (so the same sizes, already compiled), and weight them as a render of the build's
  // steps has them.
  const render::Prepared plan = render::prepare(lens_recipe(ctx, batch, ctx.settings.seed), ctx.model, objective);
  const int64_t steps = std::max<int64_t>(plan.options.steps, 1);
  const int64_t redirected = std::min(plan.options.redirected_relu_steps, steps);
  auto ms_per_step = [&](int64_t n, bool redirect) {
    render::Recipe recipe = lens_recipe(ctx, batch, ctx.settings.seed, n);
    recipe.redirected_relu_steps = redirect ? n : 0;
    render::Prepared prepared = render::prepare(recipe, ctx.model, objective);
    return prepared.run(ctx.model, objective).ms_per_step;
  };
  double redirected_ms = 0;
  if (redirected > 0) {
    ms_per_step(1, true);  // warm-up: allocations, plan cache
    redirected_ms = ms_per_step(3, true);
  }
  ms_per_step(3, false);  // warm-up: the blocked programs of these sizes
  const double exact_ms = ms_per_step(3, false);
  const double ms = (static_cast<double>(redirected) * redirected_ms + static_cast<double>(steps - redirected) * exact_ms) /
                    static_cast<double>(steps);
  return ms / static_cast<double>(batch);
}

std::unique_ptr<Lens> channel_lens() { return std::make_unique<ChannelLens>(); }
std::unique_ptr<Lens> neuron_lens() { return std::make_unique<NeuronLens>(); }
std::unique_ptr<Lens> diversity_lens(int64_t diversity) { return std::make_unique<DiversityLens>(diversity); }
std::unique_ptr<Lens> deepdream_lens(std::vector<std::string> photos) {
  return std::make_unique<DeepDreamLens>(std::move(photos));
}

}  // namespace featvis::microscope
