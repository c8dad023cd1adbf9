// Running a Graph: plan the nodes a request depends on (cached per request), then
// execute them in order, freeing each intermediate after its last use.
#include <featvis/graph/graph.h>
#include <featvis/graph/blocked_backprop.h>
#include <featvis/graph/op_registry.h>
#include <featvis/util/did_you_mean.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace featvis::graph {

const Node* Graph::producer(const std::string& tensor) const {
  auto it = producer_.find(tensor);
  return it == producer_.end() ? nullptr : &nodes_[it->second];
}

bool Graph::has_tensor(const std::string& tensor) const {
  return producer_.count(tensor) || weights_.count(tensor) ||
         (!inputs_.empty() && inputs_[0].name == tensor);
}

void Graph::require_tensor(const std::string& tensor) const {
  if (has_tensor(tensor)) return;
  std::vector<std::string> layers;
  for (const auto& [name, index] : producer_) layers.push_back(name);
  std::sort(layers.begin(), layers.end());
  std::string hint;
  for (size_t i : did_you_mean(tensor, layers)) hint += (hint.empty() ? "'" : ", '") + layers[i] + "'";
  throw Error("unknown layer '" + tensor + "' in model '" + origin_ + "'" +
              (hint.empty() ? "" : " (closest: " + hint + "; `featvis layers` lists all)"));
}

std::shared_ptr<const Graph::Plan> Graph::plan_for(const std::vector<std::string>& wanted) const {
  std::string key;
  for (const auto& w : wanted) key += w + '\n';
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    auto it = plans_->find(key);
    if (it != plans_->end()) return it->second;
  }
  // Walk back from the wanted tensors to the nodes they need.
  std::vector<bool> needed(nodes_.size(), false);
  std::vector<std::string> stack;
  for (const auto& w : wanted) {
    require_tensor(w);
    stack.push_back(w);
  }
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    auto it = producer_.find(t);
    if (it == producer_.end() || needed[it->second]) continue;
    needed[it->second] = true;
    for (const auto& in : nodes_[it->second].inputs) stack.push_back(in);
  }
  auto plan = std::make_shared<Plan>();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!needed[i]) continue;
    const int position = static_cast<int>(plan->node_order.size());
    plan->node_order.push_back(i);
    for (const auto& in : nodes_[i].inputs) plan->last_use[in] = position;
  }
  find_blocked_prefix(*plan, wanted);
  std::lock_guard<std::mutex> lock(*plan_mutex_);
  plans_->emplace(key, plan);
  return plan;
}

void Graph::find_blocked_prefix(Plan& plan, const std::vector<std::string>& wanted) const {
  if (inputs_.empty()) return;
  std::unordered_set<std::string> computed{inputs_[0].name};  // by the prefix, or its input
  plan.in_prefix.assign(plan.node_order.size(), false);
  size_t taken = 0;
  for (size_t position = 0; position < plan.node_order.size(); ++position) {
    const Node& node = nodes_[plan.node_order[position]];
    bool ok = blocked_op(node.op_type) && node.outputs.size() == 1;
    for (const auto& in : node.inputs) ok = ok && (in.empty() || weights_.count(in) || computed.count(in));
    if (!ok) continue;
    plan.in_prefix[position] = true;
    computed.insert(node.outputs[0]);
    ++taken;
  }
  if (taken == 0 || taken == plan.node_order.size()) {  // nothing to split
    plan.in_prefix.clear();
    return;
  }
  std::unordered_set<std::string> listed{inputs_[0].name};
  auto list = [&](const std::string& t) {
    if (computed.count(t) && listed.insert(t).second) plan.prefix_outputs.push_back(t);
  };
  for (size_t position = 0; position < plan.node_order.size(); ++position)
    if (!plan.in_prefix[position])
      for (const auto& in : nodes_[plan.node_order[position]].inputs) list(in);
  for (const auto& w : wanted) list(w);
  if (plan.prefix_outputs.empty()) plan.in_prefix.clear();
}

