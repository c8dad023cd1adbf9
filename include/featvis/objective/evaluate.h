#pragma once
// An objective evaluated on images through a model: the one forward pass that render
// (every step and snapshot) and attribution (every method) share.
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::objective {

// One pass of `images` ([N,3,H,W] in [0,1]) through the card's scaling and the graph:
// the objective's [N] values (differentiable when autograd is on and the images require
// grad) and the activations it read plus `extra_layers` (e.g. Grad-CAM's layer).
// `network_view`, when given, is what the network sees instead (render's transformed
// copy of the batch); image penalties always read `images`.
// Throws featvis::Error if the objective does not give one value per item.
// An objective that reads a few channels of one layer (a channel, a neuron, a Microscope
// batch's units) gets only those computed, where the model allows (graph::Graph::
// channel_slice): that layer's activation then holds them alone, listed in `subsets`.
struct Evaluation {
  at::Tensor values;
  graph::TensorMap activations;
  std::map<std::string, ChannelSubset> subsets;
};
// `network_view`, when given, must hold the images' rows and then the references' rows
// (render transforms network_batch() for that).
Evaluation evaluate(const model::Model& model, const Objective& objective, const at::Tensor& images,
                    const std::vector<std::string>& extra_layers = {}, const at::Tensor& network_view = {});

// `images` followed by the objective's reference photos at the images' size, on their
// device: the batch the network sees before any transform. `images` itself when the
// objective has no references.
at::Tensor network_batch(const Objective& objective, const at::Tensor& images);
// The reference rows alone, [M,3,h,w] like `like` (dtype, device); undefined when the
// objective has none. A render makes them once: its image size never changes.
at::Tensor reference_rows(const Objective& objective, int64_t h, int64_t w, const at::Tensor& like);

// The [N] values of evaluate() without gradients, as doubles: what render records at
// step 0, thresholds and the end, and attribution's target value.
std::vector<double> values(const model::Model& model, const Objective& objective, const at::Tensor& images);

}  // namespace featvis::objective
