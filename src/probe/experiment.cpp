#include <featvis/graph/layer_name.h>
#include <featvis/io/npy.h>
#include <featvis/probe/experiment.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/json_diff.h>
#include <featvis/util/progress.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>

namespace featvis::probe {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// Labels -> class indices 0..K-1 in the order of the training classes.
at::Tensor class_indices(const ProbeData& data, const std::map<int64_t, int64_t>& index, const std::string& role) {
  std::vector<int64_t> out;
  for (int64_t label : data.labels()) {
    const auto it = index.find(label);
    FEATVIS_CHECK(it != index.end(), "--", role, ": label ", label, " in '", data.spec(), "' is not among the ",
                  index.size(), " classes of the training data");
    out.push_back(it->second);
  }
  return at::tensor(out, at::kLong);
}

Json read_json_or(const std::string& path, Json fallback) {
  if (!fs::is_regular_file(path)) return fallback;
  try {
    return Json::parse(read_file(path));
  } catch (const Json::exception&) {
    throw Error("'" + path + "' is not valid JSON; remove it to redo that part of the probe run");
  }
}

void write_json(const std::string& path, const Json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

Json score_json(const LayerResult& r) {
  return Json{{"layer", r.layer},
              {"title", r.title},
              {"relative_depth", r.relative_depth},
              {"features", r.score.features},
              {"l2", r.score.l2},
              {"held_out_accuracy", r.score.held_out_accuracy},
              {"train_accuracy", r.score.train_accuracy},
              {"test_accuracy", r.score.test_accuracy}};
}

LayerResult score_from_json(const Json& j) {
  LayerResult r;
  r.layer = j.at("layer");
  r.title = j.at("title");
  r.relative_depth = j.at("relative_depth");
  r.score.features = j.at("features");
  r.score.l2 = j.at("l2");
  r.score.held_out_accuracy = j.at("held_out_accuracy");
  r.score.train_accuracy = j.at("train_accuracy");
  r.score.test_accuracy = j.at("test_accuracy");
  return r;
}

// One data set's pooled features of one model, kept in `dir` as it goes: chunk files of
// rows (all layers side by side) named by their first row, and features.json listing the
// chunks written in full (a chunk file is written before it is listed, so a listed chunk is
// whole). Returns the features, and whether the pass was stopped.
class FeatureStore {
 public:
  FeatureStore(std::string dir, std::string role, double save_every)
      : dir_(std::move(dir)), role_(std::move(role)), save_every_(save_every) {}

  Features compute(const model::Model& model, const ProbeData& data, FeatureOptions options, double& seconds) {
    Json record = dir_.empty() ? Json::object() : read_json_or(record_path(), Json::object());
    Json& mine = record[role_];
    if (mine.is_null()) mine = Json{{"chunks", Json::array()}, {"widths", Json::array()}, {"seconds", 0.0}};
    const double before = mine["seconds"].get<double>();
    Features done = load(mine);
    int64_t saved = done.images;
    const auto start = std::chrono::steady_clock::now();
    auto last_save = start;
    auto save = [&](const Features& f) {
      if (dir_.empty() || f.images <= saved) return;
      std::vector<at::Tensor> rows;
      for (const auto& t : f.per_layer) rows.push_back(t.narrow(0, saved, f.images - saved));
      const std::string file = role_ + "-" + std::to_string(saved) + ".npy";
      io::save_npy((fs::path(dir_) / file).string(), at::cat(rows, 1));
      mine["chunks"].push_back(Json{{"file", file}, {"first", saved}, {"rows", f.images - saved}});
      Json widths = Json::array();
      for (const auto& t : f.per_layer) widths.push_back(t.size(1));
      mine["widths"] = widths;
      mine["seconds"] = before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      write_json(record_path(), record);
      saved = f.images;
      last_save = std::chrono::steady_clock::now();
    };
    options.on_batch = [&](const Features& f) {
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count() >= save_every_) save(f);
    };
    Features f = pooled_features(model, data, options, done);
    save(f);  // the rest, complete or stopped
    seconds = before + f.seconds;
    return f;
  }

 private:
  std::string record_path() const { return (fs::path(dir_) / "features.json").string(); }

  Features load(const Json& mine) const {
    Features f;
    const std::vector<int64_t> widths = mine["widths"].get<std::vector<int64_t>>();
    for (const auto& chunk : mine["chunks"]) {
      const std::string path = (fs::path(dir_) / chunk.at("file").get<std::string>()).string();
      const at::Tensor rows = io::load_npy(path);
      FEATVIS_CHECK(chunk.at("first").get<int64_t>() == f.images && rows.dim() == 2 && rows.size(0) == chunk.at("rows").get<int64_t>(),
                    "probe state: '", path, "' does not continue the rows before it; remove '", dir_, "' to start over");
      int64_t column = 0;
      for (size_t l = 0; l < widths.size(); ++l) {
        const at::Tensor part = rows.narrow(1, column, widths[l]);
        column += widths[l];
        if (f.per_layer.size() <= l) f.per_layer.push_back(part);
        else f.per_layer[l] = at::cat({f.per_layer[l], part});
      }
      f.images += rows.size(0);
    }
    return f;
  }

  std::string dir_, role_;
  double save_every_;
};

}  // namespace

