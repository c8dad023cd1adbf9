#include <featvis/dataset_examples/scan.h>
#include <featvis/dataset_examples/checkpoint.h>
#include <featvis/graph/blocked_backprop.h>
#include <featvis/image/image.h>
#include <featvis/graph/token_grid.h>
#include <featvis/inference/layer_info.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace featvis::dataset_examples {
namespace {

struct DecodedBatch {
  at::Tensor input;               // [n, 3, H, W], undefined when no photo could be read
  std::vector<int64_t> indices;   // into the image list
  std::vector<at::Tensor> views;  // view_of_input of the first `views` photos that were read
  std::vector<std::string> skipped;
};

// The photo as the card cropped it, in pixel levels: the network input with the card's
// scaling undone (exact: the levels are integers, far from a rounding tie).
at::Tensor view_of_input(const at::Tensor& chw, const model::Preprocessing& pre) {
  const at::Tensor rgb = pre.bgr ? chw.flip({0}) : chw;
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}).view({3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}).view({3, 1, 1});
  return (rgb * std + mean).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
}

// Photos [begin, end) as one batch, with the views of the first `views` of them, decoded on
// the network's own threads (one photo per thread at a time) between two forwards. A
// third thread decoding the next batch beside the network's two made them wait on each
// other at every primitive: the scan ran 11 % slower on 2 cores that way.
DecodedBatch decode(const std::string& root, const std::vector<std::string>& images, size_t begin, size_t end,
                    const model::Preprocessing& pre, size_t views) {
  const int64_t n = static_cast<int64_t>(end - begin);
  at::Tensor input = at::empty({n, 3, pre.height, pre.width}, at::kFloat);
  std::vector<at::Tensor> view_slots(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<char> ok(static_cast<size_t>(n), 0);
  at::parallel_for(0, n, 1, [&](int64_t first, int64_t last) {
    for (int64_t j = first; j < last; ++j) {
      const size_t i = begin + static_cast<size_t>(j);
      try {
        const at::Tensor x = image::load_network_input((std::filesystem::path(root) / images[i]).string(), pre);
        input[j].copy_(x);
        if (static_cast<size_t>(j) < views) view_slots[static_cast<size_t>(j)] = view_of_input(x, pre);
        ok[static_cast<size_t>(j)] = 1;
      } catch (const Error& e) {
        errors[static_cast<size_t>(j)] = e.what();
      }
    }
  });
  DecodedBatch batch;
  std::vector<int64_t> rows;
  for (int64_t j = 0; j < n; ++j) {
    if (!ok[static_cast<size_t>(j)]) {
      batch.skipped.push_back(errors[static_cast<size_t>(j)]);
      continue;
    }
    rows.push_back(j);
    batch.indices.push_back(static_cast<int64_t>(begin) + j);
    if (view_slots[static_cast<size_t>(j)].defined()) batch.views.push_back(view_slots[static_cast<size_t>(j)]);
  }
  if (rows.size() == static_cast<size_t>(n)) batch.input = input;
  else if (!rows.empty()) batch.input = input.index_select(0, at::tensor(rows, at::kLong));
  return batch;
}

// What decides the content of the state: a checkpoint is resumed only if these match.
std::string settings_of(const model::Model& model, const std::string& root, const std::vector<std::string>& images,
                        const ScanOptions& options) {
  nlohmann::json list_digest = std::hash<std::string>{}(nlohmann::json(images).dump());
  return nlohmann::json{{"model", model.card.name},
                        {"model_file", std::filesystem::absolute(model.onnx_path).string()},
                        {"images_root", std::filesystem::absolute(root).string()},
                        {"images", {{"count", images.size()}, {"digest", list_digest}}},
                        {"layers", options.layers},
                        {"top_k", options.top_k},
                        {"input_size", {model.card.preprocessing.height, model.card.preprocessing.width}}}
      .dump();
}

// The scan's network on the CPU: the blocked program (graph/blocked_backprop.h) summarizes
// each layer per channel as it is made, with no dense copy of the 53 layers of MobileNetV2;
// nullptr where a layer is not a plain NCHW map of a graph that program supports.
std::shared_ptr<const graph::BlockedBackprop> blocked_scan(const model::Model& model,
                                                           const std::vector<int64_t>& input_sizes,
                                                           const std::vector<std::string>& layers) {
  if (!model.graph.device().is_cpu()) return nullptr;
  for (const auto& l : layers)
    if (model.graph.channels_last(l)) return nullptr;
  return model.graph.blocked_program(input_sizes, layers);
}

// Each layer's shape at batch 1: from the blocked program the scan will run, compiled here
// for its first batch (no forward needed; the first batch then finds it compiled), else
// from a forward of one blank photo through the graph (60 ms of MobileNetV2's set-up).
std::unordered_map<std::string, inference::LayerShape> scan_layer_shapes(const model::Model& model,
                                                                          const std::vector<std::string>& layers,
                                                                          int64_t first_batch) {
  const auto& pre = model.card.preprocessing;
  const auto program = blocked_scan(model, {first_batch, 3, pre.height, pre.width}, layers);
  if (!program) return inference::layer_shapes(model, layers);
  std::unordered_map<std::string, inference::LayerShape> shapes;
  for (const auto& name : layers) {
    std::vector<int64_t> sizes = program->shape(name);
    sizes[0] = 1;
    shapes[name] = inference::LayerShape{sizes, at::kFloat};
  }
  return shapes;
}

std::vector<LayerExamples> set_up_layers(const model::Model& model, const ScanOptions& options, int64_t first_batch) {
  if (options.layers.empty()) throw Error("no layers to scan");
  for (size_t i = 0; i < options.layers.size(); ++i) {
    model.graph.require_tensor(options.layers[i]);
    if (std::find(options.layers.begin(), options.layers.begin() + i, options.layers[i]) != options.layers.begin() + i)
      throw Error("layer '" + options.layers[i] + "' is named twice");
  }
  const auto& pre = model.card.preprocessing;
  const auto shapes = scan_layer_shapes(model, options.layers, first_batch);
  std::vector<LayerExamples> layers;
  for (const auto& name : options.layers) {
    inference::LayerShape t = shapes.at(name);
    // A transformer's [N,T,C] tokens count as the [N,C,h,w] map of their patch tokens;
    // attention mixes every patch, so each unit's field is the whole input.
    // A channels-last [N,H,W,C] map (Swin) likewise counts as its NCHW view.
    const auto grid = graph::token_grid(t.sizes, 1);
    const bool channels_last = t.sizes.size() == 4 && model.graph.channels_last(name);
    t.sizes = graph::unit_map_shape(model.graph, name, t.sizes);
    if ((t.sizes.size() != 2 && t.sizes.size() != 4) || !at::isFloatingType(t.dtype)) {
      std::string shape;
      for (int64_t d : t.sizes) shape += (shape.empty() ? "" : "x") + std::to_string(d);
      throw Error("layer '" + name + "' has shape " + shape +
                  "; dataset examples need [N, C], [N, C, H, W] or [N, T, C] transformer token floats");
    }
    const int64_t units = t.sizes[1];
    const auto opts = at::TensorOptions().device(model.graph.device());
    ReceptiveField field = receptive_field(model.graph, name, pre.height, pre.width);
    if (grid || channels_last) field.whole_input = true;
    layers.push_back(LayerExamples{name, t.sizes, field,
                                   TopK(units, options.top_k, true, opts), TopK(units, options.top_k, false, opts),
                                   TopK(units, options.top_k, true, opts)});
  }
  return layers;
}

// Per unit of a batch: channel mean, and maximum with its flattened position y*W+x.
void record_stats(LayerExamples& layer, const at::Tensor& mean, const at::Tensor& max, const at::Tensor& where,
                  const at::Tensor& images) {
  layer.top_mean.add(mean, images, where);
  layer.bottom_mean.add(mean, images, where);
  layer.top_max.add(max, images, where);
}

// The same from the layer's tensor. [N, C] layers have one value per unit and no position.
void record(LayerExamples& layer, const graph::Graph& graph, const at::Tensor& tensor, const at::Tensor& images) {
  const at::Tensor act = graph::unit_map(graph, layer.name, tensor);
  if (act.dim() == 2) {
    const at::Tensor scores = act.to(at::kFloat);
    record_stats(layer, scores, scores, at::full(scores.sizes(), -1, scores.options().dtype(at::kLong)), images);
    return;
  }
  const at::Tensor flat = act.to(at::kFloat).flatten(2);
  const auto [max, where] = flat.max(2);
  record_stats(layer, flat.mean(2), max, where, images);
}

}  // namespace

