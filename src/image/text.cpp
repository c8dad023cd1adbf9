// stb_easy_font turns text into axis-aligned quads in font pixels; each becomes a filled
// rectangle, `scale` device pixels per font pixel.
#include <featvis/image/text.h>

#include <algorithm>
#include <vector>

#include <stb_easy_font.h>

namespace featvis::image {
namespace {

struct Vertex {
  float x, y, z;
  unsigned char colour[4];
};

// stb_easy_font's glyphs stand 7 font pixels tall (letters with descenders one or two more).
constexpr int kLineHeight = 10;

}  // namespace

int text_width(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_width(copy.data()) * scale;
}

int text_height(int scale) { return kLineHeight * scale; }

void fill_rect(at::Tensor& image, int x0, int y0, int x1, int y1, std::array<float, 3> rgb) {
  const int h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  x0 = std::clamp(x0, 0, w);
  x1 = std::clamp(x1, 0, w);
  y0 = std::clamp(y0, 0, h);
  y1 = std::clamp(y1, 0, h);
  if (x0 >= x1 || y0 >= y1) return;
  for (int c = 0; c < 3; ++c) image[c].slice(0, y0, y1).slice(1, x0, x1).fill_(rgb[static_cast<size_t>(c)]);
}

void draw_text(at::Tensor& image, int x, int y, const std::string& text, std::array<float, 3> rgb, int scale) {
  if (text.empty()) return;
  std::string copy = text;
  std::vector<Vertex> quads(copy.size() * 80 + 64);  // ~270 bytes a character, as the header says
  const int n = stb_easy_font_print(0, 0, copy.data(), nullptr, quads.data(), static_cast<int>(quads.size() * sizeof(Vertex)));
  for (int q = 0; q < n; ++q) {
    const Vertex& a = quads[static_cast<size_t>(4 * q)];
    const Vertex& c = quads[static_cast<size_t>(4 * q + 2)];
    fill_rect(image, x + static_cast<int>(a.x * scale), y + static_cast<int>(a.y * scale), x + static_cast<int>(c.x * scale),
              y + static_cast<int>(c.y * scale), rgb);
  }
}

}  // namespace featvis::image
