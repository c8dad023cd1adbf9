// Model card parsing. Every check names the card and the JSON field, because a card is
// hand-written and the user needs to know which line to fix.
#include <featvis/model/card.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

namespace featvis::model {
namespace {

using nlohmann::json;

class CardReader {
 public:
  explicit CardReader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error("card '" + origin_ + "': field '" + field + "' " + problem);
  }
  [[noreturn]] void fail_card(const std::string& problem) const {
    throw Error("card '" + origin_ + "': " + problem);
  }

  // Typos in optional fields would otherwise be silently ignored.
  void reject_unknown(const json& object, const std::string& prefix,
                      const std::set<std::string>& allowed) const {
    for (const auto& item : object.items()) {
      if (!allowed.count(item.key())) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(prefix + item.key(), "is not a card field (known: " + list + ")");
      }
    }
  }

  std::string string(const json& object, const std::string& key, const std::string& field,
                     bool required) const {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required) fail(field, "is required");
      return "";
    }
    if (!it->is_string()) fail(field, "must be a string");
    const std::string value = it->get<std::string>();
    if (required && value.empty()) fail(field, "must not be empty");
    return value;
  }

  bool boolean(const json& object, const std::string& key, const std::string& field) const {
    auto it = object.find(key);
    if (it == object.end()) return false;
    if (!it->is_boolean()) fail(field, "must be true or false");
    return it->get<bool>();
  }

  int64_t positive_int(const json& object, const std::string& key, const std::string& field,
                       int64_t fallback, int64_t max) const {
    auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > max)
      fail(field, "must be a whole number from 1 to " + std::to_string(max));
    return it->get<int64_t>();
  }

  std::array<float, 3> triple(const json& object, const std::string& key, const std::string& field,
                              std::array<float, 3> fallback, bool positive) const {
    auto it = object.find(key);
    if (it == object.end()) return fallback;
    const std::string need = positive ? "must be 3 positive numbers" : "must be 3 numbers";
    if (!it->is_array() || it->size() != 3) fail(field, need + " (one per channel, in 0..255 pixel units)");
    std::array<float, 3> out{};
    for (size_t i = 0; i < 3; ++i) {
      const json& v = (*it)[i];
      if (!v.is_number()) fail(field, need);
      const double d = v.get<double>();
      if (!std::isfinite(d) || (positive && d <= 0)) fail(field, need);
      out[i] = static_cast<float>(d);
    }
    return out;
  }

 private:
  std::string origin_;
};

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Preprocessing read_preprocessing(const CardReader& r, const json& card) {
  auto it = card.find("preprocessing");
  if (it == card.end()) r.fail("preprocessing", "is required (crop, width, height, mean, std)");
  if (!it->is_object()) r.fail("preprocessing", "must be an object");
  const json& p = *it;
  r.reject_unknown(p, "preprocessing.",
                   {"crop", "resize", "central_fraction", "width", "height", "mean", "std", "channels"});

  Preprocessing pre;
  const std::string crop = r.string(p, "crop", "preprocessing.crop", true);
  if (crop == "resize_crop") {
    pre.crop = Preprocessing::Crop::kResizeCrop;
  } else if (crop == "central_fraction") {
    pre.crop = Preprocessing::Crop::kCentralFraction;
  } else if (crop == "stretch") {
    pre.crop = Preprocessing::Crop::kStretch;
  } else {
    r.fail("preprocessing.crop", "must be \"resize_crop\", \"central_fraction\" or \"stretch\", not \"" + crop + "\"");
  }
  constexpr int64_t kMaxSide = 8192;
  if (!p.contains("width")) r.fail("preprocessing.width", "is required");
  if (!p.contains("height")) r.fail("preprocessing.height", "is required");
  pre.width = static_cast<int>(r.positive_int(p, "width", "preprocessing.width", 224, kMaxSide));
  pre.height = static_cast<int>(r.positive_int(p, "height", "preprocessing.height", 224, kMaxSide));

  if (pre.crop == Preprocessing::Crop::kResizeCrop) {
    if (!p.contains("resize")) r.fail("preprocessing.resize", "is required when crop is \"resize_crop\"");
    pre.resize = static_cast<int>(r.positive_int(p, "resize", "preprocessing.resize", 256, kMaxSide));
    if (pre.resize < std::max(pre.width, pre.height))
      r.fail("preprocessing.resize", "(" + std::to_string(pre.resize) +
                                         ") must be at least the crop size (" + std::to_string(std::max(pre.width, pre.height)) + ")");
  } else if (p.contains("resize")) {
    r.fail("preprocessing.resize", "only applies when crop is \"resize_crop\"");
  }

  if (pre.crop == Preprocessing::Crop::kCentralFraction) {
    if (!p.contains("central_fraction"))
      r.fail("preprocessing.central_fraction", "is required when crop is \"central_fraction\"");
    const json& f = p["central_fraction"];
    if (!f.is_number() || !(f.get<double>() > 0.0) || f.get<double>() > 1.0)
      r.fail("preprocessing.central_fraction", "must be a number in (0, 1], e.g. 0.875");
    pre.central_fraction = f.get<double>();
  } else if (p.contains("central_fraction")) {
    r.fail("preprocessing.central_fraction", "only applies when crop is \"central_fraction\"");
  }

  if (!p.contains("mean")) r.fail("preprocessing.mean", "is required (3 numbers in pixel units, e.g. [0, 0, 0])");
  if (!p.contains("std")) r.fail("preprocessing.std", "is required (3 positive numbers in pixel units, e.g. [255, 255, 255])");
  pre.mean = r.triple(p, "mean", "preprocessing.mean", pre.mean, false);
  pre.std = r.triple(p, "std", "preprocessing.std", pre.std, true);

  const std::string channels = r.string(p, "channels", "preprocessing.channels", false);
  if (channels.empty() || channels == "rgb") {
    pre.bgr = false;
  } else if (channels == "bgr") {
    pre.bgr = true;
  } else {
    r.fail("preprocessing.channels", "must be \"rgb\" or \"bgr\", not \"" + channels + "\"");
  }
  return pre;
}

