// Turning a model reference (card name, .onnx path, .card.json path) into a card, an
// ONNX file and labels, then loading the graph and checking the card against it.
#include <featvis/model/model.h>
#include <featvis/util/error.h>
#include <featvis/util/join.h>

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace featvis::model {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string parent_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Looks for `file` in each directory in turn; an absolute `file` is only itself.
std::string find_in(const std::string& file, const std::vector<std::string>& dirs) {
  if (fs::path(file).is_absolute()) return is_file(file) ? file : "";
  for (const auto& d : dirs) {
    const fs::path p = fs::path(d) / file;
    if (is_file(p)) return p.lexically_normal().string();
  }
  return "";
}

void push_unique(std::vector<std::string>& dirs, const std::string& d) {
  for (const auto& x : dirs)
    if (x == d) return;
  dirs.push_back(d);
}

// The card's ONNX file: beside the card first (a card folder that also holds the
// weights), then the search path.
void resolve_onnx(ModelLocation& loc, const std::vector<std::string>& search) {
  std::vector<std::string> dirs;
  if (!loc.card.card_path.empty()) push_unique(dirs, parent_dir(loc.card.card_path));
  for (const auto& d : search) push_unique(dirs, d);
  loc.searched = fs::path(loc.card.file).is_absolute() ? std::vector<std::string>{parent_dir(loc.card.file)} : dirs;
  loc.onnx_path = find_in(loc.card.file, dirs);
}

void resolve_labels(ModelLocation& loc, const std::vector<std::string>& search) {
  ModelCard& card = loc.card;
  if (card.labels_file.empty()) return;
  std::vector<std::string> dirs;
  if (!card.card_path.empty()) push_unique(dirs, parent_dir(card.card_path));
  if (!loc.onnx_path.empty()) push_unique(dirs, parent_dir(loc.onnx_path));
  for (const auto& d : search) push_unique(dirs, d);
  loc.labels_path = find_in(card.labels_file, dirs);
  if (loc.labels_path.empty()) return;
  card.labels = read_labels_file(loc.labels_path);
  const auto count = static_cast<int64_t>(card.labels.size());
  if (card.num_classes == 0) {
    card.num_classes = count;
  } else if (card.num_classes != count) {
    throw Error("card '" + card.card_path + "': labels file '" + loc.labels_path + "' has " +
                std::to_string(count) + " lines but field 'classes' is " + std::to_string(card.num_classes));
  }
}

// Card for an .onnx file nobody described: sizes come from the graph at load time.
ModelCard default_card(const std::string& onnx_path) {
  ModelCard card;
  card.name = fs::path(onnx_path).stem().string();
  card.file = fs::path(onnx_path).filename().string();
  card.description = "no card: defaults (input size from the graph, x = pixel/255, RGB)";
  card.preprocessing.crop = Preprocessing::Crop::kResizeCrop;
  card.preprocessing.mean = {0.f, 0.f, 0.f};
  card.preprocessing.std = {255.f, 255.f, 255.f};
  return card;
}

ModelLocation locate_card_file(const std::string& ref, const std::vector<std::string>& search) {
  if (!is_file(ref)) throw Error("card '" + ref + "' not found");
  ModelLocation loc;
  loc.card = ModelCard::from_file(ref);
  resolve_onnx(loc, search);
  return loc;
}

ModelLocation locate_onnx_file(const std::string& ref, const std::vector<std::string>& search) {
  ModelLocation loc;
  std::string onnx = is_file(ref) ? ref : "";
  const bool bare_name = ref.find('/') == std::string::npos;
  if (onnx.empty() && bare_name) onnx = find_in(ref, search);
  if (onnx.empty()) {
    throw Error("model '" + ref + "' not found; searched: " + (bare_name ? ". (current directory), " + join(search) : ref));
  }
  loc.onnx_path = onnx;
  loc.searched = bare_name ? search : std::vector<std::string>{parent_dir(onnx)};

  // "<file>.card.json" beside it, then "<stem>.card.json".
  const fs::path p(onnx);
  for (const fs::path& candidate : {fs::path(onnx + ".card.json"), p.parent_path() / (p.stem().string() + ".card.json")}) {
    if (is_file(candidate)) {
      loc.card = ModelCard::from_file(candidate.string());
      return loc;
    }
  }
  // A known card describing a file of this name (e.g. the shared models given by path).
  for (auto& card : known_cards()) {
    if (card.file == p.filename().string()) {
      loc.card = std::move(card);
      return loc;
    }
  }
  loc.card = default_card(onnx);
  loc.note = "no card for '" + onnx + "' (looked for " + p.filename().string() + ".card.json and " +
             p.stem().string() + ".card.json beside it, and known cards for that file name); using defaults: " +
             "input name and size from the graph, x = pixel/255, RGB, resize + centre crop, no labels";
  return loc;
}

ModelLocation locate_by_name(const std::string& ref, const std::vector<std::string>& search) {
  const auto cards = known_cards();
  for (const auto& card : cards) {
    if (card.name != ref) continue;
    ModelLocation loc;
    loc.card = card;
    resolve_onnx(loc, search);
    return loc;
  }
  std::vector<std::string> names;
  for (const auto& c : cards) names.push_back(c.name);
  throw Error("unknown model '" + ref + "' (known: " + (names.empty() ? "none" : join(names)) +
              "; or give a path to an .onnx or .card.json file)");
}

}  // namespace

