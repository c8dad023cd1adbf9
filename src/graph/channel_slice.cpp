// Graph::channel_slice: some channels of a tensor, by a graph of their own. From the
// tensor's producer back, each node is copied under a new name ("<output>{3,7}") with its
// weights' rows for those channels. Where output channel c reads input channel c alone
// (an activation, a depthwise convolution, a residual sum) the copy's input is cut the
// same way, recursively; a full convolution reads every input channel, so its copy takes
// its input whole and the walk stops there. A render of one channel of a 96-channel
// layer then never computes, stores or differentiates the other 95.
//
// How to teach it an op: add an entry to rules() below. A rule gets the slicer and the
// node's copy (its output already renamed); it points the copy's inputs at cut tensors
// (ChannelSlicer::cut_input) and weights (ChannelSlicer::cut_weight) and returns the
// whole output's channel count, or nullopt where the node cannot be cut, which makes the
// caller fall back to the full graph. Then add a case to tests/graph/channel_slice_test.cpp.
#include <featvis/graph/graph.h>

#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace featvis::graph {

struct Graph::SliceCache {
  std::map<std::string, ChannelSlice> slices;  // by tensor and channels
};

struct Graph::ChannelSlicer {
  const Graph& source;
  Graph& target;
  const std::vector<int64_t>& channels;
  std::string suffix;  // "{3,7}"
  std::map<std::string, std::pair<std::string, int64_t>> done;  // tensor -> its cut name, channel count

  // The name of `tensor`'s cut copy in the target and the whole tensor's channel count.
  std::optional<std::pair<std::string, int64_t>> cut(const std::string& tensor);

  // Points input `k` of `copy` at its cut tensor; its channel count, or nullopt.
  std::optional<int64_t> cut_input(Node& copy, size_t k) {
    if (k >= copy.inputs.size() || copy.inputs[k].empty()) return std::nullopt;
    const auto cut_tensor = cut(copy.inputs[k]);
    if (!cut_tensor) return std::nullopt;
    copy.inputs[k] = cut_tensor->first;
    return cut_tensor->second;
  }

  // Points input `k` of `copy` (a weight whose first axis has `rows` entries, one per
  // channel) at the channels' rows; false where it is not such a weight.
  bool cut_weight(Node& copy, size_t k, int64_t rows) {
    if (k >= copy.inputs.size() || copy.inputs[k].empty()) return false;
    const auto w = source.weights_.find(copy.inputs[k]);
    if (w == source.weights_.end() || w->second.dim() < 1 || w->second.size(0) != rows || channels.back() >= rows)
      return false;
    const std::string name = copy.inputs[k] + suffix;
    const at::Tensor index = at::tensor(channels, at::TensorOptions().dtype(at::kLong)).to(w->second.device());
    target.weights_[name] = w->second.index_select(0, index).contiguous();
    copy.inputs[k] = name;
    return true;
  }

  // The rules, by op type: each cuts a node's copy or says it cannot (nullopt), see the top.
  using Rule = std::optional<int64_t> (ChannelSlicer::*)(Node& copy);
  static const std::unordered_map<std::string, Rule>& rules();
  std::optional<int64_t> per_channel(Node& copy);
  std::optional<int64_t> elementwise(Node& copy);
  std::optional<int64_t> convolution(Node& copy);
  std::optional<int64_t> batch_normalization(Node& copy);

  // Whether input `k` is a single number (Clip's bounds, a scale), which every channel shares.
  bool scalar_input(const Node& node, size_t k) const {
    if (k >= node.inputs.size() || node.inputs[k].empty()) return true;
    const auto w = source.weights_.find(node.inputs[k]);
    if (w != source.weights_.end()) return w->second.numel() == 1;
    const Node* constant = source.producer(node.inputs[k]);
    return constant && constant->op_type == "Constant" && constant->attributes.has("value") &&
           constant->attributes.get_tensor("value").numel() == 1;
  }
};

// Output channel c is a function of input channel c alone; any other inputs are numbers.
std::optional<int64_t> Graph::ChannelSlicer::per_channel(Node& copy) {
  for (size_t k = 1; k < copy.inputs.size(); ++k)
    if (!scalar_input(copy, k)) return std::nullopt;
  return cut_input(copy, 0);
}

// Elementwise on two or more tensors of the same channels (a residual sum), or a tensor and numbers.
std::optional<int64_t> Graph::ChannelSlicer::elementwise(Node& copy) {
  std::optional<int64_t> channels;
  for (size_t k = 0; k < copy.inputs.size(); ++k) {
    if (scalar_input(copy, k)) continue;
    const auto c = cut_input(copy, k);
    if (!c || (channels && *c != *channels)) return std::nullopt;
    channels = c;
  }
  return channels;
}

