// The training lens: a unit over the checkpoints of its training run. The renders and the
// top-K sets come from timeline/timeline.h, the code `featvis timeline` runs, so a unit's
// strip here is what `featvis timeline` draws for it with the same recipe and seed.
#include <featvis/microscope/html.h>
#include <featvis/microscope/site_path.h>
#include <featvis/microscope/training_lens.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/labelled_strip.h>
#include <featvis/timeline/timeline.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

// Ranked by the unit's maximum: what it detects locally. By the mean over positions, a
// first-layer unit's top photos are the brightest ones whatever its weights are, so it
// would look settled from the initialization (docs/TIMELINE.md).
constexpr timeline::Rank kRank = timeline::Rank::kMax;
constexpr char kTopFile[] = "training_examples.json";

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A step, or a median of steps (a whole number or a half).
std::string step_text(double step) { return fixed(step, step == std::floor(step) ? 0 : 1); }

// A step on a chart's axis, which has one tick per checkpoint: between two checkpoints
// (a median of two settle steps), linearly between their ticks.
double step_position(const std::vector<int64_t>& steps, double step) {
  if (steps.size() < 2 || step <= static_cast<double>(steps.front())) return 0;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const double a = static_cast<double>(steps[i]), b = static_cast<double>(steps[i + 1]);
    if (step <= b) return static_cast<double>(i) + (step - a) / (b - a);
  }
  return static_cast<double>(steps.size() - 1);
}

// Inline SVG charts over the checkpoints' axis (one tick per checkpoint, labelled by step).
struct Axis {
  std::vector<int64_t> steps;
  double left = 44, right = 16, width = 640;
  double x(double position) const {
    const double n = static_cast<double>(std::max<size_t>(steps.size(), 2) - 1);
    return left + position * (width - left - right) / n;
  }
  std::string ticks(double top, double bottom) const {
    std::string s;
    const size_t every = steps.size() > 16 ? (steps.size() + 15) / 16 : 1;
    for (size_t i = 0; i < steps.size(); ++i) {
      const std::string x0 = fixed(x(static_cast<double>(i)), 1);
      s += "<line x1=\"" + x0 + "\" x2=\"" + x0 + "\" y1=\"" + fixed(top, 1) + "\" y2=\"" + fixed(bottom + 4, 1) +
           "\" stroke=\"#eee\"/>";
      if (i % every == 0 || i + 1 == steps.size())
        s += "<text x=\"" + x0 + "\" y=\"" + fixed(bottom + 16, 1) + "\" text-anchor=\"middle\">" + std::to_string(steps[i]) + "</text>";
    }
    s += "<text x=\"" + fixed((left + width - right) / 2, 1) + "\" y=\"" + fixed(bottom + 32, 1) +
         "\" text-anchor=\"middle\" fill=\"#6b6b70\">training step (one tick per checkpoint)</text>";
    return s;
  }
};

std::string svg_open(double width, double height, const std::string& label) {
  return "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + fixed(width, 0) + " " + fixed(height, 0) +
         "\" width=\"" + fixed(width, 0) + "\" height=\"" + fixed(height, 0) + "\" role=\"img\" aria-label=\"" +
         html_escape(label) + "\" font-family=\"sans-serif\" font-size=\"11\">";
}

