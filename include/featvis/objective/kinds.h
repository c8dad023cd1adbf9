#pragma once
// The objective kinds featvis knows (Lucid/Lucent's names). All targets are maximized.
// Layers are read as [N,C,H,W]; a 2-D layer such as logits [N,C] counts as C channels of
// size 1x1, a 3-D one [N,C,L] as 1xL.
// Out-of-range channels, positions or classes throw featvis::Error when evaluated
// (objective::parse() checks them up front against the model's layer shapes).
#include <featvis/objective/objective.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace featvis::objective {

// Channel c, mean over all positions of `layer`.
Objective channel(const std::string& layer, int64_t c);
// One neuron: channel c at column x, row y of the layer; nullopt = the centre
// (x = W/2, y = H/2, rounded down, from the layer's size at evaluation time).
Objective neuron(const std::string& layer, int64_t c, std::optional<std::pair<int64_t, int64_t>> xy = std::nullopt);
// The whole layer: mean of squared activations (DeepDream).
Objective deepdream(const std::string& layer);
// Class k's pre-softmax score / softmax probability, read from `output` (the card's).
Objective logit(const std::string& output, int64_t k);
Objective probability(const std::string& output, int64_t k);
// A direction v in channel space, mean over positions. Dot form: <act, v>. Cosine form
// (Lucid's _dot_cossim with cossim_pow 1): <act, v/|v|> * max(cos(act, v), 0.1); the
// floor keeps a negative cosine from turning a negative dot product into a reward.
// The vector must have one value per channel of `layer`.
Objective direction(const std::string& layer, const at::Tensor& vector, bool cosine = true);
// The same at one position (nullopt = the centre, as for neuron).
Objective direction_neuron(const std::string& layer, const at::Tensor& vector,
                           std::optional<std::pair<int64_t, int64_t>> xy = std::nullopt, bool cosine = true);
// Batch terms (Lucid's definitions; the [N] values sum to Lucid's batch value):
// diversity: -(1/N) sum over pairs i != j of cos(Gram_i, Gram_j), the Gram matrices of
//   `layer`'s channels over positions; item i gets the pairs that involve it.
// alignment: -sum over d = 1..4 and i of mean((act_i - act_{i+d})^2) / decay_ratio^d
//   (neighbouring items alike); each pair's term is split between its two items.
// channel_interpolate: item i maximizes (1 - w) * channel(layer1, c1) + w *
//   channel(layer2, c2) with w = i / (N - 1) (w = 0 for a batch of one).
Objective diversity(const std::string& layer);
Objective alignment(const std::string& layer, double decay_ratio = 2.0);
Objective channel_interpolate(const std::string& layer1, int64_t c1, const std::string& layer2, int64_t c2);
// Image penalties on the [0,1] image, per item, returned as negative values (maximizing
// them shrinks the penalty). Means over pixels, not Lucid's sums, so that weights do not
// depend on the image size:
// l1: -mean|x - constant|;  l2: -sqrt(epsilon + mean((x - constant)^2));
// total_variation: -(mean|x[y+1,x] - x[y,x]| + mean|x[y,x+1] - x[y,x]|);
// blur: -mean((x - blur3x3(x))^2) with the blurred image held constant, so a gradient
//   step moves the image toward its blur (Lucid's blur_input_each_step).
Objective l1(double constant = 0.5);
Objective l2(double constant = 0.5, double epsilon = 1e-6);
Objective total_variation();
Objective blur();
// distance: -sqrt(mean((x - photo)^2)), the RMS distance to a photo ([3,H,W] in [0,1]),
//   resized (bilinear, antialiased) to the image's size. With --init on the same photo and
//   a unit, it is feature accentuation (Hamblin et al. 2024): the unit is raised while
//   the image stays near the photo, so the result shows what the unit sees in it.
//   `name` is how the text form writes the photo (its file name).
Objective distance(const at::Tensor& photo, const std::string& name);
// caricature: <a, p>/|p| * max(cos(a, p), 0.1)^power, a the image's activations at
//   `layer` (flattened per item) and p the photo's, computed in the same batch after the
//   same transforms (the photo is a reference, see References); Lucid's caricature, from
//   noise. `name` is how the text form writes the photo.
Objective caricature(const std::string& layer, const at::Tensor& photo, const std::string& name, double power = 1.0);
// Item i of the batch gets objective i only; fixes batch_size() to items.size().
// Throws featvis::Error if an item itself needs another batch size.
Objective per_item(const std::vector<Objective>& items);

}  // namespace featvis::objective
