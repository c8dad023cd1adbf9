#include <featvis/attribution/attribution.h>
#include <featvis/attribution/overlay.h>
#include <featvis/image/image.h>
#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/html.h>
#include <featvis/microscope/site_path.h>
#include <featvis/objective/kinds.h>

namespace featvis::microscope {
namespace {

class AttributionLens : public Lens {
 public:
  explicit AttributionLens(std::shared_ptr<const ExamplesSource> source) : source_(std::move(source)) {}
  std::string name() const override { return "attribution"; }
  bool active() const override { return source_ != nullptr; }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    const dataset_examples::LayerIndex* scanned = ranking_of(source_->index, layer);
    for (const TopPhoto& top : top_photos(*source_, layer, group)) {
      const at::Tensor image = image::load_image01(top.path, ctx.model.card.preprocessing).to(ctx.model.graph.device());
      attribution::AttributionOptions options;
      options.method = attribution::Method::kGradCam;
      // At the unit's own (spatial) layer Grad-CAM weighs only the unit's channel, so the
      // map is where it fires; a 1-D layer (logits) uses the last conv map instead.
      // The tensor the photo was ranked by: a capped (ReLU6) unit has no gradient where it saturates.
      if (layer.shape.size() == 4) options.grad_cam.layer = scanned->name;
      const attribution::Attribution a =
          attribution::attribute(ctx.model, objective::channel(scanned->name, top.unit), image, options);
      const std::string dir = unit_dir(ctx.model_dir, layer.slug, top.unit);
      make_dirs(dir);
      const ImagePair pair =
          save_image_pair(dir, "attribution",
                          attribution::overlay(image, a.map, {attribution::default_overlay_style(options.method)}),
                          ctx.settings.thumb);
      entries[top.unit][name()] = Json{{"image", pair.image},
                                       {"thumb", pair.thumb},
                                       {"photo", top.name},
                                        {"method", "gradcam"},
                                        {"layer", a.layer},
                                        {"value", a.target_value}};
    }
  }

  double unit_image_steps(const RenderSettings&) const override { return 2; }  // forward + backward

  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (entry.is_null()) {
      return PageSection{"Attribution",
                         html_absent("No attribution: it needs this unit's dataset examples (build with --images or --examples).")};
    }
    return PageSection{"Attribution",
                       "<div class=\"figs\"><figure>" + html_img(entry.value("image", ""), "attribution") + "<figcaption>" +
                           html_escape("Grad-CAM at " + entry.value("layer", std::string()) + " on " +
                                       entry.value("photo", std::string())) +
                           "</figcaption></figure></div>"};
  }

 private:
  std::shared_ptr<const ExamplesSource> source_;
};

}  // namespace

std::unique_ptr<Lens> attribution_lens(std::shared_ptr<const ExamplesSource> source) {
  return std::make_unique<AttributionLens>(std::move(source));
}

}  // namespace featvis::microscope
