#include <featvis/inference/layer_info.h>
#include <featvis/microscope/builder.h>
#include <featvis/microscope/examples_lens.h>
#include <featvis/render/recipe.h>
#include <featvis/render/transform/standard.h>
#include <featvis/microscope/lens_set.h>
#include <featvis/microscope/pages.h>
#include <featvis/microscope/site_path.h>
#include <featvis/microscope/work_plan.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/did_you_mean.h>
#include <featvis/util/json_diff.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <regex>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

Json read_json(const std::string& path) {
  try {
    return Json::parse(read_file(path));
  } catch (const Json::parse_error&) {
    throw Error("'" + path + "' is not valid JSON; remove it to rebuild that part");
  }
}

std::vector<int64_t> select_units(const std::string& spec, int64_t channels) {
  int64_t n = channels;
  if (spec != "all") {
    try {
      size_t used = 0;
      n = std::stoll(spec, &used);
      if (used != spec.size() || n < 1) throw std::invalid_argument(spec);
    } catch (const std::exception&) {
      throw SettingError("units", "units per layer '" + spec + "' must be a positive number or 'all'");
    }
  }
  std::vector<int64_t> units;
  for (int64_t u = 0; u < std::min(n, channels); ++u) units.push_back(u);
  return units;
}

// A killed run can leave "<file>.tmp.<pid>.<host>" behind (write_file_atomically's temporary).
void remove_stray_temporaries(const std::string& dir) {
  static const std::regex tmp(R"(.*\.tmp\.[0-9]+(\.[0-9a-f]+)?)");
  std::vector<fs::path> stray;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), tmp)) stray.push_back(e.path());
  for (const auto& p : stray) fs::remove(p);
}

}  // namespace

std::string recorded_examples_dir(const std::string& dir, const std::string& model_dir) {
  if (dir.empty() || fs::path(dir).is_relative()) return dir;
  const fs::path rel = fs::path(dir).lexically_relative(fs::weakly_canonical(model_dir));
  if (rel.empty() || *rel.begin() == "..") return dir;
  return rel.generic_string();
}

namespace {

Json read_build_record(const std::string& path) {
  try {
    return Json::parse(read_file(path));
  } catch (const Json::exception&) {
    throw Error("'" + path + "' is not a microscope build record");
  }
}

}  // namespace

std::string recorded_model_name(const std::string& build_json) {
  const Json settings = read_build_record(build_json);
  return settings.is_object() ? settings.value("model", "") : "";
}

BuildOptions recorded_build_options(const std::string& build_json, const std::string& site, const std::string& spectrum) {
  const Json settings = read_build_record(build_json);
  BuildOptions options;
  options.site = site;
  options.resume = true;
  try {
    options.layers = settings.at("layers").get<std::vector<std::string>>();
    options.units = settings.at("units").get<std::string>();
    options.render.steps = settings.at("steps");
    options.render.size = settings.at("size");
    options.render.batch = settings.at("batch");
    options.render.diversity = settings.at("diversity");
    options.render.diversity_weight = settings.at("diversity_weight");
    options.render.seed = settings.at("seed");
    options.render.thumb = settings.at("thumb");
    options.render.image_format = settings.value("image_format", "png");
    options.render.param = settings.value("param", "fft");
    options.render.transforms = settings.value("transforms", "");
    options.render.spectrum = spectrum;
    options.examples = settings.at("examples").get<std::string>();
    if (!options.examples.empty() && fs::path(options.examples).is_relative())
      options.examples = (fs::path(build_json).parent_path() / options.examples).string();
    options.photos = settings.at("photos").get<std::vector<std::string>>();
    // The selection the shards built (absent: every lens the inputs allowed).
    options.lenses = settings.value("selected_lenses", std::vector<std::string>{});
    // A checkpoint series' build: the caller opens the series again from its ref.
    if (settings.contains("series") && settings["series"].is_object())
      options.series_ref = settings["series"].value("ref", "");
  } catch (const Json::exception& e) {
    throw Error("'" + build_json + "' lacks a setting of the build (" + std::string(e.what()) + ")");
  }
  return options;
}