std::vector<CardLayer> read_layers(const CardReader& r, const json& card) {
  std::vector<CardLayer> layers;
  auto it = card.find("layers");
  if (it == card.end()) return layers;
  if (!it->is_array()) r.fail("layers", "must be a list of {\"name\": ..., \"title\": ...}");
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& l = (*it)[i];
    const std::string field = "layers[" + std::to_string(i) + "]";
    if (!l.is_object()) r.fail(field, "must be an object {\"name\": ..., \"title\": ...}");
    r.reject_unknown(l, field + ".", {"name", "title", "visualize"});
    CardLayer layer;
    layer.name = r.string(l, "name", field + ".name", true);
    layer.title = r.string(l, "title", field + ".title", false);
    if (layer.title.empty()) layer.title = layer.name;
    layer.visualize = r.string(l, "visualize", field + ".visualize", false);
    if (layer.visualize == layer.name) layer.visualize.clear();
    if (!seen.insert(layer.name).second) r.fail(field + ".name", "repeats layer '" + layer.name + "'");
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace

ModelCard ModelCard::from_json_text(const std::string& text, const std::string& origin) {
  const CardReader r(origin);
  json card;
  try {
    card = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the user needs the position.
    const auto bracket = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) what = what.substr(bracket + 2);
    r.fail_card("not valid JSON: " + what);
  }
  if (!card.is_object()) r.fail_card("must be a JSON object {\"name\": ..., \"file\": ..., ...}");
  r.reject_unknown(card, "", {"name", "description", "default", "file", "sha256", "url", "source", "input",
                              "output", "preprocessing", "labels_file", "classes", "layers", "comment"});

  ModelCard c;
  c.card_path = origin;
  c.name = r.string(card, "name", "name", true);
  for (char ch : c.name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.'))
      r.fail("name", "must use only letters, digits, '_', '-' and '.' (it is typed on the command line), not '" +
                         c.name + "'");
  }
  if (ends_with(c.name, ".onnx") || ends_with(c.name, ".json"))
    r.fail("name", "must be a short id, not a file name ('" + c.name + "')");
  c.description = r.string(card, "description", "description", false);
  c.is_default = r.boolean(card, "default", "default");
  (void)r.string(card, "comment", "comment", false);

  c.file = r.string(card, "file", "file", true);
  if (!ends_with(lower(c.file), ".onnx")) r.fail("file", "must name an .onnx file, not '" + c.file + "'");

  c.sha256 = lower(r.string(card, "sha256", "sha256", false));
  if (!c.sha256.empty() && !is_hex64(c.sha256)) r.fail("sha256", "must be 64 hexadecimal digits");
  c.url = r.string(card, "url", "url", false);
  if (!c.url.empty()) {
    if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      r.fail("url", "must start with http:// or https://");
    // A download nobody can verify is not worth offering.
    if (c.sha256.empty()) r.fail("sha256", "is required when 'url' is given (the download is verified against it)");
  }
  c.source = r.string(card, "source", "source", false);

  c.input = r.string(card, "input", "input", true);
  c.output = r.string(card, "output", "output", true);
  c.preprocessing = read_preprocessing(r, card);
  c.labels_file = r.string(card, "labels_file", "labels_file", false);
  c.num_classes = r.positive_int(card, "classes", "classes", 0, 1000000);
  c.layers = read_layers(r, card);
  return c;
}

std::string ModelCard::visualization_tensor(const std::string& layer) const {
  for (const auto& l : layers)
    if (l.name == layer) return l.visualization_tensor();
  return layer;
}

ModelCard ModelCard::from_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error("card '" + path + "' not found");
  return from_json_text(read_file(path), path);
}

}  // namespace featvis::model