ExperimentResult run_experiment(const std::vector<std::string>& model_refs, const OpenModel& open, const ProbeData& train,
                                const ProbeData& test, const ExperimentOptions& options) {
  ExperimentResult result;
  result.classes = train.classes();
  FEATVIS_CHECK(result.classes.size() >= 2, "--train: '", train.spec(), "' has ", result.classes.size(),
                " class; a probe needs at least 2");
  std::map<int64_t, int64_t> index;
  for (size_t i = 0; i < result.classes.size(); ++i) index[result.classes[i]] = static_cast<int64_t>(i);
  const at::Tensor train_y = class_indices(train, index, "train");
  const at::Tensor test_y = class_indices(test, index, "test");
  const auto k = static_cast<int64_t>(result.classes.size());
  auto stop = [&] { return options.stop_requested && options.stop_requested(); };

  const std::string& state = options.state_dir;
  if (!state.empty()) {
    const Json settings{{"format", "featvis-probe-state/1"},
                        {"models", model_refs},
                        {"train", train.spec()},
                        {"train_images", train.size()},
                        {"test", test.spec()},
                        {"test_images", test.size()},
                        {"layers", options.layers},
                        {"pooling", to_string(options.pooling)},
                        {"batch", options.batch_size},
                        {"l2", options.logistic.l2},
                        {"held_out", options.logistic.held_out},
                        {"max_iterations", options.logistic.max_iterations},
                        {"seed", options.logistic.seed}};
    const std::string path = (fs::path(state) / "settings.json").string();
    if (fs::is_regular_file(path)) {
      const std::string diff = first_difference(settings, read_json_or(path, Json::object()));
      if (!diff.empty()) {
        throw Error("'" + state + "' holds an interrupted probe run with other settings (" + diff +
                    "); rerun it with the same settings, or remove that folder");
      }
    } else {
      fs::create_directories(state);
      write_json(path, settings);
    }
  }

  for (size_t m = 0; m < model_refs.size(); ++m) {
    const model::Model model = open(model_refs[m]);
    std::vector<std::string> layers, titles;
    if (options.layers.size() == 1 && options.layers[0] == "all") {
      FEATVIS_CHECK(!model.card.layers.empty(), "model '", model.card.name, "' has no layers on its card; name them with --layers");
      for (const auto& l : model.card.layers) {
        layers.push_back(l.name);
        titles.push_back(l.title);
      }
    } else {
      layers = graph::resolve_layers(model.graph, options.layers);
      titles.assign(layers.size(), "");
    }
    const std::string dir = state.empty() ? "" : (fs::path(state) / ("model-" + std::to_string(m))).string();
    if (!dir.empty()) fs::create_directories(dir);
    const std::string fits_path = dir.empty() ? "" : (fs::path(dir) / "fits.json").string();
    Json fits = fits_path.empty() ? Json::array() : read_json_or(fits_path, Json::array());

    ModelResult mr;
    mr.model = model.card.name;
    mr.model_file = model.onnx_path;
    Json features_record = dir.empty() ? Json() : read_json_or((fs::path(dir) / "features.json").string(), Json());
    Features ftrain, ftest;
    if (fits.size() < layers.size()) {
      FeatureOptions fo;
      fo.layers = layers;
      fo.pooling = options.pooling;
      fo.batch_size = options.batch_size;
      fo.progress = options.progress;
      fo.stop_requested = options.stop_requested;
      const std::pair<const char*, const ProbeData*> passes[] = {{"train", &train}, {"test", &test}};
      for (const auto& [role, set] : passes) {
        fo.progress_label = model.card.name + " " + role;
        double seconds = 0;
        Features f = FeatureStore(dir, role, options.save_every_seconds).compute(model, *set, fo, seconds);
        mr.feature_seconds += seconds;
        if (f.interrupted) {
          result.interrupted = true;
          result.stopped_during = std::string(set == &train ? "the training" : "the test") + " images of " + model.card.name;
          return result;
        }
        (set == &train ? ftrain : ftest) = std::move(f);
      }
    } else if (features_record.is_object()) {  // fitted in full before: its passes' time as recorded
      for (const char* role : {"train", "test"})
        if (features_record.contains(role)) mr.feature_seconds += features_record[role].value("seconds", 0.0);
    }
    mr.images_per_second = mr.feature_seconds > 0 ? static_cast<double>(train.size() + test.size()) / mr.feature_seconds : 0;

    ProgressBar bar(static_cast<int64_t>(layers.size()), model.card.name + " probes", options.progress);
    for (size_t l = 0; l < layers.size(); ++l) {
      bar.update(static_cast<int64_t>(l), layers[l]);
      if (l < fits.size()) {
        mr.layers.push_back(score_from_json(fits[l]));
        continue;
      }
      if (stop()) {
        result.interrupted = true;
        result.stopped_during = "the regressions of " + model.card.name;
        return result;
      }
      LayerResult r;
      r.layer = layers[l];
      r.title = titles[l];
      r.relative_depth = layers.size() > 1 ? static_cast<double>(l) / static_cast<double>(layers.size() - 1) : 0.0;
      r.score = fit_probe(ftrain.per_layer[l], train_y, ftest.per_layer[l], test_y, k, options.logistic);
      mr.layers.push_back(r);
      fits.push_back(score_json(r));
      if (!fits_path.empty()) write_json(fits_path, fits);
    }
    bar.finish();
    // Fitted in full: its features (the bulk of the state) are no longer needed.
    if (!dir.empty()) {
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".npy") fs::remove(e.path());
    }
    result.models.push_back(mr);
  }
  if (!state.empty()) fs::remove_all(state);
  return result;
}

}  // namespace featvis::probe