TensorMap Graph::run(const at::Tensor& input, const std::vector<std::string>& wanted) const {
  if (inputs_.empty()) throw Error("model '" + origin_ + "' has no input");
  if (!input.defined() || input.dim() != 4) {
    throw Error("model input must be a 4-D NCHW tensor");
  }
  if (TensorMap blocked; run_blocked(input, wanted, &blocked)) return blocked;
  const auto plan = plan_for(wanted);
  const std::unordered_set<std::string> keep(wanted.begin(), wanted.end());

  TensorMap values;
  values[inputs_[0].name] = input;
  // Under the render's kernels, a graph the blocked network does not take whole (a
  // classifier's head after its convolutions) runs its prefix there, the rest below.
  bool prefix_done = false;
  if (!plan->prefix_outputs.empty()) {
    TensorMap front;
    prefix_done = run_blocked(input, plan->prefix_outputs, &front);
    for (auto& [name, value] : front) values[name] = std::move(value);
  }
  auto lookup = [&](const std::string& name) -> at::Tensor {
    if (name.empty()) return at::Tensor();
    auto v = values.find(name);
    if (v != values.end()) return v->second;
    auto w = weights_.find(name);
    if (w != weights_.end()) return w->second;
    throw Error("tensor '" + name + "' is not available");  // unreachable after load checks
  };

  for (size_t position = 0; position < plan->node_order.size(); ++position) {
    if (prefix_done && plan->in_prefix[position]) continue;
    const Node& node = nodes_[plan->node_order[position]];
    OpInputs args;
    args.reserve(node.inputs.size());
    for (const auto& in : node.inputs) args.push_back(lookup(in));
    std::vector<at::Tensor> results;
    try {
      results = (*find_op(node.op_type))(node, args);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      // ATen errors are multi-line with a C++ backtrace: keep the first line.
      std::string msg = e.what();
      msg = msg.substr(0, msg.find('\n'));
      throw Error(node.op_type + " node '" + node.name + "' failed: " + msg);
    }
    for (size_t k = 0; k < node.outputs.size() && k < results.size(); ++k)
      if (!node.outputs[k].empty()) values[node.outputs[k]] = std::move(results[k]);
    // Free inputs whose last consumer this was, unless the caller asked for them.
    for (const auto& in : node.inputs) {
      auto lu = plan->last_use.find(in);
      if (lu != plan->last_use.end() && lu->second == static_cast<int>(position) && !keep.count(in))
        values.erase(in);
    }
  }
  TensorMap out;
  for (const auto& w : wanted) {
    auto v = values.find(w);
    out[w] = v != values.end() ? v->second : lookup(w);
  }
  return out;
}

const at::Tensor& Graph::weight(const std::string& name) const {
  auto it = weights_.find(name);
  if (it == weights_.end()) throw Error("no weight '" + name + "' in model '" + origin_ + "'");
  return it->second;
}

void Graph::set_weight(const std::string& name, const at::Tensor& value) {
  const at::Tensor& old = weight(name);
  if (!value.sizes().equals(old.sizes())) {
    throw Error("weight '" + name + "' in model '" + origin_ + "' has shape " + c10::str(old.sizes()) +
                ", not " + c10::str(value.sizes()));
  }
  weights_[name] = value.detach().to(old.device(), old.scalar_type());
  std::lock_guard<std::mutex> lock(*plan_mutex_);
  frozen_.reset();  // its programs hold the old weights as constants
  blocked_.reset();
  slices_.reset();
}

void Graph::to(const at::Device& device) {
  for (auto& [name, t] : weights_) {
    // Shape-like integer tensors stay on the CPU: ops read their values eagerly.
    if (at::isFloatingType(t.scalar_type())) t = t.to(device);
  }
  // Float constants embedded in nodes (Constant's "value") travel with the weights.
  for (auto& node : nodes_) {
    if (node.op_type != "Constant" || !node.attributes.has("value")) continue;
    const at::Tensor value = node.attributes.get_tensor("value");
    if (at::isFloatingType(value.scalar_type())) node.attributes.set("value", value.to(device));
  }
  device_ = device;
  std::lock_guard<std::mutex> lock(*plan_mutex_);
  frozen_.reset();
  blocked_.reset();
  slices_.reset();
}

}  // namespace featvis::graph
