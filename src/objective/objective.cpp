// The objective algebra: sums, differences, scaling and per-item alternatives build new
// objectives whose descriptions, layers and batch sizes follow from their operands.
#include <featvis/objective/kinds.h>
#include <featvis/objective/objective.h>
#include <featvis/util/check.h>

#include "text_form.h"

#include <utility>

namespace featvis::objective {
namespace {

std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "," : "") + std::to_string(t.size(d));
  return s + "]";
}

int64_t common_batch_size(const Objective& a, const Objective& b) {
  const int64_t na = a.batch_size(), nb = b.batch_size();
  FEATVIS_CHECK(!na || !nb || na == nb, "objectives '", a.description(), "' and '", b.description(),
                "' need different batch sizes (", na, " and ", nb, ")");
  return na ? na : nb;
}

std::set<std::string> merged_layers(const Objective& a, const Objective& b) {
  std::set<std::string> layers = a.layers();
  layers.insert(b.layers().begin(), b.layers().end());
  return layers;
}

using ChannelsRead = std::map<std::string, std::set<int64_t>>;

// What a and b read together: a layer either reads whole is read whole.
ChannelsRead merged_channels(const Objective& a, const Objective& b) {
  ChannelsRead channels;
  for (const std::string& layer : merged_layers(a, b)) {
    std::set<int64_t> read;
    bool whole = false;
    for (const Objective* o : {&a, &b}) {
      if (!o->layers().count(layer)) continue;
      auto it = o->channels_read().find(layer);
      whole = whole || it == o->channels_read().end();
      if (!whole) read.insert(it->second.begin(), it->second.end());
    }
    if (!whole) channels[layer] = std::move(read);
  }
  return channels;
}

References merged_references(const Objective& a, const Objective& b) {
  References references = a.references();
  references.insert(b.references().begin(), b.references().end());  // one name, one photo
  return references;
}

}  // namespace

Objective::Objective(std::string description, std::set<std::string> layers, Function function)
    : description_(std::move(description)), layers_(std::move(layers)), function_(std::move(function)) {}

at::Tensor Objective::operator()(const ObjectiveInput& input) const {
  FEATVIS_CHECK(function_, "an empty objective was evaluated");
  int64_t n = -1;
  if (input.image.defined()) {
    n = input.image.size(0);
  } else if (!input.activations.empty()) {
    n = input.activations.begin()->second.size(0);
  }
  FEATVIS_CHECK(batch_size_ == 0 || n < 0 || n == batch_size_, "objective '", description_, "' needs a batch of ",
                batch_size_, " images, got ", n);
  at::Tensor value = function_(input);
  if (!value.defined() || value.dim() != 1 || (n >= 0 && value.size(0) != n)) {
    throw Error("objective '" + description_ + "' gave " + (value.defined() ? shape_text(value) : "nothing") +
                " instead of one value per batch item");
  }
  return value;
}

std::string Objective::operand(const Objective& o, Binding needed) {
  return o.binding_ < needed ? "(" + o.description_ + ")" : o.description_;
}

Objective operator+(const Objective& a, const Objective& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  Objective sum(Objective::operand(a, Objective::Binding::kSum) + " + " +
                    Objective::operand(b, Objective::Binding::kSum),
                merged_layers(a, b), [a, b](const ObjectiveInput& in) { return a(in) + b(in); });
  sum.batch_size_ = common_batch_size(a, b);
  sum.references_ = merged_references(a, b);
  sum.channels_ = merged_channels(a, b);
  sum.binding_ = Objective::Binding::kSum;
  return sum;
}

Objective operator-(const Objective& a, const Objective& b) {
  if (!b.defined()) return a;
  if (!a.defined()) return -b;
  // The right operand of '-' keeps its parentheses: a - (b + c).
  Objective difference(Objective::operand(a, Objective::Binding::kSum) + " - " +
                           Objective::operand(b, Objective::Binding::kProduct),
                       merged_layers(a, b), [a, b](const ObjectiveInput& in) { return a(in) - b(in); });
  difference.batch_size_ = common_batch_size(a, b);
  difference.references_ = merged_references(a, b);
  difference.channels_ = merged_channels(a, b);
  difference.binding_ = Objective::Binding::kSum;
  return difference;
}

Objective operator*(double scale, const Objective& a) {
  if (!a.defined()) return a;
  Objective scaled(text::number(scale) + "*" + Objective::operand(a, Objective::Binding::kProduct),
                   a.layers_, [a, scale](const ObjectiveInput& in) { return a(in) * scale; });
  scaled.batch_size_ = a.batch_size_;
  scaled.references_ = a.references_;
  scaled.channels_ = a.channels_;
  scaled.binding_ = Objective::Binding::kProduct;
  return scaled;
}

Objective operator*(const Objective& a, double scale) {
  if (!a.defined()) return a;
  Objective scaled(Objective::operand(a, Objective::Binding::kProduct) + "*" + text::number(scale),
                   a.layers_, [a, scale](const ObjectiveInput& in) { return a(in) * scale; });
  scaled.batch_size_ = a.batch_size_;
  scaled.references_ = a.references_;
  scaled.channels_ = a.channels_;
  scaled.binding_ = Objective::Binding::kProduct;
  return scaled;
}

Objective operator-(const Objective& a) {
  if (!a.defined()) return a;
  Objective negated("-" + Objective::operand(a, Objective::Binding::kProduct), a.layers_,
                    [a](const ObjectiveInput& in) { return -a(in); });
  negated.batch_size_ = a.batch_size_;
  negated.references_ = a.references_;
  negated.channels_ = a.channels_;
  negated.binding_ = Objective::Binding::kProduct;
  return negated;
}

Objective per_item(const std::vector<Objective>& items) {
  FEATVIS_CHECK(!items.empty(), "per-item objectives need at least one objective");
  const auto n = static_cast<int64_t>(items.size());
  std::string description;
  std::set<std::string> layers;
  References references;
  Objective reads;  // what the items read together (merged_channels)
  for (size_t i = 0; i < items.size(); ++i) {
    const Objective& item = items[i];
    FEATVIS_CHECK(item.defined(), "per-item objective ", i, " is empty");
    FEATVIS_CHECK(!item.batch_size() || item.batch_size() == n, "objective '", item.description(),
                  "' needs a batch of ", item.batch_size(), ", but it is one of ", n, " per-item objectives");
    description += (i ? " | " : "") + Objective::operand(item, Objective::Binding::kSum);
    layers.insert(item.layers().begin(), item.layers().end());
    references.insert(item.references().begin(), item.references().end());
    reads.channels_ = merged_channels(reads, item);
    reads.layers_ = layers;
  }
  Objective alternatives(std::move(description), std::move(layers), [items](const ObjectiveInput& in) {
    std::vector<at::Tensor> values;
    values.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) values.push_back(items[i](in).select(0, static_cast<int64_t>(i)));
    return at::stack(values);
  });
  alternatives.batch_size_ = n;
  alternatives.references_ = std::move(references);
  alternatives.channels_ = std::move(reads.channels_);
  alternatives.binding_ = Objective::Binding::kAlternatives;
  return alternatives;
}

}  // namespace featvis::objective