Builder::Builder(const model::Model& model, BuildOptions options) : model_(model), options_(std::move(options)) {
  const RenderSettings& s = options_.render;
  FEATVIS_CHECK_SETTING(s.steps >= 1, "steps", "render steps must be at least 1");
  FEATVIS_CHECK_SETTING(s.batch >= 1, "batch", "units per render batch must be at least 1");
  FEATVIS_CHECK_SETTING(s.diversity == 0 || (s.diversity >= 2 && s.diversity <= 4), "diversity",
                        "diversity images per unit must be 0 (off) or 2-4");
  FEATVIS_CHECK_SETTING(s.image_format == "webp" || s.image_format == "png", "image_format",
                        "picture format '", s.image_format, "' must be webp (lossy, small) or png (lossless)");
  // An unknown parameterization or a missing MACO spectrum fails here, before any work.
  if (render::param::parse_space(s.param) == render::param::Space::kMACO) render::maco_spectrum(s.spectrum, model);
  if (!s.transforms.empty()) render::transform::parse(s.transforms);
  model_dir_ = (fs::path(options_.site) / dataset_examples::layer_slug(model.card.name)).string();

  const std::vector<featvis::inference::LayerInfo> all = inference::describe_layers(model);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& l : all) shapes[l.name] = l.shape;
  std::vector<std::string> names = options_.layers;
  if (names.empty())
    for (const auto& l : model.card.layers) names.push_back(l.name);
  FEATVIS_CHECK_SETTING(!names.empty(), "layers", "model '", model.card.name, "' has no card layers; name the layers to build");
  for (const auto& name : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const featvis::inference::LayerInfo& l) { return l.name == name; });
    if (it == all.end()) {
      std::vector<std::string> known;
      for (const auto& l : all) known.push_back(l.name);
      const std::vector<size_t> near = did_you_mean(name, known, 1);
      throw Error("unknown layer '" + name + "' in model '" + model.card.name + "' (" +
                  (near.empty() ? "" : "did you mean '" + known[near[0]] + "'? ") + "see `featvis layers`)");
    }
    if (std::any_of(layers_.begin(), layers_.end(), [&](const LayerPlan& p) { return p.name == name; })) continue;
    LayerPlan plan;
    plan.name = name;
    plan.slug = dataset_examples::layer_slug(name);
    for (const auto& cl : model.card.layers)
      if (cl.name == name) plan.title = cl.title;
    plan.shape = it->shape;
    plan.channels = it->units;
    plan.tensor = model.card.visualization_tensor(name);
    if (plan.tensor != name) {
      auto tensor = std::find_if(all.begin(), all.end(),
                                 [&](const featvis::inference::LayerInfo& l) { return l.name == plan.tensor; });
      if (tensor == all.end() || tensor->shape != plan.shape) {
        throw Error("model card '" + model.card.name + "': the visualization tensor '" + plan.tensor + "' of layer '" + name +
                    "' " + (tensor == all.end() ? "is not a layer" : "has another shape than the layer"));
      }
    }
    plan.units = select_units(options_.units, plan.channels);
    for (const auto& other : layers_)
      if (other.slug == plan.slug) throw Error("layers '" + other.name + "' and '" + name + "' have the same directory name");
    layer_cost_.push_back(forward_cost(model.graph, shapes, plan.tensor));
    layers_.push_back(std::move(plan));
  }

  std::vector<std::string> photos = options_.photos;
  std::shared_ptr<const ExamplesSource> examples;
  if (!options_.examples.empty()) {
    examples = std::make_shared<const ExamplesSource>(read_examples_source(options_.examples));
    const dataset_examples::ExamplesIndex& index = examples->index;
    if (index.model != model.card.name) {
      throw SettingError("examples", "dataset examples '" + options_.examples + "' were scanned on model '" +
                                         index.model + "', not '" + model.card.name + "'");
    }
    examples_dir_ = recorded_examples_dir(fs::weakly_canonical(options_.examples).string(), model_dir_);
    if (photos.empty() && !index.images.empty()) {
      photos.push_back((fs::path(index.images_root) / index.images.front()).string());
      if (index.images.size() > 1) photos.push_back((fs::path(index.images_root) / index.images[index.images.size() / 2]).string());
    }
  }
  for (const auto& p : photos)
    if (!fs::is_regular_file(p)) throw Error("caricature photo '" + p + "' not found");
  options_.photos = photos;
  if (options_.series) {
    FEATVIS_CHECK(!options_.series->checkpoints.empty() &&
                      fs::weakly_canonical(options_.series->checkpoints.back().onnx_path) == fs::weakly_canonical(model.onnx_path),
                  "a microscope of a checkpoint series renders its last checkpoint, not '", model.onnx_path, "'");
  }
  LensSet set = make_lenses(LensInputs{s, examples, photos, options_.series, options_.lenses});
  lenses_ = std::move(set.lenses);
  notes_ = std::move(set.notes);

  const std::string settings_path = (fs::path(model_dir_) / "build.json").string();
  if (fs::exists(settings_path)) {
    if (!options_.resume && !options_.shard.sharded()) {
      throw SettingError("resume", "'" + options_.site + "' already holds a microscope build of '" +
                                       model.card.name + "': resume it, or build into another directory");
    }
    Json before = read_json(settings_path);
    // Builds before the image_format setting wrote PNGs.
    if (!before.contains("image_format")) before["image_format"] = "png";
    // Builds before relative records named their own examples by the absolute path.
    if (before.contains("examples") && before["examples"].is_string())
      before["examples"] = recorded_examples_dir(before["examples"].get<std::string>(), model_dir_);
    refuse_other_tensors(before);
    // Another lens selection is a different site (and, sharded, another split of the work).
    const Json now = settings_json();
    if (before.value("lenses", Json()) != now["lenses"] || before.value("selected_lenses", Json()) != now.value("selected_lenses", Json())) {
      auto text = [](const Json& settings) {
        std::string names;
        for (const auto& n : settings.value("lenses", Json::array())) names += (names.empty() ? "" : ",") + n.get<std::string>();
        return names + (settings.contains("selected_lenses") ? " (selected with --lenses)" : " (no --lenses)");
      };
      throw SettingError("lenses", "the build in '" + model_dir_ + "' has lenses " + text(before) + ", this one " +
                                       text(now) + "; use the same --lenses or another directory");
    }
    const std::string diff = first_difference(settings_json(), before);
    if (!diff.empty()) {
      throw SettingError("resume", "settings differ from the build in '" + model_dir_ + "' (" + diff +
                                       "); use the same settings or another directory");
    }
  }
}

