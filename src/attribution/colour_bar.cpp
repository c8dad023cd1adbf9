#include "colour_bar.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace featvis::attribution {
namespace {

// 3x5 glyphs, one row of 3 bits per entry, top row first.
std::array<uint8_t, 5> glyph(char c) {
  switch (c) {
    case '0': return {7, 5, 5, 5, 7};
    case '1': return {2, 6, 2, 2, 7};
    case '2': return {7, 1, 7, 4, 7};
    case '3': return {7, 1, 7, 1, 7};
    case '4': return {5, 5, 7, 1, 1};
    case '5': return {7, 4, 7, 1, 7};
    case '6': return {7, 4, 7, 5, 7};
    case '7': return {7, 1, 1, 1, 1};
    case '8': return {7, 5, 7, 5, 7};
    case '9': return {7, 5, 7, 1, 7};
    case '.': return {0, 0, 0, 0, 2};
    case '-': return {0, 0, 7, 0, 0};
    case '+': return {0, 2, 7, 2, 0};
    case 'e': return {3, 5, 7, 4, 3};
    default: return {0, 0, 0, 0, 0};
  }
}

}  // namespace

at::Tensor with_colour_bar(const at::Tensor& picture, const at::Tensor& colours, const std::vector<BarLabel>& labels) {
  const int64_t height = picture.size(1), width = picture.size(2);
  const int64_t scale = std::max<int64_t>(1, width / 112);  // glyph pixel size: 2 at 224 wide
  const int64_t pad = 2 * scale, bar = 6 * scale, text = 5 * scale, advance = 4 * scale;
  int64_t text_width = 0;
  for (const auto& l : labels) text_width += advance * static_cast<int64_t>(l.text.size()) + advance;
  const bool with_text = !labels.empty() && text_width <= width;
  const int64_t strip = pad + bar + pad + (with_text ? text + pad : 0);

  at::Tensor out = at::zeros({3, height + strip, width}, picture.options());
  out.narrow(1, 0, height).copy_(picture);
  const at::Tensor ramp = at::upsample_linear1d(colours.unsqueeze(0), {width}, /*align_corners=*/true)[0];
  out.narrow(1, height + pad, bar).copy_(ramp.unsqueeze(1).expand({3, bar, width}));
  if (!with_text) return out;

  const int64_t top = height + pad + bar + pad;
  auto pixels = out.accessor<float, 3>();
  for (const auto& l : labels) {
    const int64_t w = advance * static_cast<int64_t>(l.text.size()) - scale;
    // Centred on its position, kept inside the picture (the end labels sit at the edges).
    const int64_t left = std::clamp<int64_t>(static_cast<int64_t>(l.at * width) - w / 2, 0, width - w);
    for (size_t k = 0; k < l.text.size(); ++k) {
      const std::array<uint8_t, 5> rows = glyph(l.text[k]);
      for (int64_t r = 0; r < 5; ++r)
        for (int64_t c = 0; c < 3; ++c) {
          if (!(rows[r] >> (2 - c) & 1)) continue;
          for (int64_t dy = 0; dy < scale; ++dy)
            for (int64_t dx = 0; dx < scale; ++dx)
              for (int64_t ch = 0; ch < 3; ++ch)
                pixels[ch][top + r * scale + dy][left + static_cast<int64_t>(k) * advance + c * scale + dx] = 1.f;
        }
    }
  }
  return out;
}

}  // namespace featvis::attribution
