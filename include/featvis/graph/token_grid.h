#pragma once
// Transformer activations: [N,T,C], T tokens of C channels each, the last h*w of them the
// patch tokens of an h x w grid (a ViT's 196 after its class token). featvis reads such a
// tensor's units as its C channels and its patch tokens as an [N,C,h,w] map, so channel
// objectives, renders and Grad-CAM work on a ViT as on a CNN.
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>

namespace featvis::graph {

struct TokenGrid {
  int64_t class_tokens = 0;  // tokens before the grid (0 or 1)
  int64_t height = 0, width = 0;
};

// The grid of an [N,T,C] shape: T = g*g or 1 + g*g with g >= 2 (square patch grids, as
// torchvision's ViTs), and T != C; nullopt for anything else (a [N,C,L] sequence whose C
// happens to be such a number is read as tokens too: the rule is the shape).
std::optional<TokenGrid> token_grid(at::IntArrayRef sizes);

// [N,T,C] -> [N,C,h,w]: the patch tokens laid out on their grid (a view when possible,
// differentiable).
at::Tensor token_map(const at::Tensor& tokens, const TokenGrid& grid);

}  // namespace featvis::graph