Builder::~Builder() = default;

std::vector<std::string> Builder::lens_names() const {
  std::vector<std::string> names;
  for (const auto& l : lenses_)
    if (l->active()) names.push_back(l->name());
  return names;
}

Json Builder::settings_json() const {
  const RenderSettings& s = options_.render;
  Json layers = Json::array();
  Json visualized = Json::object();  // only the layers optimized as another tensor
  for (const auto& l : layers_) {
    layers.push_back(l.name);
    if (l.tensor != l.name) visualized[l.name] = l.tensor;
  }
  Json settings{{"format", kSiteFormat},
                {"model", model_.card.name},
                {"model_file", fs::path(model_.onnx_path).filename().string()},
                {"layers", layers},
                {"units", options_.units},
                {"steps", s.steps},
                {"size", s.size > 0 ? s.size : model_.card.preprocessing.height},
                {"batch", s.batch},
                {"diversity", s.diversity},
                {"diversity_weight", s.diversity_weight},
                {"seed", s.seed},
                {"thumb", s.thumb},
                {"image_format", s.image_format},
                {"preset", "lucid"},
                {"lenses", lens_names()},
                {"examples", examples_dir_},
                {"photos", options_.photos}};
  // Absent when every layer is optimized as itself, so such builds resume as before.
  if (!visualized.empty()) settings["visualized"] = visualized;
  // Only with --lenses: a default build's record stays as it was.
  if (!options_.lenses.empty()) settings["selected_lenses"] = lens_names();
  // Likewise absent for the default parameterization and transforms.
  if (s.param != "fft") settings["param"] = s.param;
  if (!s.transforms.empty()) settings["transforms"] = s.transforms;
  if (options_.series) {
    Json steps = Json::array();
    for (const auto& cp : options_.series->checkpoints) steps.push_back(cp.step);
    settings["series"] = Json{{"ref", options_.series_ref}, {"steps", steps}};
  }
  return settings;
}