std::optional<int64_t> Graph::ChannelSlicer::convolution(Node& copy) {
  if (copy.inputs.size() < 2) return std::nullopt;
  const auto w = source.weights_.find(copy.inputs[1]);
  // 2-D convolutions only: their outputs are [N,C,H,W] maps, which objectives read by axis 1
  // (a 1-D one's [N,C,L] could read as a token grid, whose channels are its last axis).
  if (w == source.weights_.end() || w->second.dim() != 4) return std::nullopt;
  const int64_t out = w->second.size(0), group = copy.attributes.get_int("group", 1);
  if (group != 1) {
    // Depthwise with one filter per input channel: output channel c reads input channel c.
    if (group != out || w->second.size(1) != 1) return std::nullopt;
    const auto in = cut_input(copy, 0);
    if (!in || *in != out) return std::nullopt;
    copy.attributes.set("group", static_cast<int64_t>(channels.size()));
  }
  if (!cut_weight(copy, 1, out)) return std::nullopt;
  if (copy.inputs.size() > 2 && !copy.inputs[2].empty() && !cut_weight(copy, 2, out)) return std::nullopt;
  return out;
}

// Inference-mode batch normalization: per-channel scale, bias, mean and variance.
std::optional<int64_t> Graph::ChannelSlicer::batch_normalization(Node& copy) {
  const auto whole = cut_input(copy, 0);
  if (!whole || copy.inputs.size() != 5) return std::nullopt;
  for (size_t k = 1; k < 5; ++k)
    if (!cut_weight(copy, k, *whole)) return std::nullopt;
  return whole;
}

const std::unordered_map<std::string, Graph::ChannelSlicer::Rule>& Graph::ChannelSlicer::rules() {
  static const std::unordered_map<std::string, Rule> table{
      {"Conv", &ChannelSlicer::convolution},
      {"BatchNormalization", &ChannelSlicer::batch_normalization},
      {"Relu", &ChannelSlicer::per_channel},
      {"LeakyRelu", &ChannelSlicer::per_channel},
      {"Clip", &ChannelSlicer::per_channel},
      {"Sigmoid", &ChannelSlicer::per_channel},
      {"Tanh", &ChannelSlicer::per_channel},
      {"Elu", &ChannelSlicer::per_channel},
      {"HardSigmoid", &ChannelSlicer::per_channel},
      {"HardSwish", &ChannelSlicer::per_channel},
      {"Identity", &ChannelSlicer::per_channel},
      {"MaxPool", &ChannelSlicer::per_channel},
      {"AveragePool", &ChannelSlicer::per_channel},
      {"Add", &ChannelSlicer::elementwise},
      {"Sub", &ChannelSlicer::elementwise},
      {"Mul", &ChannelSlicer::elementwise},
  };
  return table;
}

namespace {

std::string channel_suffix(const std::vector<int64_t>& channels) {
  std::string suffix = "{";
  for (size_t i = 0; i < channels.size(); ++i) suffix += (i ? "," : "") + std::to_string(channels[i]);
  return suffix + "}";
}

}  // namespace

std::optional<std::pair<std::string, int64_t>> Graph::ChannelSlicer::cut(const std::string& tensor) {
  if (auto it = done.find(tensor); it != done.end()) return it->second;
  const Node* node = source.producer(tensor);
  if (!node || source.channels_last(tensor)) return std::nullopt;
  const auto rule = rules().find(node->op_type);
  if (rule == rules().end() || node->outputs.empty() || node->outputs[0] != tensor) return std::nullopt;
  for (size_t k = 1; k < node->outputs.size(); ++k)
    if (!node->outputs[k].empty()) return std::nullopt;  // MaxPool's indices
  Node copy = *node;
  copy.name += suffix;
  copy.outputs = {tensor + suffix};
  const std::optional<int64_t> whole = (this->*rule->second)(copy);
  if (!whole || channels.back() >= *whole) return std::nullopt;
  // The inputs were cut (and appended) first, so the copy follows them: run order holds.
  target.producer_[copy.outputs[0]] = target.nodes_.size();
  target.nodes_.push_back(std::move(copy));
  return done[tensor] = {tensor + suffix, *whole};
}

ChannelSlice Graph::channel_slice(const std::string& tensor, const std::vector<int64_t>& channels) const {
  for (size_t i = 0; i < channels.size(); ++i)
    if (channels[i] < 0 || (i && channels[i] <= channels[i - 1])) return {};
  if (channels.empty()) return {};
  const std::string key = tensor + channel_suffix(channels);
  std::shared_ptr<SliceCache> cache;
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    if (!slices_) slices_ = std::make_shared<SliceCache>();
    cache = slices_;
    auto it = cache->slices.find(key);
    if (it != cache->slices.end()) return it->second;
  }
  // A copy with caches of its own: its programs are compiled for the cut nodes.
  auto target = std::make_shared<Graph>(*this);
  target->frozen_.reset();
  target->blocked_.reset();
  target->slices_.reset();
  target->plan_mutex_ = std::make_shared<std::mutex>();
  target->plans_ = std::make_shared<std::unordered_map<std::string, std::shared_ptr<const Plan>>>();
  ChannelSlicer slicer{*this, *target, channels, channel_suffix(channels), {}};
  ChannelSlice slice;
  if (const auto cut = slicer.cut(tensor)) slice = ChannelSlice{target, cut->first, cut->second};
  std::lock_guard<std::mutex> lock(*plan_mutex_);
  // A Microscope build asks for new channels every batch; each slice holds compiled
  // programs, so only the last few stay.
  if (cache->slices.size() >= 8) cache->slices.clear();
  cache->slices[key] = slice;
  return slice;
}

}  // namespace featvis::graph