// Jaccard of consecutive top-K sets and of each with the final one, against the step.
std::string overlap_chart(const Json& checkpoints, int64_t settle_step) {
  Axis axis;
  for (const auto& c : checkpoints) axis.steps.push_back(c.at("step").get<int64_t>());
  const double top = 22, bottom = 160, height = 222;
  auto y = [&](double v) { return bottom - v * (bottom - top); };
  std::string s = svg_open(axis.width, height, "overlap of the top examples over training");
  s += axis.ticks(top, bottom);
  for (double v : {0.0, 0.5, 1.0}) {
    s += "<line x1=\"" + fixed(axis.left, 1) + "\" x2=\"" + fixed(axis.width - axis.right, 1) + "\" y1=\"" + fixed(y(v), 1) +
         "\" y2=\"" + fixed(y(v), 1) + "\" stroke=\"" + (v == 0.5 ? "#999\" stroke-dasharray=\"4 3" : "#ccc") + "\"/>";
    s += "<text x=\"" + fixed(axis.left - 6, 1) + "\" y=\"" + fixed(y(v) + 4, 1) + "\" text-anchor=\"end\">" + fixed(v, 1) + "</text>";
  }
  const double settle_x = axis.x(step_position(axis.steps, static_cast<double>(settle_step)));
  s += "<line x1=\"" + fixed(settle_x, 1) + "\" x2=\"" + fixed(settle_x, 1) + "\" y1=\"" + fixed(top, 1) + "\" y2=\"" +
       fixed(bottom, 1) + "\" stroke=\"#1a7f37\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>";
  s += "<text x=\"" + fixed(settle_x - 4, 1) + "\" y=\"" + fixed(top - 8, 1) + "\" text-anchor=\"end\" fill=\"#1a7f37\">settles: step " +
       std::to_string(settle_step) + "</text>";
  const std::pair<const char*, const char*> lines[] = {{"jaccard_with_final", "#0b57d0"}, {"jaccard_with_previous", "#d9730d"}};
  for (const auto& [key, colour] : lines) {
    std::string points, dots;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      const Json& v = checkpoints[i].at(key);
      if (v.is_null()) continue;
      const std::string px = fixed(axis.x(static_cast<double>(i)), 1), py = fixed(y(v.get<double>()), 1);
      points += (points.empty() ? "" : " ") + px + "," + py;
      dots += "<circle cx=\"" + px + "\" cy=\"" + py + "\" r=\"2.5\" fill=\"" + colour + "\"/>";
    }
    s += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\" points=\"" + points + "\"/>" + dots;
  }
  const double ly = bottom + 50;
  s += "<text x=\"" + fixed(axis.left, 1) + "\" y=\"" + fixed(ly, 1) + "\" fill=\"#0b57d0\">— overlap with the final set</text>";
  s += "<text x=\"" + fixed(axis.left + 190, 1) + "\" y=\"" + fixed(ly, 1) + "\" fill=\"#d9730d\">— with the previous checkpoint's</text>";
  return s + "</svg>";
}

// One row per layer (overview) or unit (layer page): each unit's settle step as a dot, the
// row's median as a bar. `rows`: label, link (relative), settle steps.
struct SettleRow {
  std::string label, href;
  std::vector<double> settle;
};
std::string settle_chart(const std::vector<int64_t>& steps, const std::vector<SettleRow>& rows, bool median_bar) {
  Axis axis;
  axis.steps = steps;
  axis.left = 150;
  axis.right = 70;
  const double row_h = 28, top = 8, bottom = top + row_h * static_cast<double>(rows.size()), height = bottom + 40;
  std::string s = svg_open(axis.width, height, "settle step by " + std::string(median_bar ? "layer" : "unit"));
  s += axis.ticks(top, bottom);
  for (size_t r = 0; r < rows.size(); ++r) {
    const SettleRow& row = rows[r];
    const double cy = top + row_h * (static_cast<double>(r) + 0.5);
    s += "<a href=\"" + html_escape(row.href) + "\"><text x=\"" + fixed(axis.left - 8, 1) + "\" y=\"" + fixed(cy + 4, 1) +
         "\" text-anchor=\"end\" fill=\"#0b57d0\">" + html_escape(row.label) + "</text></a>";
    const double m = timeline::median(row.settle);
    if (median_bar) {
      s += "<rect x=\"" + fixed(axis.left, 1) + "\" y=\"" + fixed(cy - 7, 1) + "\" width=\"" +
           fixed(axis.x(step_position(steps, m)) - axis.left, 1) + "\" height=\"14\" fill=\"#0b57d0\" fill-opacity=\"0.18\"/>";
    }
    // Units that settle at the same checkpoint share a dot, sized and labelled by their count.
    std::map<double, int> dots;
    for (double v : row.settle) ++dots[v];
    for (const auto& [v, count] : dots) {
      const std::string cx = fixed(axis.x(step_position(steps, v)), 1);
      s += "<circle cx=\"" + cx + "\" cy=\"" + fixed(cy, 1) + "\" r=\"" + fixed(3.5 + 1.5 * std::sqrt(count - 1.0), 1) +
           "\" fill=\"#0b57d0\" fill-opacity=\"0.5\"/>";
      if (count > 1)
        s += "<text x=\"" + cx + "\" y=\"" + fixed(cy - 8, 1) + "\" text-anchor=\"middle\" font-size=\"9\">" + std::to_string(count) + "</text>";
    }
    if (median_bar) {
      const double mx = axis.x(step_position(steps, m));
      s += "<line x1=\"" + fixed(mx, 1) + "\" x2=\"" + fixed(mx, 1) + "\" y1=\"" + fixed(cy - 9, 1) + "\" y2=\"" + fixed(cy + 9, 1) +
           "\" stroke=\"#1d1d1f\" stroke-width=\"3\"/>";
      s += "<text x=\"" + fixed(axis.width - axis.right + 6, 1) + "\" y=\"" + fixed(cy + 4, 1) + "\">" + step_text(m) + "</text>";
    }
  }
  return s + "</svg>";
}