// A site built before the card named a layer's visualization tensor (or with another one)
// holds pictures of other tensors; mixing them would make the pages lie.
void Builder::refuse_other_tensors(const Json& before) const {
  const Json old = before.value("visualized", Json::object());
  for (const auto& l : layers_) {
    const std::string then = old.value(l.name, l.name);
    if (then != l.tensor) {
      throw SettingError("resume", "the build in '" + model_dir_ + "' optimized layer '" + l.name + "' as '" + then +
                                       "', this one optimizes '" + l.tensor +
                                       "' (the model card's \"visualize\"); rebuild it in another directory");
    }
  }
}

bool Builder::unit_done(const LayerPlan& layer, int64_t unit) const {
  return fs::is_regular_file(fs::path(unit_dir(model_dir_, layer.slug, unit)) / "unit.json");
}

Estimate Builder::estimate() {
  Estimate e;
  const LensContext ctx{model_, options_.render, model_dir_};
  // This shard's work items (all of them unsharded): the same split build() uses.
  const std::vector<WorkItem> items = work_items();
  const std::vector<int64_t> owner = assign_shards(items, options_.shard.count);
  double ms_total = 0;
  for (size_t li = 0; li < layers_.size(); ++li) {
    const LayerPlan& layer = layers_[li];
    ++e.build_layers;
    e.build_units += static_cast<int64_t>(layer.units.size());
    bool own_layer = false;
    std::vector<int64_t> units;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].layer != li || owner[i] != options_.shard.index) continue;
      if (items[i].units.empty()) own_layer = true;
      units.insert(units.end(), items[i].units.begin(), items[i].units.end());
    }
    if (!own_layer && units.empty()) continue;  // nothing of this share here
    ++e.layers;
    const bool layer_done = !own_layer || fs::is_regular_file(fs::path(model_dir_) / layer.slug / "layer.json");
    int64_t left = 0;
    for (int64_t u : units) left += unit_done(layer, u) ? 0 : 1;
    e.units += static_cast<int64_t>(units.size());
    e.units_left += left;
    e.layers_left += own_layer && !layer_done ? 1 : 0;
    double steps[2] = {0, 0};  // by Lens::reads_whole_layer
    for (const auto& lens : lenses_) {
      if (!lens->active()) continue;
      steps[lens->reads_whole_layer()] +=
          (layer_done ? 0 : lens->layer_image_steps(options_.render)) + left * lens->unit_image_steps(options_.render);
    }
    const int64_t batch = std::min<int64_t>(options_.render.batch, static_cast<int64_t>(layer.units.size()));
    double ms[2] = {0, 0};
    for (int whole = 0; whole < 2; ++whole)
      if (steps[whole] > 0 || (whole == 0 && steps[1] == 0)) ms[whole] = time_image_step(ctx, layer, batch, whole);
    const double layer_steps = steps[0] + steps[1];
    ms_total += layer_steps > 0 ? (steps[0] * ms[0] + steps[1] * ms[1]) / layer_steps : ms[0];
    e.image_steps += layer_steps;
    e.seconds += (steps[0] * ms[0] + steps[1] * ms[1]) / 1000.0;
  }
  e.ms_per_image_step = e.layers == 0 ? 0 : ms_total / static_cast<double>(e.layers);
  return e;
}