std::vector<std::string> card_ranking_tensors(const model::Model& model) {
  std::vector<std::string> names;
  for (const auto& l : model.card.layers) names.push_back(l.visualization_tensor());
  if (names.empty()) throw Error("model card '" + model.card.name + "' lists no layers; name them with --layers");
  return names;
}

ScanResult scan_examples(const model::Model& model, const std::string& images_root, const std::vector<std::string>& images,
                         const ScanOptions& options) {
  FEATVIS_CHECK_SETTING(options.top_k >= 1, "top", "examples per unit must be at least 1");
  FEATVIS_CHECK_SETTING(options.batch_size >= 1, "batch", "photos per batch must be at least 1");
  FEATVIS_CHECK_SETTING(options.checkpoint_every >= 1, "checkpoint_every", "batches between checkpoints must be at least 1");
  if (images.empty()) throw Error("image folder '" + images_root + "' holds no photos");
  // The scan's clock includes its set-up: the network compiled for the batch (which would
  // otherwise happen in the first batch) and the layers' shapes.
  const auto start = std::chrono::steady_clock::now();
  ScanResult result;
  result.layers =
      set_up_layers(model, options, std::min<int64_t>(options.batch_size, static_cast<int64_t>(images.size())));
  const std::string settings = settings_of(model, images_root, images, options);
  ScanProgress progress;
  if (!options.checkpoint_path.empty() &&
      load_checkpoint(options.checkpoint_path, settings, progress, result.layers, result.note)) {
    result.resumed_from = progress.images_done;
  }
  const size_t total = images.size(), step = static_cast<size_t>(options.batch_size);
  const model::Preprocessing& pre = model.card.preprocessing;
  ProgressBar bar(static_cast<int64_t>(total), "examples", options.progress);
  int64_t batches = 0;
  const int64_t view_bytes = int64_t{3} * pre.height * pre.width;
  int64_t views_left = options.keep_views_bytes / view_bytes;  // views still to keep
  size_t begin = static_cast<size_t>(progress.images_done);
  while (begin < total) {
    const size_t after = std::min(begin + step, total);
    DecodedBatch batch = decode(images_root, images, begin, after, pre, static_cast<size_t>(views_left));
    for (size_t i = 0; i < batch.views.size(); ++i) result.views[batch.indices[i]] = std::move(batch.views[i]);
    views_left -= static_cast<int64_t>(batch.views.size());
    progress.skipped.insert(progress.skipped.end(), batch.skipped.begin(), batch.skipped.end());
    if (batch.input.defined()) {
      c10::InferenceMode guard;
      const at::Device device = model.graph.device();
      const at::Tensor input = batch.input.to(device);
      const at::Tensor indices = at::tensor(batch.indices, at::TensorOptions().dtype(at::kLong)).to(device);
      const auto program =
          input.scalar_type() == at::kFloat ? blocked_scan(model, input.sizes().vec(), options.layers) : nullptr;
      if (program) {
        const auto stats = program->channel_stats(input);
        // One parallel region for all the layers' merges (each layer's on one thread, in
        // order), not one per ranking: 53 layers x 3 small merges a batch.
        at::parallel_for(0, static_cast<int64_t>(result.layers.size()), 1, [&](int64_t first, int64_t end) {
          for (int64_t l = first; l < end; ++l) {
            LayerExamples& layer = result.layers[static_cast<size_t>(l)];
            const auto& s = stats.at(layer.name);
            record_stats(layer, s.mean, s.max, s.where, indices);
          }
        });
      } else {
        const graph::TensorMap acts = model.graph.run_inference(input, options.layers);
        for (auto& layer : result.layers) record(layer, model.graph, acts.at(layer.name), indices);
      }
      result.images_scanned += static_cast<int64_t>(batch.indices.size());
    }
    begin = after;
    progress.images_done = static_cast<int64_t>(begin);
    ++batches;
    bar.update(static_cast<int64_t>(begin));
    const bool stop = begin < total && options.stop_requested && options.stop_requested();
    if (!options.checkpoint_path.empty() && begin < total && (stop || batches % options.checkpoint_every == 0))
      save_checkpoint(options.checkpoint_path, settings, progress, result.layers);
    if (stop) {
      result.interrupted = true;
      break;
    }
  }
  bar.finish(result.interrupted ? "interrupted" : "");
  result.images_done = progress.images_done;
  result.skipped = progress.skipped;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace featvis::dataset_examples
