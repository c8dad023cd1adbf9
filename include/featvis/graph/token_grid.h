#pragma once
// Transformer activations: [N,T,C], T tokens of C channels each, the last h*w of them the
// patch tokens of an h x w grid (a ViT's 196 after its class token). featvis reads such a
// tensor's units as its C channels and its patch tokens as an [N,C,h,w] map, so channel
// objectives, renders and Grad-CAM work on a ViT as on a CNN.
//
// Channels-last maps: Swin keeps its stages as [N,H,W,C] (and ConvNeXt the inside of its
// blocks). Their shape alone does not say so (56x56x96 reads as 56 channels of 56x96), so
// the graph decides: channels_last_tensors() below, Graph::channels_last(). featvis reads
// such a 4-D tensor as the [N,C,H,W] map permute(0,3,1,2) (unit_map()).
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace featvis::graph {

class Graph;

struct TokenGrid {
  int64_t class_tokens = 0;  // tokens before the grid (0 or 1)
  int64_t height = 0, width = 0;
};

// The grid of an [N,T,C] shape: T = g*g or 1 + g*g with g >= 2 (square patch grids, as
// torchvision's ViTs), and T != C; nullopt for anything else (a [N,C,L] sequence whose C
// happens to be such a number is read as tokens too: the rule is the shape). With
// `batch` > 0 (a probe of that many images) N must equal it too: Swin's attention windows
// [N * windows, 49, C] are not one image's tokens.
std::optional<TokenGrid> token_grid(at::IntArrayRef sizes, int64_t batch = 0);

// [N,T,C] -> [N,C,h,w]: the patch tokens laid out on their grid (a view when possible,
// differentiable).
at::Tensor token_map(const at::Tensor& tokens, const TokenGrid& grid);

// The tensors of `graph` whose last axis holds channels. Seeds: the input and output of a
// LayerNormalization with axis -1, and of LayerNorm as opset 13 exports it (ReduceMean over
// axis -1 whose mean a Sub takes from that same input). From the seeds the property spreads
// both ways along elementwise ops (activations, Add/Sub/Mul/Div/Pow) and MatMuls by a
// constant (a Linear maps the last axis only), never across a Transpose, Reshape or any
// other op. Tensors computed only from constants or from the input's shape never count.
std::unordered_set<std::string> channels_last_tensors(const Graph& graph);

// Tensor `name` of `graph` as featvis reads its units: an [N,H,W,C] channels-last map
// permuted to [N,C,H,W], [N,T,C] tokens as their patch grid (token_map), else unchanged.
at::Tensor unit_map(const Graph& graph, const std::string& name, const at::Tensor& t);
// The same for a shape seen by a probe of one image (layer_shapes): [1,C,H,W] for a
// channels-last map, [1,C,h,w] for tokens, else `sizes`.
std::vector<int64_t> unit_map_shape(const Graph& graph, const std::string& name, const std::vector<int64_t>& sizes);

}  // namespace featvis::graph