Json Builder::manifest_json(const Json& layers) const {
  return Json{{"format", kSiteFormat},
              {"model", model_.card.name},
              {"description", model_.card.description},
              {"settings", settings_json()},
              {"lenses", lens_names()},
              {"notes", notes_},
              {"layers", layers}};
}

std::vector<WorkItem> Builder::work_items() const {
  double layer_steps = 0, unit_steps = 0;
  for (const auto& lens : lenses_) {
    if (!lens->active()) continue;
    layer_steps += lens->layer_image_steps(options_.render);
    unit_steps += lens->unit_image_steps(options_.render);
  }
  return plan_work(layers_, options_.render.batch, layer_cost_, layer_steps, unit_steps);
}

BuildSummary Builder::build() {
  const auto start = std::chrono::steady_clock::now();
  const Shard& shard = options_.shard;
  make_dirs(model_dir_);
  // Other shards may be writing now: their temporaries are not stray (finalize removes them).
  if (options_.resume && !shard.sharded()) remove_stray_temporaries(model_dir_);
  // Every shard writes the same bytes here (the constructor checked the settings).
  write_file_atomically((fs::path(model_dir_) / "build.json").string(), settings_json().dump(2) + "\n");

  const std::vector<WorkItem> items = work_items();
  const std::vector<int64_t> owner = assign_shards(items, shard.count);
  auto mine = [&](size_t i) { return owner[i] == shard.index; };

  const LensContext ctx{model_, options_.render, model_dir_};
  BuildSummary summary;
  int64_t total = 0;
  for (size_t i = 0; i < items.size(); ++i)
    if (mine(i))
      for (int64_t u : items[i].units) total += unit_done(layers_[items[i].layer], u) ? 0 : 1;
  ProgressBar bar(total, shard.sharded() ? "microscope " + std::to_string(shard.index) + "/" + std::to_string(shard.count)
                                         : std::string("microscope"),
                  options_.progress);
  int64_t done = 0;
  auto stop = [&] { return options_.stop_requested && options_.stop_requested(); };

  for (size_t i = 0; i < items.size() && !stop(); ++i) {
    if (!mine(i)) continue;
    const LayerPlan& layer = layers_[items[i].layer];
    const std::string layer_dir = (fs::path(model_dir_) / layer.slug).string();
    if (items[i].units.empty()) {  // the layer's own work
      const std::string layer_json = (fs::path(layer_dir) / "layer.json").string();
      if (fs::is_regular_file(layer_json)) continue;
      bar.update(done, layer.name + " (layer)");
      make_dirs(layer_dir);
      Json lenses = Json::object();
      for (const auto& lens : lenses_) {
        if (!lens->active()) continue;
        Json entry = lens->build_layer(ctx, layer);
        if (!entry.is_null()) lenses[lens->name()] = entry;
      }
      const Json record{{"name", layer.name},  {"tensor", layer.tensor},     {"slug", layer.slug},  {"title", layer.title},
                        {"shape", layer.shape}, {"channels", layer.channels}, {"units", layer.units},
                        {"lenses", lenses}};
      write_file_atomically(layer_json, record.dump(2) + "\n");
      ++summary.layers_rendered;
      continue;
    }
    const std::vector<int64_t>& group = items[i].units;
    const int64_t pending = std::count_if(group.begin(), group.end(), [&](int64_t u) { return !unit_done(layer, u); });
    if (pending == 0) {
      summary.units_skipped += static_cast<int64_t>(group.size());
      continue;
    }
    // The whole batch even when some of its units are done (a run killed between their
    // unit.json files): its pictures are seeded and optimized per batch, so rendering only
    // the rest would draw other pictures than an uninterrupted build.
    UnitEntries entries;
    for (const auto& lens : lenses_)
      if (lens->active()) lens->build_units(ctx, layer, group, entries);
    // unit.json last: it is the done marker, written once all of the unit's files are.
    // One already there (written meanwhile by an overlapping shard) stays as it is.
    for (int64_t u : group) {
      if (unit_done(layer, u)) {
        ++summary.units_skipped;
        continue;
      }
      const std::string dir = unit_dir(model_dir_, layer.slug, u);
      make_dirs(dir);
      const Json record{{"model", model_.card.name}, {"layer", layer.name}, {"slug", layer.slug},
                        {"unit", u},                 {"lenses", entries.count(u) ? entries[u] : Json::object()}};
      write_file_atomically((fs::path(dir) / "unit.json").string(), record.dump(2) + "\n");
      ++summary.units_rendered;
    }
    done += pending;
    bar.update(done, layer.name + ":" + std::to_string(group.back()));
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.seconds_per_unit = summary.units_rendered > 0 ? summary.seconds / static_cast<double>(summary.units_rendered) : 0;
  if (stop()) {
    summary.interrupted = true;
    return summary;
  }
  bar.finish();
  if (shard.sharded()) return summary;  // `featvis microscope finalize` lays the site out

  const FinalizeSummary site = finalize();
  if (!site.missing.empty()) throw Error("the build finished but '" + site.missing.front() + "' is missing");
  summary.manifest = site.manifest;
  return summary;
}

FinalizeSummary Builder::finalize() {
  FinalizeSummary summary;
  FEATVIS_CHECK(fs::is_regular_file(fs::path(model_dir_) / "build.json"), "'", model_dir_,
                "' holds no microscope build (no build.json)");
  remove_stray_temporaries(model_dir_);
  // With a shard count, each missing item names its shard, so the user reruns just those.
  const std::vector<WorkItem> items = work_items();
  const std::vector<int64_t> owner = assign_shards(items, options_.shard.count);
  auto owner_of = [&](size_t layer, int64_t unit) -> std::string {
    if (!options_.shard.sharded()) return "";
    for (size_t i = 0; i < items.size(); ++i) {
      const bool hit = items[i].layer == layer && (unit < 0 ? items[i].units.empty()
                                                            : std::count(items[i].units.begin(), items[i].units.end(), unit) > 0);
      if (hit) {
        summary.missing_shards.insert(owner[i]);
        return " (shard " + std::to_string(owner[i]) + "/" + std::to_string(options_.shard.count) + ")";
      }
    }
    return "";
  };
  Json layers = Json::array();
  size_t layer_index = 0;
  std::vector<std::vector<Json>> units;
  for (const auto& layer : layers_) {
    const size_t li = layer_index++;
    const std::string layer_json = (fs::path(model_dir_) / layer.slug / "layer.json").string();
    if (!fs::is_regular_file(layer_json)) {
      summary.missing.push_back(layer.name + " (layer)" + owner_of(li, -1));
      continue;
    }
    Json record = read_json(layer_json);
    units.emplace_back();
    Json present = Json::array(), missing = Json::array();
    for (int64_t u : layer.units) {
      if (!unit_done(layer, u)) {
        missing.push_back(u);
        summary.missing.push_back(layer.name + ":" + std::to_string(u) + owner_of(li, u));
        continue;
      }
      units.back().push_back(read_json((fs::path(unit_dir(model_dir_, layer.slug, u)) / "unit.json").string()));
      present.push_back(u);
    }
    summary.units += static_cast<int64_t>(present.size());
    // Only a partial site says what it lacks; a complete one is the one-process build's bytes.
    if (!missing.empty()) {
      record["units"] = present;
      record["missing"] = missing;
    }
    layers.push_back(record);
    ++summary.layers;
  }
  const Json manifest = manifest_json(layers);
  write_model_pages(model_dir_, manifest, units, lenses_);
  summary.manifest = (fs::path(model_dir_) / "manifest.json").string();
  write_file_atomically(summary.manifest, manifest.dump(2) + "\n");
  write_site_index(options_.site);
  return summary;
}

}  // namespace featvis::microscope