ModelLocation locate_model(const std::string& ref) {
  if (ref.empty()) throw Error("no model given (a card name such as '" + default_model_name() + "', an .onnx path or a .card.json path)");
  const auto search = model_search_path();
  ModelLocation loc;
  if (ends_with(ref, ".json")) {
    loc = locate_card_file(ref, search);
  } else if (ends_with(ref, ".onnx") || ref.find('/') != std::string::npos) {
    loc = locate_onnx_file(ref, search);
  } else {
    loc = locate_by_name(ref, search);
  }
  resolve_labels(loc, search);
  return loc;
}

namespace {

// The card checked against the graph; a card without input/output takes the graph's.
Model model_from_graph(graph::Graph graph_in, ModelCard card, const std::string& onnx_path) {
  Model model;
  model.graph = std::move(graph_in);
  const graph::Graph& graph = model.graph;
  if (card.input.empty()) {  // card-less: take what the graph declares
    if (graph.inputs().empty() || graph.outputs().empty())
      throw Error("model '" + onnx_path + "' declares no graph input or output; write a card for it");
    card.input = graph.inputs()[0].name;
    card.output = graph.outputs()[0];
    const auto& shape = graph.inputs()[0].shape;
    if (shape.size() == 4 && shape[2] > 0 && shape[3] > 0) {
      card.preprocessing.height = static_cast<int>(shape[2]);
      card.preprocessing.width = static_cast<int>(shape[3]);
    }
    // Same 256/224 ratio as the usual ImageNet evaluation.
    card.preprocessing.resize = std::max(card.preprocessing.width, card.preprocessing.height) * 8 / 7;
  }
  const std::string origin = card.card_path.empty() ? "defaults for " + onnx_path : card.card_path;
  for (const auto& [field, tensor] : {std::pair<std::string, std::string>{"input", card.input}, {"output", card.output}}) {
    try {
      graph.require_tensor(tensor);
    } catch (const Error& e) {
      throw Error("card '" + origin + "': field '" + field + "': " + e.what());
    }
  }
  for (size_t i = 0; i < card.layers.size(); ++i) {
    if (card.layers[i].visualize.empty()) continue;
    try {
      graph.require_tensor(card.layers[i].visualize);
    } catch (const Error& e) {
      throw Error("card '" + origin + "': field 'layers[" + std::to_string(i) + "].visualize': " + e.what());
    }
  }
  bool input_is_graph_input = false;
  for (const auto& in : graph.inputs()) input_is_graph_input |= in.name == card.input;
  if (!input_is_graph_input)
    throw Error("card '" + origin + "': field 'input': '" + card.input + "' is not an input of '" + onnx_path + "'");

  model.card = std::move(card);
  model.onnx_path = onnx_path;
  return model;
}

}  // namespace

Model load_model(const std::string& ref) {
  ModelLocation loc = locate_model(ref);
  ModelCard& card = loc.card;
  if (loc.onnx_path.empty()) {
    std::string hint;
    if (!card.url.empty()) hint = "; download it with `featvis fetch " + card.name + "`";
    throw Error("model '" + ref + "' not found; searched: " + join(loc.searched) + " for '" + card.file + "'" + hint);
  }
  if (!card.labels_file.empty() && loc.labels_path.empty()) {
    throw Error("labels file '" + card.labels_file + "' of model '" + card.name +
                "' not found beside the card, beside the model or on the model search path");
  }

  Model model = model_from_graph(graph::Graph::load_onnx(loc.onnx_path), std::move(card), loc.onnx_path);
  if (!loc.note.empty()) std::cerr << "featvis: note: " << loc.note << "\n";
  model.note = loc.note;
  return model;
}

Model model_from_onnx_bytes(const std::string& bytes, ModelCard card, const std::string& origin) {
  return model_from_graph(graph::Graph::load_onnx_bytes(bytes, origin), std::move(card), origin);
}

std::string Model::label(int64_t index) const {
  if (index >= 0 && index < static_cast<int64_t>(card.labels.size())) return card.labels[static_cast<size_t>(index)];
  return "class " + std::to_string(index);
}

}  // namespace featvis::model
