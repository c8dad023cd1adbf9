#include <featvis/dataset_examples/index.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>

namespace featvis::dataset_examples {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFormat = "featvis-examples/1";

// A TopK state on the CPU, read row by row.
struct StateRows {
  at::Tensor scores, images, positions;
  explicit StateRows(const TopK& state)
      : scores(state.scores().to(at::kCPU, at::kDouble).contiguous()),
        images(state.images().to(at::kCPU).contiguous()),
        positions(state.positions().to(at::kCPU).contiguous()) {}

  // Entries of one unit, leaving out empty slots (image -1); `position` gets the flat one.
  std::vector<ExampleEntry> row(int64_t unit, std::vector<int64_t>* flat_positions = nullptr) const {
    const int64_t k = scores.size(1);
    const double* s = scores.data_ptr<double>() + unit * k;
    const int64_t* im = images.data_ptr<int64_t>() + unit * k;
    const int64_t* p = positions.data_ptr<int64_t>() + unit * k;
    std::vector<ExampleEntry> out;
    for (int64_t r = 0; r < k; ++r) {
      if (im[r] < 0) continue;
      ExampleEntry e;
      e.image = im[r];
      e.score = s[r];
      out.push_back(e);
      if (flat_positions) flat_positions->push_back(p[r]);
    }
    return out;
  }
};

// Reading: each access names the file and the field when the index is malformed.
struct Reader {
  const std::string& path;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("examples index '" + path + "': " + what);
  }
  const ojson& at(const ojson& j, const char* key, const std::string& where) const {
    if (!j.is_object() || !j.contains(key)) fail(where + " has no '" + key + "'");
    return j[key];
  }
  template <typename T>
  T get(const ojson& j, const char* key, const std::string& where) const {
    try {
      return at(j, key, where).get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(where + "." + key + " has the wrong type");
    }
  }
  std::vector<ExampleEntry> list(const ojson& unit, const char* key, const std::string& where, bool with_box) const {
    std::vector<ExampleEntry> out;
    const ojson& a = at(unit, key, where);
    if (!a.is_array()) fail(where + "." + key + " is not a list");
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string w = where + "." + key + "[" + std::to_string(i) + "]";
      ExampleEntry e;
      e.image = get<int64_t>(a[i], "image", w);
      e.score = get<double>(a[i], "score", w);
      if (with_box) {
        if (!at(a[i], "position", w).is_null()) e.position = get<std::array<int64_t, 2>>(a[i], "position", w);
        e.box = get<std::array<int64_t, 4>>(a[i], "box", w);
        if (!at(a[i], "crop", w).is_null()) e.crop = get<std::string>(a[i], "crop", w);
      }
      out.push_back(std::move(e));
    }
    return out;
  }
};

}  // namespace

std::string crop_path(int64_t image, const std::array<int64_t, 4>& box) {
  return "crops/" + std::to_string(image) + "/" + std::to_string(box[0]) + "-" + std::to_string(box[1]) + "-" +
         std::to_string(box[2]) + "-" + std::to_string(box[3]) + ".jpg";
}

std::string layer_slug(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '-';
    if (!keep) c = '_';
  }
  // "." and ".." would be directory references, not names.
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

ExamplesIndex make_examples_index(const model::Model& model, const std::string& images_root,
                                  const std::vector<std::string>& images, const ScanResult& scan, bool crops) {
  const auto& pre = model.card.preprocessing;
  ExamplesIndex index;
  index.model = model.card.name;
  index.images_root = std::filesystem::absolute(images_root).lexically_normal().string();
  index.images = images;
  index.top_k = scan.layers.empty() ? 0 : scan.layers[0].top_mean.k();
  index.input_size = {pre.height, pre.width};
  for (const auto& layer : scan.layers) {
    LayerIndex li;
    li.name = layer.name;
    li.shape = layer.shape;
    li.field_size = layer.field.size;
    li.field_stride = layer.field.stride;
    li.field_offset = layer.field.offset();
    const int64_t width = layer.shape.size() == 4 ? layer.shape[3] : 1;
    const StateRows top_mean(layer.top_mean), bottom_mean(layer.bottom_mean), top_max(layer.top_max);
    for (int64_t u = 0; u < layer.top_mean.units(); ++u) {
      UnitExamples unit;
      unit.unit = u;
      unit.top_mean = top_mean.row(u);
      unit.bottom_mean = bottom_mean.row(u);
      std::vector<int64_t> flat;
      unit.top_max = top_max.row(u, &flat);
      for (size_t r = 0; r < unit.top_max.size(); ++r) {
        ExampleEntry& e = unit.top_max[r];
        if (flat[r] >= 0) e.position = std::array<int64_t, 2>{flat[r] / width, flat[r] % width};
        e.box = e.position ? layer.field.box((*e.position)[0], (*e.position)[1], pre.height, pre.width)
                           : std::array<int64_t, 4>{0, 0, pre.width, pre.height};
        if (crops) e.crop = crop_path(e.image, e.box);
      }
      li.units.push_back(std::move(unit));
    }
    index.layers.push_back(std::move(li));
  }
  return index;
}

namespace {

// index.json is written as text directly, one unit per line: MobileNetV2's 18,057 units make
// a 13 MB file, and building it as a JSON tree first took longer than the crops' encoding.
// The same document as the tree would be (read_examples_index reads either).
void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {  // as nlohmann writes them
    out += "null";
    return;
  }
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;  // shortest round trip
  out.append(buffer, end);
}