std::vector<int64_t> int_list(const Json& j) { return j.get<std::vector<int64_t>>(); }

class TrainingLens : public Lens {
 public:
  TrainingLens(std::shared_ptr<const model::Series> series, std::shared_ptr<const ExamplesSource> examples)
      : series_(std::move(series)), examples_(std::move(examples)) {
    if (series_) models_.resize(series_->checkpoints.size());
  }
  std::string name() const override { return "training"; }
  bool active() const override { return series_ != nullptr; }

  Json build_layer(const LensContext& ctx, const LayerPlan& layer) override {
    if (!examples_) return nullptr;  // strips only: no settle steps
    const Tops& tops = layer_tops(ctx, layer);
    Json settle = Json::array();
    std::vector<double> steps;
    for (size_t j = 0; j < layer.units.size(); ++j) {
      const int64_t step = settle_step(timeline::overlap(unit_tops(tops, j)));
      settle.push_back(step);
      steps.push_back(static_cast<double>(step));
    }
    return Json{{"tensor", layer.tensor},     {"rank", timeline::to_string(kRank)},
                {"top_k", top_k()},           {"photos", examples_->index.images.size()},
                {"steps", checkpoint_steps()}, {"units", layer.units},
                {"settle_steps", settle},     {"median_settle_step", timeline::median(steps)}};
  }

  void build_units(const LensContext& ctx, const LayerPlan& layer, const std::vector<int64_t>& group,
                   UnitEntries& entries) override {
    std::vector<objective::Objective> items;
    for (int64_t u : group) items.push_back(objective::channel(layer.tensor, u));
    const objective::Objective objective = objective::per_item(items);
    // The same recipe and seed at every checkpoint (featvis timeline's rule).
    const render::Recipe recipe = lens_recipe(ctx, static_cast<int64_t>(group.size()),
                                              lens_seed(ctx.settings.seed, name(), layer.name, group.front()));
    std::vector<timeline::Frame> frames;
    std::vector<std::string> captions;
    for (size_t i = 0; i < series_->checkpoints.size(); ++i) {
      frames.push_back(timeline::render_checkpoint(checkpoint(ctx, i), recipe, objective));
      captions.push_back(timeline::caption(series_->checkpoints[i]));
    }
    const Tops* tops = examples_ ? &layer_tops(ctx, layer) : nullptr;
    for (size_t g = 0; g < group.size(); ++g) {
      const int64_t u = group[g];
      std::vector<at::Tensor> pictures;
      Json checkpoints = Json::array();
      for (size_t i = 0; i < frames.size(); ++i) {
        pictures.push_back(frames[i].result.images[static_cast<int64_t>(g)]);
        const model::SeriesCheckpoint& cp = series_->checkpoints[i];
        checkpoints.push_back(Json{{"step", cp.step},
                                   {"test_accuracy", cp.test_accuracy ? Json(*cp.test_accuracy) : Json()},
                                   {"activation", frames[i].result.final_values()[g]}});
      }
      const std::string dir = unit_dir(ctx.model_dir, layer.slug, u);
      make_dirs(dir);
      const ImagePair strip = save_image_pair(dir, "training_strip", render::labelled_strip(at::stack(pictures), captions),
                                              ctx.settings);
      Json entry{{"tensor", layer.tensor}, {"strip", Json{{"image", strip.image}, {"thumb", strip.thumb}}}};
      if (tops != nullptr) {
        const size_t j = static_cast<size_t>(std::find(layer.units.begin(), layer.units.end(), u) - layer.units.begin());
        const timeline::Overlap o = timeline::overlap(unit_tops(*tops, j));
        for (size_t i = 0; i < checkpoints.size(); ++i) {
          checkpoints[i]["jaccard_with_previous"] = o.with_previous[i] ? Json(*o.with_previous[i]) : Json();
          checkpoints[i]["jaccard_with_final"] = o.with_final[i];
        }
        entry["rank"] = timeline::to_string(kRank);
        entry["top_k"] = top_k();
        entry["photos"] = examples_->index.images.size();
        entry["settle_step"] = settle_step(o);
      }
      entry["checkpoints"] = checkpoints;
      entries[u][name()] = entry;
    }
  }

