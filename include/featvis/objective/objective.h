#pragma once
// What a feature visualization maximizes. An Objective reads named activations of a
// batch (and, for penalties, the image itself) and returns one value per batch item;
// the render loop maximizes their sum. Objectives form a small algebra (+, -, scalar *,
// unary -, per-batch-item alternatives), as in Lucid's objectives module.
#include <featvis/graph/graph.h>

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace featvis::objective {

// Reference photos an objective compares against (caricatures): name -> [3,H,W] in [0,1].
// They join the batch the network sees, after the images and through the same transforms,
// so that a photo and the image are seen alike (Lucid stacks them the same way).
using References = std::map<std::string, at::Tensor>;

// A layer computed for some of its channels only (evaluate(), for an objective that reads
// just those: Objective::channels_read): the tensor holds `computed` in that order.
struct ChannelSubset {
  int64_t channels = 0;           // the whole layer's
  std::vector<int64_t> computed;  // ascending
};

struct ObjectiveInput {
  const graph::TensorMap& activations;  // every tensor in Objective::layers(), batch-first
  const at::Tensor& image;       // the parameterized image [N,3,H,W] in [0,1], before transforms
  // Each reference's activations ([1, ...] per tensor), by its name in Objective::references().
  const std::map<std::string, graph::TensorMap>* reference_activations = nullptr;
  // The model's graph, which says which layers are channels-last [N,H,W,C] maps
  // (Graph::channels_last); without it every 4-D layer reads as NCHW.
  const graph::Graph* graph = nullptr;
  // Layers computed in part, by name; the objective reads their channels through
  // detail::channel_plane, which knows where each one is.
  const std::map<std::string, ChannelSubset>* subsets = nullptr;
};

class Objective;
Objective per_item(const std::vector<Objective>& items);

class Objective {
 public:
  // Returns a [N] tensor (value per batch item, to be maximized). A batch-level term
  // (e.g. diversity) is split over the items so that the sum of the [N] values is the
  // batch-level value.
  using Function = std::function<at::Tensor(const ObjectiveInput&)>;

  Objective() = default;
  Objective(std::string description, std::set<std::string> layers, Function function);

  // Throws featvis::Error if undefined, if the batch (image.size(0)) differs from a fixed
  // batch_size(), or if the function does not return one value per item.
  at::Tensor operator()(const ObjectiveInput& input) const;

  // Tensors that must be computed (passed to Graph::run).
  const std::set<std::string>& layers() const { return layers_; }
  // The channels it reads, for the layers it reads only in part (channel and neuron
  // objectives); a layer of layers() not named here is read whole. evaluate() then may
  // compute those channels alone. A kind that declares channels must read them through
  // detail::channel_plane.
  const std::map<std::string, std::set<int64_t>>& channels_read() const { return channels_; }
  Objective& reading_channels(const std::string& layer, std::set<int64_t> channels) {
    channels_[layer] = std::move(channels);
    return *this;
  }
  // The same objective read whole: no channels declared, so evaluate() computes every
  // channel of its layers (what a render without the cut costs: Microscope --dry-run).
  Objective read_whole() const {
    Objective whole = *this;
    whole.channels_.clear();
    return whole;
  }

  // The text form ("2.5*(conv1:3 + conv1:4)"); parenthesized as needed when combined.
  const std::string& description() const { return description_; }
  bool defined() const { return static_cast<bool>(function_); }

  // Photos that must join the network's batch (see References); empty for most kinds.
  const References& references() const { return references_; }
  Objective& with_references(References references) {
    references_ = std::move(references);
    return *this;
  }

  // Batch size this objective needs (per-item alternatives and unit ranges fix it;
  // 0 = any).
  int64_t batch_size() const { return batch_size_; }
  Objective& with_batch_size(int64_t n) {
    batch_size_ = n;
    return *this;
  }

  // Combinations take the union of layers, references and channels read (a layer that
  // either reads whole is read whole) and the common batch size (the non-zero one;
  // featvis::Error if both are fixed and differ). An undefined operand acts as zero, so
  // `total = total + term` accumulates from a default-constructed Objective.
  friend Objective operator+(const Objective& a, const Objective& b);
  friend Objective operator-(const Objective& a, const Objective& b);
  friend Objective operator*(double scale, const Objective& a);
  friend Objective operator*(const Objective& a, double scale);
  friend Objective operator-(const Objective& a);
  // Needs to mark its description as binding loosest ("a | b", parenthesized in sums).
  friend Objective per_item(const std::vector<Objective>& items);

 private:
  // How tightly the description binds, so that combinations add parentheses only where
  // needed: alternatives < sums < products and negations < atoms.
  enum class Binding { kAlternatives, kSum, kProduct, kAtom };
  static std::string operand(const Objective& o, Binding needed);

  std::string description_;
  std::set<std::string> layers_;
  std::map<std::string, std::set<int64_t>> channels_;
  References references_;
  Function function_;
  int64_t batch_size_ = 0;
  Binding binding_ = Binding::kAtom;
};

}  // namespace featvis::objective