void append_int(std::string& out, int64_t v) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, v).ptr);
}

template <size_t N>
void append_ints(std::string& out, const std::array<int64_t, N>& values) {
  out += '[';
  for (size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    append_int(out, values[i]);
  }
  out += ']';
}

void append_entries(std::string& out, const std::vector<ExampleEntry>& list, bool with_box) {
  out += '[';
  for (size_t i = 0; i < list.size(); ++i) {
    const ExampleEntry& e = list[i];
    out += i ? ", {\"image\": " : "{\"image\": ";
    append_int(out, e.image);
    out += ", \"score\": ";
    append_number(out, e.score);
    if (with_box) {
      out += ", \"position\": ";
      if (e.position) append_ints(out, *e.position);
      else out += "null";
      out += ", \"box\": ";
      append_ints(out, e.box);
      out += ", \"crop\": ";
      out += e.crop.empty() ? "null" : ojson(e.crop).dump();
    }
    out += '}';
  }
  out += ']';
}

}  // namespace

std::string examples_index_json(const ExamplesIndex& index) {
  std::string out = "{\n";
  const auto field = [&](const char* key, const ojson& value) {
    out += " \"" + std::string(key) + "\": " + value.dump() + ",\n";
  };
  field("format", kFormat);
  field("model", index.model);
  field("images_root", index.images_root);
  field("images", index.images);
  field("top_k", index.top_k);
  field("input_size", index.input_size);
  out += " \"layers\": [";
  for (size_t l = 0; l < index.layers.size(); ++l) {
    const LayerIndex& layer = index.layers[l];
    out += l ? ",\n  {" : "\n  {";
    out += "\"name\": " + ojson(layer.name).dump() + ", \"shape\": " + ojson(layer.shape).dump() +
           ", \"receptive_field\": " +
           ojson{{"size", layer.field_size}, {"stride", layer.field_stride}, {"offset", layer.field_offset}}.dump() +
           ", \"units\": [";
    for (size_t u = 0; u < layer.units.size(); ++u) {
      const UnitExamples& unit = layer.units[u];
      out += u ? ",\n   {\"unit\": " : "\n   {\"unit\": ";
      append_int(out, unit.unit);
      out += ", \"top_mean\": ";
      append_entries(out, unit.top_mean, false);
      out += ", \"bottom_mean\": ";
      append_entries(out, unit.bottom_mean, false);
      out += ", \"top_max\": ";
      append_entries(out, unit.top_max, true);
      out += '}';
    }
    out += "\n  ]}";
  }
  out += "\n ]\n}\n";
  return out;
}

void write_examples_index(const std::string& dir, const ExamplesIndex& index) {
  write_file_atomically((std::filesystem::path(dir) / "index.json").string(), examples_index_json(index));
}

ExamplesIndex read_examples_index(const std::string& path) {
  ojson j;
  try {
    j = ojson::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("examples index '" + path + "' is not valid JSON");
  }
  const Reader r{path};
  if (r.get<std::string>(j, "format", "index") != kFormat)
    r.fail("format is not " + std::string(kFormat));
  ExamplesIndex index;
  index.model = r.get<std::string>(j, "model", "index");
  index.images_root = r.get<std::string>(j, "images_root", "index");
  index.images = r.get<std::vector<std::string>>(j, "images", "index");
  index.top_k = r.get<int64_t>(j, "top_k", "index");
  index.input_size = r.get<std::array<int64_t, 2>>(j, "input_size", "index");
  const ojson& layers = r.at(j, "layers", "index");
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string w = "layers[" + std::to_string(i) + "]";
    LayerIndex l;
    l.name = r.get<std::string>(layers[i], "name", w);
    l.shape = r.get<std::vector<int64_t>>(layers[i], "shape", w);
    const ojson& rf = r.at(layers[i], "receptive_field", w);
    l.field_size = r.get<std::array<int64_t, 2>>(rf, "size", w + ".receptive_field");
    l.field_stride = r.get<std::array<int64_t, 2>>(rf, "stride", w + ".receptive_field");
    l.field_offset = r.get<std::array<double, 2>>(rf, "offset", w + ".receptive_field");
    const ojson& units = r.at(layers[i], "units", w);
    for (size_t u = 0; u < units.size(); ++u) {
      const std::string wu = w + ".units[" + std::to_string(u) + "]";
      UnitExamples unit;
      unit.unit = r.get<int64_t>(units[u], "unit", wu);
      unit.top_mean = r.list(units[u], "top_mean", wu, false);
      unit.bottom_mean = r.list(units[u], "bottom_mean", wu, false);
      unit.top_max = r.list(units[u], "top_max", wu, true);
      for (const auto* list : {&unit.top_mean, &unit.bottom_mean, &unit.top_max})
        for (const auto& e : *list)
          if (e.image < 0 || e.image >= static_cast<int64_t>(index.images.size()))
            r.fail(wu + " names image " + std::to_string(e.image) + " of " + std::to_string(index.images.size()));
      l.units.push_back(std::move(unit));
    }
    index.layers.push_back(std::move(l));
  }
  return index;
}

}  // namespace featvis::dataset_examples
