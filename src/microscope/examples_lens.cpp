#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/html.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

const dataset_examples::LayerIndex* find_layer(const dataset_examples::ExamplesIndex& index, const std::string& name) {
  for (const auto& l : index.layers)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace

const dataset_examples::LayerIndex* ranking_of(const dataset_examples::ExamplesIndex& index, const LayerPlan& layer) {
  const dataset_examples::LayerIndex* ranked = find_layer(index, layer.tensor);
  return ranked != nullptr ? ranked : find_layer(index, layer.name);
}

std::vector<TopPhoto> top_photos(const ExamplesSource& source, const LayerPlan& layer, const std::vector<int64_t>& group) {
  std::vector<TopPhoto> photos;
  const dataset_examples::LayerIndex* scanned = ranking_of(source.index, layer);
  if (scanned == nullptr) return photos;
  for (int64_t u : group) {
    for (const dataset_examples::UnitExamples& unit : scanned->units) {
      if (unit.unit != u || unit.top_mean.empty()) continue;
      const std::string name = source.index.images.at(static_cast<size_t>(unit.top_mean.front().image));
      photos.push_back({u, name, (fs::path(source.index.images_root) / name).string()});
    }
  }
  return photos;
}

namespace {

class ExamplesLens : public Lens {
 public:
  explicit ExamplesLens(std::shared_ptr<const ExamplesSource> source) : source_(std::move(source)) {}
  std::string name() const override { return "examples"; }
  bool active() const override { return source_ != nullptr; }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    const dataset_examples::LayerIndex* scanned = ranking_of(source_->index, layer);
    if (scanned == nullptr) return;  // this layer was not scanned: the page says so
    for (int64_t u : group) {
      for (const dataset_examples::UnitExamples& unit : scanned->units) {
        if (unit.unit != u) continue;
        const std::string dir = unit_dir(ctx.model_dir, layer.slug, u);
        make_dirs((fs::path(dir) / "examples").string());
        Json top = Json::array();
        int i = 0;
        for (const dataset_examples::ExampleEntry& e : unit.top_max) {
          const std::string name = "examples/" + std::to_string(i++) + ".jpg";
          write_file_atomically((fs::path(dir) / name).string(), read_file(crop_path(e.crop)));
          top.push_back(Json{{"crop", name}, {"image", photo(e)}, {"score", e.score}, {"box", e.box}});
        }
        Json mean = Json::array();
        for (const dataset_examples::ExampleEntry& e : unit.top_mean) mean.push_back(Json{{"image", photo(e)}, {"score", e.score}});
        entries[u][name()] = Json{{"top_max", top}, {"top_mean", mean}, {"tensor", scanned->name}};
      }
    }
  }

  std::optional<PageSection> unit_section(const Json& entry) const override {
    const std::string title = "Dataset examples";
    if (entry.is_null() || entry["top_max"].empty()) {
      return PageSection{title,
                         html_absent(active() ? "This unit is not in the examples index."
                                              : "Dataset examples are not in this build (build with --examples DIR from "
                                                "`featvis examples`)."),
                         true};
    }
    std::string html = "<div class=\"examples\">";
    for (const auto& e : entry["top_max"]) {
      html += "<figure>" + html_img(e["crop"], e["image"].get<std::string>()) + "<figcaption>" +
              html_number(e["score"].get<double>()) + "</figcaption></figure>";
    }
    html += "</div><p class=\"sub\">Crops of the photos that excite the unit most: what it <em>correlates</em> with.";
    if (entry.contains("tensor")) html += " Ranked by the maximum of <code>" + html_escape(entry["tensor"].get<std::string>()) + "</code>.";
    html += "</p>";
    return PageSection{title, html, true};
  }

 private:
  // Crops must stay inside the examples directory.
  std::string crop_path(const std::string& crop) const {
    const fs::path rel(crop);
    bool escapes = rel.is_absolute();
    for (const auto& part : rel) escapes = escapes || part == "..";
    const std::string index = source_->dir + "/index.json";
    if (crop.empty())
      throw Error("examples index '" + index + "' has no crops (written with --no-crops); write them with `featvis examples` "
                  "without --no-crops");
    if (escapes) throw Error("examples index '" + index + "': crop path '" + crop + "' leaves the directory");
    const fs::path p = fs::path(source_->dir) / rel;
    if (!fs::is_regular_file(p)) throw Error("examples index '" + index + "': crop '" + crop + "' is missing");
    return p.string();
  }
  std::string photo(const dataset_examples::ExampleEntry& e) const {
    const auto& images = source_->index.images;
    if (e.image < 0 || e.image >= static_cast<int64_t>(images.size())) {
      throw Error("examples index '" + source_->dir + "/index.json': image " + std::to_string(e.image) +
                  " out of range");
    }
    return images[static_cast<size_t>(e.image)];
  }

  std::shared_ptr<const ExamplesSource> source_;
};

}  // namespace

ExamplesSource read_examples_source(const std::string& dir) {
  const std::string path = (fs::path(dir) / "index.json").string();
  if (!fs::is_regular_file(path)) {
    throw SettingError("examples", "dataset examples '" + dir + "' have no index.json (write it with `featvis examples ... --out " +
                                       dir + "`)");
  }
  return ExamplesSource{dir, dataset_examples::read_examples_index(path)};
}

std::unique_ptr<Lens> examples_lens(std::shared_ptr<const ExamplesSource> source) {
  return std::make_unique<ExamplesLens>(std::move(source));
}

}  // namespace featvis::microscope
