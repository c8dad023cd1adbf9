// Token tensors of vision transformers read as patch grids: see token_grid.h.
#include <featvis/graph/token_grid.h>

#include <cmath>

namespace featvis::graph {

std::optional<TokenGrid> token_grid(at::IntArrayRef sizes) {
  if (sizes.size() != 3 || sizes[1] == sizes[2]) return std::nullopt;
  for (int64_t class_tokens : {1, 0}) {
    const int64_t patches = sizes[1] - class_tokens;
    const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(patches, 0)))));
    if (g >= 2 && g * g == patches) return TokenGrid{class_tokens, g, g};
  }
  return std::nullopt;
}

at::Tensor token_map(const at::Tensor& tokens, const TokenGrid& grid) {
  return tokens.slice(1, grid.class_tokens)
      .transpose(1, 2)
      .reshape({tokens.size(0), tokens.size(2), grid.height, grid.width});
}

}  // namespace featvis::graph