  double unit_image_steps(const RenderSettings& s) const override {
    return series_ ? static_cast<double>(s.steps) * static_cast<double>(series_->checkpoints.size()) : 0;
  }

  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (!active()) return std::nullopt;
    const std::string title = "Over training";
    if (entry.is_null()) return PageSection{title, html_absent("Not in this build.")};
    const Json& cps = entry.at("checkpoints");
    std::string html = "<figure class=\"strip\">" + html_img(entry["strip"]["image"], "the unit at each checkpoint") +
                       "<figcaption>The channel objective of <code>" + html_escape(entry["tensor"].get<std::string>()) +
                       "</code> rendered at each of the " + std::to_string(cps.size()) +
                       " checkpoints with the same seed and recipe, so what changes is the network; under each: the "
                       "training step and the test accuracy.</figcaption></figure>";
    if (!entry.contains("settle_step")) {
      return PageSection{title, html + html_absent("No example overlap: the build had no dataset examples (--images or --examples).")};
    }
    const int64_t settle = entry["settle_step"];
    html += "<figure class=\"overlap\">" + overlap_chart(cps, settle) + "<figcaption>The unit's top " +
            std::to_string(entry["top_k"].get<int64_t>()) + " of " + std::to_string(entry["photos"].get<int64_t>()) +
            " dataset photos (ranked by its " + entry["rank"].get<std::string>() +
            ") at each checkpoint: overlap (Jaccard) with the previous checkpoint's and with the final set. It "
            "<strong>settles at step " + std::to_string(settle) +
            "</strong>: from there on every set shares at least half its union with the final one.</figcaption></figure>";
    return PageSection{title, html};
  }

  std::optional<PageSection> layer_section(const Json& entry) const override {
    if (!active()) return std::nullopt;
    const std::string title = "Over training: when units settle";
    if (entry.is_null()) {
      return PageSection{title, html_absent("No settle steps: the build had no dataset examples (--images or --examples).")};
    }
    const std::vector<int64_t> units = int_list(entry.at("units")), settle = int_list(entry.at("settle_steps"));
    std::vector<SettleRow> rows;
    for (size_t j = 0; j < units.size(); ++j)
      rows.push_back({"unit " + std::to_string(units[j]), std::to_string(units[j]) + "/", {static_cast<double>(settle[j])}});
    std::string html = "<p>Median settle step of the " + std::to_string(units.size()) + " units: <strong>" +
                       step_text(entry["median_settle_step"].get<double>()) + "</strong> (the step from which a unit's top " +
                       std::to_string(entry["top_k"].get<int64_t>()) +
                       " dataset examples, ranked by its maximum, overlap their final set by at least half).</p>";
    html += "<figure class=\"overlap\">" + settle_chart(int_list(entry.at("steps")), rows, false) + "</figure>";
    return PageSection{title, html};
  }

  std::optional<PageSection> model_section(const Json& layers) const override {
    if (!active()) return std::nullopt;
    const std::string title = "Over training: when each layer's units settle";
    std::vector<SettleRow> rows;
    std::vector<int64_t> steps;
    for (const auto& layer : layers) {
      const Json lenses = layer.value("lenses", Json::object());
      if (!lenses.contains(name())) continue;
      const Json& e = lenses[name()];
      steps = int_list(e.at("steps"));
      std::vector<double> settle;
      for (int64_t s : int_list(e.at("settle_steps"))) settle.push_back(static_cast<double>(s));
      rows.push_back({layer.at("name").get<std::string>(), layer.at("slug").get<std::string>() + "/", settle});
    }
    if (rows.empty()) {
      return PageSection{title, html_absent("No settle steps: the build had no dataset examples (--images or --examples).")};
    }
    return PageSection{title, "<figure class=\"overlap\">" + settle_chart(steps, rows, true) +
                                  "<figcaption>Each dot is a unit's settle step (the first checkpoint from which its top "
                                  "dataset examples overlap their final set by at least half); the bar and the number, the "
                                  "layer's median. Early layers should settle first.</figcaption></figure>"};
  }

 private:
  // Top-K photo indices [checkpoint][unit of layer.units][k].
  using Tops = std::vector<std::vector<std::vector<int64_t>>>;

  int64_t top_k() const { return examples_->index.top_k > 0 ? examples_->index.top_k : 9; }

  std::vector<int64_t> checkpoint_steps() const {
    std::vector<int64_t> steps;
    for (const auto& cp : series_->checkpoints) steps.push_back(cp.step);
    return steps;
  }

  int64_t settle_step(const timeline::Overlap& o) const { return series_->checkpoints[o.settle_index].step; }

  static std::vector<std::vector<int64_t>> unit_tops(const Tops& tops, size_t j) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& at_checkpoint : tops) out.push_back(at_checkpoint.at(j));
    return out;
  }

  // The last checkpoint is the builder's model; the others are loaded once, on its device.
  const model::Model& checkpoint(const LensContext& ctx, size_t i) {
    if (i + 1 == series_->checkpoints.size()) return ctx.model;
    if (!models_[i]) {
      models_[i] = std::make_unique<model::Model>(model::load_checkpoint(*series_, i));
      if (!ctx.model.graph.device().is_cpu()) models_[i]->graph.to(ctx.model.graph.device());
    }
    return *models_[i];
  }

  // The layer's top-K sets at every checkpoint: from <layer>/training_examples.json when it
  // holds this build's (another work item or shard wrote it), else one scan per checkpoint.
  const Tops& layer_tops(const LensContext& ctx, const LayerPlan& layer) {
    auto cached = tops_.find(layer.slug);
    if (cached != tops_.end()) return cached->second;
    const Json key{{"tensor", layer.tensor},
                   {"rank", timeline::to_string(kRank)},
                   {"top_k", top_k()},
                   {"photos", examples_->index.images.size()},
                   {"steps", checkpoint_steps()},
                   {"units", layer.units}};
    const std::string dir = (fs::path(ctx.model_dir) / layer.slug).string();
    const std::string path = (fs::path(dir) / kTopFile).string();
    Tops tops;
    if (fs::is_regular_file(path)) {
      try {
        const Json saved = Json::parse(read_file(path));
        bool same = true;
        for (const auto& [k, v] : key.items()) same = same && saved.contains(k) && saved[k] == v;
        if (same) tops = saved.at("top").get<Tops>();
      } catch (const Json::exception&) {
        tops.clear();  // torn or foreign: scan again
      }
    }
    if (tops.empty()) {
      timeline::TopOptions options;
      options.top_k = top_k();
      options.rank = kRank;
      for (size_t i = 0; i < series_->checkpoints.size(); ++i) {
        tops.push_back(timeline::top_photos(checkpoint(ctx, i), examples_->index.images_root, examples_->index.images,
                                            layer.tensor, layer.units, options)
                           .top);
      }
      Json record = key;
      record["top"] = tops;
      make_dirs(dir);
      write_file_atomically(path, record.dump() + "\n");
    }
    return tops_.emplace(layer.slug, std::move(tops)).first->second;
  }

  std::shared_ptr<const model::Series> series_;
  std::shared_ptr<const ExamplesSource> examples_;
  std::vector<std::unique_ptr<model::Model>> models_;
  std::map<std::string, Tops> tops_;
};

}  // namespace

std::unique_ptr<Lens> training_lens(std::shared_ptr<const model::Series> series, std::shared_ptr<const ExamplesSource> examples) {
  return std::make_unique<TrainingLens>(std::move(series), std::move(examples));
}

}  // namespace featvis::microscope
