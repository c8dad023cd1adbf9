// Checkpoint series: files ordered by the step in their names, one card, one architecture.
#include <featvis/model/series.h>

#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/join.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace featvis::model {
namespace {

namespace fs = std::filesystem;

// The last run of digits in the file's stem, or -1.
int64_t step_of(const std::string& path) {
  const std::string stem = fs::path(path).stem().string();
  size_t end = stem.find_last_of("0123456789");
  if (end == std::string::npos) return -1;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
  const std::string digits = stem.substr(begin, end - begin + 1);
  FEATVIS_CHECK(digits.size() <= 15, "checkpoint '", path, "': step number too long");
  return std::stoll(digits);
}

std::string shape_text(const at::Tensor& t) {
  std::ostringstream s;
  s << '[';
  for (int64_t i = 0; i < t.dim(); ++i) s << (i ? "," : "") << t.size(i);
  return s.str() + "]";
}

}  // namespace

Series open_series(const std::string& ref, const std::string& card_path) {
  std::vector<std::string> files;
  if (fs::is_directory(ref)) {
    for (const auto& e : fs::directory_iterator(ref))
      if (e.is_regular_file() && e.path().extension() == ".onnx") files.push_back(e.path().string());
    FEATVIS_CHECK(files.size() >= 2, "checkpoint series '", ref, "' holds ", files.size(),
                  " .onnx file(s); a series needs at least 2");
  } else {
    std::stringstream s(ref);
    for (std::string item; std::getline(s, item, ',');)
      if (!item.empty()) files.push_back(item);
    FEATVIS_CHECK(files.size() >= 2, "checkpoint series '", ref,
                  "' is neither a folder nor a comma-separated list of at least 2 .onnx files");
    for (const auto& f : files) FEATVIS_CHECK(fs::is_regular_file(f), "checkpoint '", f, "' not found");
  }
  Series series;
  std::map<int64_t, std::string> by_step;
  for (const auto& f : files) {
    const int64_t step = step_of(f);
    FEATVIS_CHECK(step >= 0, "checkpoint '", f, "' has no step number in its name (e.g. step-000128.onnx)");
    const auto [it, fresh] = by_step.emplace(step, f);
    FEATVIS_CHECK(fresh, "checkpoints '", it->second, "' and '", f, "' both have step ", step);
  }
  for (const auto& [step, f] : by_step) series.checkpoints.push_back({step, f, std::nullopt, std::nullopt});

  std::string card = card_path;
  const fs::path folder = fs::path(series.checkpoints.front().onnx_path).parent_path();
  if (card.empty()) {
    std::vector<std::string> cards;
    for (const auto& e : fs::directory_iterator(folder.empty() ? fs::path(".") : folder)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 10 && name.compare(name.size() - 10, 10, ".card.json") == 0) cards.push_back(e.path().string());
    }
    std::sort(cards.begin(), cards.end());
    FEATVIS_CHECK(cards.size() == 1, "checkpoint series '", ref, "': need exactly one *.card.json in '", folder.string(),
                  "', found ", cards.empty() ? std::string("none") : join(cards, ","));
    card = cards[0];
  }
  series.card = locate_model(card).card;
  FEATVIS_CHECK(series.card.labels_file.empty() || !series.card.labels.empty(), "labels file '",
                series.card.labels_file, "' of card '", card, "' not found");

  const fs::path record = folder / "training.json";
  if (fs::is_regular_file(record)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(record.string()));
    } catch (const nlohmann::json::exception& e) {
      throw Error("'" + record.string() + "': not JSON (" + std::string(e.what()) + ")");
    }
    for (const auto& c : j.value("checkpoints", nlohmann::json::array())) {
      if (!c.is_object() || !c.contains("step") || !c["step"].is_number_integer()) continue;
      for (auto& s : series.checkpoints) {
        if (s.step != c["step"].get<int64_t>()) continue;
        if (c.contains("test_accuracy") && c["test_accuracy"].is_number()) s.test_accuracy = c["test_accuracy"].get<double>();
        if (c.contains("loss") && c["loss"].is_number()) s.loss = c["loss"].get<double>();
      }
    }
  }
  return series;
}

Model load_checkpoint(const Series& series, size_t index) {
  FEATVIS_CHECK(index < series.checkpoints.size(), "checkpoint ", index, " out of range");
  const std::string& path = series.checkpoints[index].onnx_path;
  return model_from_onnx_bytes(read_file(path), series.card, path);
}

std::string architecture_difference(const graph::Graph& a, const std::string& a_name, const graph::Graph& b,
                                    const std::string& b_name) {
  const auto& na = a.nodes();
  const auto& nb = b.nodes();
  for (size_t i = 0; i < std::min(na.size(), nb.size()); ++i) {
    const graph::Node& x = na[i];
    const graph::Node& y = nb[i];
    const std::string where = "node " + std::to_string(i) + " ('" + join(x.outputs, ",") + "')";
    if (x.op_type != y.op_type) return where + " is " + x.op_type + " in " + a_name + " but " + y.op_type + " in " + b_name;
    if (x.outputs != y.outputs)
      return where + " outputs '" + join(x.outputs, ",") + "' in " + a_name + " but '" + join(y.outputs, ",") + "' in " + b_name;
    if (x.inputs != y.inputs)
      return where + " reads '" + join(x.inputs, ",") + "' in " + a_name + " but '" + join(y.inputs, ",") + "' in " + b_name;
    for (const std::string& in : x.inputs) {
      if (!a.has_weight(in)) continue;
      if (!b.has_weight(in)) return "weight '" + in + "' is in " + a_name + " but not in " + b_name;
      const std::string sa = shape_text(a.weight(in)), sb = shape_text(b.weight(in));
      if (sa != sb) return "weight '" + in + "': " + sa + " in " + a_name + " but " + sb + " in " + b_name;
    }
  }
  if (na.size() != nb.size())
    return a_name + " has " + std::to_string(na.size()) + " nodes but " + b_name + " has " + std::to_string(nb.size());
  return "";
}

void check_series(const Series& series) {
  const Model first = load_checkpoint(series, 0);
  for (size_t i = 1; i < series.checkpoints.size(); ++i) {
    const Model m = load_checkpoint(series, i);
    const std::string d = architecture_difference(first.graph, "'" + first.onnx_path + "'", m.graph, "'" + m.onnx_path + "'");
    FEATVIS_CHECK(d.empty(), "checkpoint series: ", d);
  }
}

}  // namespace featvis::model
