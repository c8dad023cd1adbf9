#pragma once
// A loaded network: ONNX nodes in topological order plus frozen weights, executed with
// ATen ops. Every node output is addressable by its ONNX tensor name, and a request for
// a set of tensors runs only the nodes they depend on.
#include <featvis/graph/node.h>

#include <ATen/ATen.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace featvis::graph {

class BlockedBackprop;
using TensorMap = std::unordered_map<std::string, at::Tensor>;
class Graph;

// Some channels of one tensor, computed by a graph of their own (Graph::channel_slice).
struct ChannelSlice {
  std::shared_ptr<const Graph> graph;  // nullptr: the tensor is not made in a way that can be cut
  std::string tensor;                  // the name of the cut tensor in `graph`
  int64_t channels = 0;                // the whole tensor's channel count
};

struct GraphInput {
  std::string name;
  std::vector<int64_t> shape;  // -1 for a symbolic dimension
};

class Graph {
 public:
  // Reads and validates an ONNX file. Throws featvis::Error naming the file and the
  // problem (missing, not ONNX, unsupported op with its node name, ...).
  static Graph load_onnx(const std::string& path);
  // Same from bytes already in memory (used by tests); `origin` names them in errors.
  // `model_path`: the file the bytes came from, beside which external data (weights of a
  // model over 2 GB) is read; empty: a model with external data is an error.
  static Graph load_onnx_bytes(const std::string& bytes, const std::string& origin,
                               const std::string& model_path = "");

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<GraphInput>& inputs() const { return inputs_; }
  const std::vector<std::string>& outputs() const { return outputs_; }
  // The node producing `tensor`, or nullptr for graph inputs, weights and unknown names.
  const Node* producer(const std::string& tensor) const;
  bool has_tensor(const std::string& tensor) const;
  // Throws featvis::Error "unknown layer 'X' in model M" with close matches if absent.
  void require_tensor(const std::string& tensor) const;

  // Runs the part of the graph that `wanted` depends on. `input` is the (only) graph
  // input, NCHW float. Autograd is recorded iff the caller enabled it and the input
  // requires grad; weights never require grad.
  TensorMap run(const at::Tensor& input, const std::vector<std::string>& wanted) const;
  // The same tensors for inference only (classify, eval, the examples scan, probe): on the
  // CPU, without autograd, for batches of 2 or more, by a traced and frozen copy of the
  // graph in oneDNN's blocked layout (graph/frozen_forward.h), cached per input shape; else
  // by run(). The values differ from run()'s by float rounding only.
  TensorMap run_inference(const at::Tensor& input, const std::vector<std::string>& wanted) const;
  // Frozen programs built, checked and in use now (tests, benchmarks).
  int frozen_programs() const;
  // The nodes `wanted` depends on, as indices into nodes(), in run order (run()'s plan).
  std::vector<size_t> node_order(const std::vector<std::string>& wanted) const { return plan_for(wanted)->node_order; }
  // Blocked forward+backward programs in use now (graph/blocked_backprop.h; tests, benchmarks).
  int blocked_programs() const;
  // The blocked program for `wanted` at `input_shape`, compiled once and cached; nullptr where
  // the pruned graph has an op it does not support, the graph is not on the CPU, or the path
  // is turned off (blocked_backprop_enabled()).
  std::shared_ptr<const BlockedBackprop> blocked_program(const std::vector<int64_t>& input_shape,
                                                        const std::vector<std::string>& wanted) const;

  // A graph that computes only `channels` (ascending, distinct) of the 4-D `tensor`, as the
  // channels of ChannelSlice::tensor in that order: the nodes that make them copied under
  // new names with their weights cut, back to the convolutions whose output channels each
  // read all their input (graph/channel_slice.cpp lists the ops it cuts through). Cached
  // (a few slices); an empty graph where `tensor` is made by an op it cannot cut or a
  // channel is out of range. A channel objective's render then skips the work on the
  // channels it never reads.
  ChannelSlice channel_slice(const std::string& tensor, const std::vector<int64_t>& channels) const;

  // Weights (ONNX initializers) by name, e.g. to re-randomize layers for the
  // model-randomization sanity check. weight() throws featvis::Error for an unknown name;
  // set_weight() also when the shape differs, and moves the value to the graph's device.
  bool has_weight(const std::string& name) const { return weights_.count(name) > 0; }
  const at::Tensor& weight(const std::string& name) const;
  void set_weight(const std::string& name, const at::Tensor& value);

  // Moves the weights to a device (e.g. CUDA); inputs must then live there too.
  void to(const at::Device& device);
  at::Device device() const { return device_; }

  const std::string& origin() const { return origin_; }

  // Whether `tensor`'s last axis holds its channels, as the graph shows it: the input and
  // output of a LayerNorm over the last axis, and every tensor that elementwise ops and
  // MatMuls by constants connect to those (graph/token_grid.h). A 4-D one is an [N,H,W,C]
  // map (Swin's stages, ConvNeXt's block interiors) that featvis reads as NCHW by
  // permuting it; 2-D and 3-D ones are unaffected.
  bool channels_last(const std::string& tensor) const { return channels_last_.count(tensor) > 0; }

 private:
  struct Plan {
    std::vector<size_t> node_order;                  // indices into nodes_
    std::unordered_map<std::string, int> last_use;   // tensor -> position of last consumer
    // The blocked network's part, where it cannot take the whole plan: by position, the
    // nodes of ops it may take (blocked_op) computed from the input by such nodes only, and
    // the tensors of theirs that the other nodes read or the caller wants. Empty: none, or all.
    std::vector<bool> in_prefix;
    std::vector<std::string> prefix_outputs;
  };
  std::shared_ptr<const Plan> plan_for(const std::vector<std::string>& wanted) const;
  void find_blocked_prefix(Plan& plan, const std::vector<std::string>& wanted) const;

  std::string origin_;
  std::vector<Node> nodes_;
  std::vector<GraphInput> inputs_;
  std::vector<std::string> outputs_;
  TensorMap weights_;
  std::unordered_map<std::string, size_t> producer_;  // tensor -> node index
  std::unordered_set<std::string> channels_last_;     // found once at load
  at::Device device_{at::kCPU};

  // Frozen programs by (wanted, input shape); dropped when weights or the device change.
  struct FrozenCache;
  mutable std::shared_ptr<FrozenCache> frozen_;
  // run()'s oneDNN path for renders (graph/blocked_backprop.h): true when it served the call.
  bool run_blocked(const at::Tensor& input, const std::vector<std::string>& wanted, TensorMap* out) const;
  struct BlockedCache;
  mutable std::shared_ptr<BlockedCache> blocked_;

  // channel_slice()'s graphs by tensor and channels; dropped when weights or the device change.
  struct SliceCache;
  mutable std::shared_ptr<SliceCache> slices_;
  struct ChannelSlicer;  // graph/channel_slice.cpp

  mutable std::shared_ptr<std::mutex> plan_mutex_ = std::make_shared<std::mutex>();
  mutable std::shared_ptr<std::unordered_map<std::string, std::shared_ptr<const Plan>>> plans_ =
      std::make_shared<std::unordered_map<std::string, std::shared_ptr<const Plan>>>();
};

}  // namespace featvis::graph
