#include <featvis/dataset_examples/checkpoint.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

namespace featvis::dataset_examples {
namespace {

using json = nlohmann::json;

json::binary_t to_bytes(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU).contiguous();
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  return json::binary_t(std::vector<uint8_t>(p, p + c.nbytes()));
}

// A tensor shaped, typed and placed like `like`, from saved bytes.
at::Tensor from_bytes(const json& value, const at::Tensor& like, const std::string& path) {
  if (!value.is_binary()) throw Error("checkpoint '" + path + "' is damaged: a state tensor is missing");
  const auto& bytes = value.get_binary();
  at::Tensor cpu = at::empty(like.sizes(), like.options().device(at::kCPU));
  if (bytes.size() != cpu.nbytes()) throw Error("checkpoint '" + path + "' is damaged: a state tensor has the wrong size");
  std::memcpy(cpu.data_ptr(), bytes.data(), bytes.size());
  return cpu.to(like.device());
}

json state_json(const TopK& t) {
  return {{"scores", to_bytes(t.scores())}, {"images", to_bytes(t.images())}, {"positions", to_bytes(t.positions())}};
}

TopK state_from(const json& j, const TopK& like, const std::string& path) {
  return TopK(from_bytes(j.value("scores", json()), like.scores(), path),
              from_bytes(j.value("images", json()), like.images(), path),
              from_bytes(j.value("positions", json()), like.positions(), path), like.largest());
}

// Names the settings that differ, e.g. "layers, top_k".
std::string differences(const json& saved, const json& now) {
  std::string out;
  for (const auto& [key, value] : now.items())
    if (!saved.contains(key) || saved[key] != value) out += (out.empty() ? "" : ", ") + key;
  return out.empty() ? "format" : out;
}

}  // namespace

void save_checkpoint(const std::string& path, const std::string& settings, const ScanProgress& progress,
                     const std::vector<LayerExamples>& layers) {
  json j = {{"format", "featvis-examples-checkpoint/1"},
            {"settings", json::parse(settings)},
            {"images_done", progress.images_done},
            {"skipped", progress.skipped},
            {"layers", json::array()}};
  for (const auto& l : layers)
    j["layers"].push_back({{"name", l.name},
                           {"top_mean", state_json(l.top_mean)},
                           {"bottom_mean", state_json(l.bottom_mean)},
                           {"top_max", state_json(l.top_max)}});
  const std::vector<uint8_t> bytes = json::to_cbor(j);
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

bool load_checkpoint(const std::string& path, const std::string& settings, ScanProgress& progress,
                     std::vector<LayerExamples>& layers, std::string& note) {
  if (!std::filesystem::exists(path)) return false;
  const std::string bytes = read_file(path);
  json j;
  try {
    j = json::from_cbor(bytes);
  } catch (const json::exception&) {
    throw Error("checkpoint '" + path + "' is damaged (not CBOR); delete it to start over");
  }
  const json now = json::parse(settings);
  if (j.value("format", "") != "featvis-examples-checkpoint/1" || j.value("settings", json()) != now) {
    note = "checkpoint '" + path + "' was made with other settings (" + differences(j.value("settings", json()), now) +
           "); starting over";
    return false;
  }
  const json& saved = j["layers"];
  if (!saved.is_array() || saved.size() != layers.size())
    throw Error("checkpoint '" + path + "' is damaged: it holds " + std::to_string(saved.size()) + " layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].top_mean = state_from(saved[i]["top_mean"], layers[i].top_mean, path);
    layers[i].bottom_mean = state_from(saved[i]["bottom_mean"], layers[i].bottom_mean, path);
    layers[i].top_max = state_from(saved[i]["top_max"], layers[i].top_max, path);
  }
  progress.images_done = j.value("images_done", int64_t{0});
  progress.skipped = j.value("skipped", std::vector<std::string>{});
  return true;
}

}  // namespace featvis::dataset_examples
