#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

const char* const kFormat = "featvis-examples/1";

class ExamplesLens : public Lens {
 public:
  explicit ExamplesLens(ExamplesIndex index) : index_(std::move(index)) {}
  std::string name() const override { return "examples"; }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    const Json* units = nullptr;
    for (const auto& l : index_.layers)
      if (l.value("name", "") == layer.name) units = &l.at("units");
    if (units == nullptr) return;  // this layer was not scanned: the page says so
    for (int64_t u : group) {
      for (const auto& unit : *units) {
        if (unit.value("unit", int64_t{-1}) != u) continue;
        const std::string dir = unit_dir(ctx.model_dir, layer.slug, u);
        make_dirs((fs::path(dir) / "examples").string());
        Json top = Json::array();
        int i = 0;
        for (const auto& e : unit.value("top_max", Json::array())) {
          const std::string crop = e.at("crop").get<std::string>();
          const std::string name = "examples/" + std::to_string(i++) + ".jpg";
          write_file_atomically((fs::path(dir) / name).string(), read_file(crop_path(crop)));
          top.push_back(Json{{"crop", name},
                             {"image", photo(e)},
                             {"score", e.at("score")},
                             {"box", e.value("box", Json::array())}});
        }
        Json mean = Json::array();
        for (const auto& e : unit.value("top_mean", Json::array()))
          mean.push_back(Json{{"image", photo(e)}, {"score", e.at("score")}});
        entries[u][name()] = Json{{"top_max", top}, {"top_mean", mean}};
      }
    }
  }

 private:
  // Crops must stay inside the examples directory.
  std::string crop_path(const std::string& crop) const {
    const fs::path rel(crop);
    bool escapes = rel.is_absolute();
    for (const auto& part : rel) escapes = escapes || part == "..";
    if (escapes) throw Error("examples index '" + index_.dir + "/index.json': crop path '" + crop + "' leaves the directory");
    const fs::path p = fs::path(index_.dir) / rel;
    if (!fs::is_regular_file(p)) throw Error("examples index '" + index_.dir + "/index.json': crop '" + crop + "' is missing");
    return p.string();
  }
  std::string photo(const Json& e) const {
    const int64_t i = e.at("image").get<int64_t>();
    if (i < 0 || i >= static_cast<int64_t>(index_.images.size())) {
      throw Error("examples index '" + index_.dir + "/index.json': image " + std::to_string(i) + " out of range");
    }
    return index_.images[static_cast<size_t>(i)];
  }

  ExamplesIndex index_;
};

}  // namespace

ExamplesIndex read_examples_index(const std::string& dir) {
  const std::string path = (fs::path(dir) / "index.json").string();
  if (!fs::is_regular_file(path)) {
    throw Error("--examples '" + dir + "' has no index.json (write it with `featvis examples ... --out " + dir + "`)");
  }
  Json j;
  try {
    j = Json::parse(read_file(path));
  } catch (const Json::parse_error& e) {
    throw Error("examples index '" + path + "' is not valid JSON");
  }
  if (!j.is_object() || j.value("format", "") != kFormat) {
    throw Error("examples index '" + path + "' is not in format " + kFormat);
  }
  try {
    ExamplesIndex index;
    index.dir = dir;
    index.model = j.at("model").get<std::string>();
    index.images_root = j.value("images_root", "");
    index.images = j.at("images").get<std::vector<std::string>>();
    index.layers = j.at("layers");
    for (const auto& l : index.layers) {
      l.at("name").get<std::string>();
      for (const auto& u : l.at("units")) u.at("unit").get<int64_t>();
    }
    return index;
  } catch (const Json::exception& e) {
    throw Error("examples index '" + path + "': missing or wrong field (" + std::string(e.what()) + ")");
  }
}

std::unique_ptr<Lens> examples_lens(ExamplesIndex index) { return std::make_unique<ExamplesLens>(std::move(index)); }

}  // namespace featvis::microscope
