#include <featvis/render/labelled_strip.h>

#include <featvis/image/text.h>
#include <featvis/util/check.h>

#include <algorithm>
#include <sstream>

namespace featvis::render {

at::Tensor labelled_strip(const at::Tensor& images, const std::vector<std::string>& captions, int64_t tile) {
  FEATVIS_CHECK(images.dim() == 4 && images.size(1) == 3, "labelled_strip: need [N,3,H,W] images");
  FEATVIS_CHECK(static_cast<int64_t>(captions.size()) == images.size(0), "labelled_strip: ", captions.size(),
                " captions for ", images.size(0), " images");
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  const int64_t factor = std::max<int64_t>(1, tile / std::max(h, w));
  const int64_t th = h * factor, tw = w * factor;
  const int scale = tw >= 96 ? 2 : 1;
  int64_t lines = 1;
  for (const auto& c : captions) lines = std::max<int64_t>(lines, 1 + std::count(c.begin(), c.end(), '\n'));
  const int64_t gap = 6, caption_h = lines * image::text_height(scale) + 6;
  at::Tensor out = at::ones({3, th + caption_h + 2 * gap, n * (tw + gap) + gap}, at::kFloat);
  const at::Tensor big = at::upsample_nearest2d(images.detach().to(at::kCPU, at::kFloat).clamp(0, 1), {th, tw});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t x = gap + i * (tw + gap);
    out.slice(1, gap, gap + th).slice(2, x, x + tw).copy_(big[i]);
    std::istringstream lines_in(captions[static_cast<size_t>(i)]);
    int y = static_cast<int>(gap + th + 4);
    for (std::string line; std::getline(lines_in, line); y += image::text_height(scale)) {
      const int tx = static_cast<int>(x + std::max<int64_t>(0, (tw - image::text_width(line, scale)) / 2));
      image::draw_text(out, tx, y, line, {0.1f, 0.1f, 0.1f}, scale);
    }
  }
  return out;
}

}  // namespace featvis::render
