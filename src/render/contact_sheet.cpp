#include <featvis/render/contact_sheet.h>
#include <featvis/util/error.h>

#include <cmath>

namespace featvis::render {

at::Tensor contact_sheet(const at::Tensor& images, int64_t columns, int64_t gap) {
  if (images.dim() != 4 || images.size(0) < 1) throw Error("contact_sheet expects a non-empty [N,C,H,W] batch");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (columns <= 0) columns = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  columns = std::min(columns, n);
  const int64_t rows = (n + columns - 1) / columns;
  at::Tensor sheet = at::ones({c, rows * (h + gap) - gap, columns * (w + gap) - gap}, images.options());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = (i / columns) * (h + gap), left = (i % columns) * (w + gap);
    sheet.slice(1, top, top + h).slice(2, left, left + w).copy_(images[i]);
  }
  return sheet;
}

}  // namespace featvis::render
