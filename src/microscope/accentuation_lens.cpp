// The "accentuation" lens: each unit raised in its own top photo (feature accentuation,
// Hamblin et al. 2024): from the photo, channel + weight * distance(photo), so the picture
// stays the photo and shows what the unit sees in it. The units of a group render as one
// batch, one photo per item.
#include <featvis/image/image.h>
#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/html.h>
#include <featvis/microscope/site_path.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/recipe.h>

namespace featvis::microscope {
namespace {

// Keeps the result near the photo while the unit rises well above its value there
// (RMS distance about 0.06 for expanded_conv_12/expand:7; docs/gallery/README.md).
constexpr double kDistanceWeight = 20.0;

class AccentuationLens : public Lens {
 public:
  explicit AccentuationLens(std::shared_ptr<const ExamplesSource> source) : source_(std::move(source)) {}
  std::string name() const override { return "accentuation"; }
  bool active() const override { return source_ != nullptr; }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    const int64_t size = lens_recipe(ctx, 1, 0).size;
    const std::vector<TopPhoto> tops = top_photos(*source_, layer, group);
    if (tops.empty()) return;
    std::vector<at::Tensor> photos;
    std::vector<objective::Objective> items;
    for (const TopPhoto& top : tops) {
      photos.push_back(image::load_image01(top.path, ctx.model.card.preprocessing, size, size));
      items.push_back(objective::channel(layer.tensor, top.unit) + kDistanceWeight * objective::distance(photos.back(), top.name));
    }
    // The build's size, steps and transforms; FFT whatever --param says, since it starts from the photos.
    render::Recipe recipe = lens_recipe(ctx, static_cast<int64_t>(items.size()), ctx.settings.seed ^ static_cast<uint64_t>(group.front()));
    recipe.space = render::param::Space::kFFT;
    const objective::Objective objective = objective::per_item(items);
    render::Prepared prepared = render::prepare(recipe, ctx.model, objective);
    prepared.image.init_image = at::stack(photos).to(ctx.model.graph.device());
    const render::RenderResult result = prepared.run(ctx.model, objective);
    for (size_t i = 0; i < tops.size(); ++i) {
      const std::string dir = unit_dir(ctx.model_dir, layer.slug, tops[i].unit);
      make_dirs(dir);
      const at::Tensor picture = result.images[static_cast<int64_t>(i)];
      Json entry{{"image", save_image_pair(dir, "accentuation", picture, ctx.settings).image},
                 {"photo", tops[i].name},
                 {"weight", kDistanceWeight},
                 {"tensor", layer.tensor},
                 {"distance", (picture - photos[i]).pow(2).mean().sqrt().item<double>()}};
      entries[tops[i].unit][name()] = entry;
    }
  }

  double unit_image_steps(const RenderSettings& s) const override { return static_cast<double>(s.steps); }

  std::optional<PageSection> unit_section(const Json& entry) const override {
    const std::string title = "Accentuation";
    if (entry.is_null()) {
      return PageSection{title, html_absent("No accentuation: it needs this unit's dataset examples (build with "
                                            "--images or --examples).")};
    }
    return PageSection{title, "<div class=\"figs\"><figure>" + html_img(entry.value("image", ""), "accentuation") +
                                  "<figcaption>" +
                                  html_escape("raised in its top photo, " + entry.value("photo", std::string())) +
                                  "</figcaption></figure></div><p class=\"sub\">Feature accentuation: from the photo, "
                                  "<code>" + html_escape(entry.value("tensor", std::string())) +
                                  "</code> raised while " + html_number(entry.value("weight", 0.0)) +
                                  " &times; its RMS distance to the photo holds the picture near it (now " +
                                  html_number(entry.value("distance", 0.0)) + ").</p>"};
  }

 private:
  std::shared_ptr<const ExamplesSource> source_;
};

}  // namespace

std::unique_ptr<Lens> accentuation_lens(std::shared_ptr<const ExamplesSource> source) {
  return std::make_unique<AccentuationLens>(std::move(source));
}

}  // namespace featvis::microscope
