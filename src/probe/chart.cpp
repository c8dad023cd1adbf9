// Plain raster drawing: thick segments as runs of filled squares, text by image/text.h.
#include <featvis/probe/chart.h>

#include <featvis/image/text.h>
#include <featvis/util/check.h>

#include <array>
#include <cmath>
#include <cstdio>

namespace featvis::probe {
namespace {

using Rgb = std::array<float, 3>;

// Tableau's first colours: distinct, and readable by most colour-blind people.
const std::array<Rgb, 6> kColours = {{{0.12f, 0.47f, 0.71f},
                                      {1.00f, 0.50f, 0.05f},
                                      {0.17f, 0.63f, 0.17f},
                                      {0.84f, 0.15f, 0.16f},
                                      {0.58f, 0.40f, 0.74f},
                                      {0.55f, 0.34f, 0.29f}}};

void dot(at::Tensor& img, double x, double y, int radius, const Rgb& c) {
  const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
  image::fill_rect(img, cx - radius, cy - radius, cx + radius + 1, cy + radius + 1, c);
}

void segment(at::Tensor& img, double x0, double y0, double x1, double y1, int radius, const Rgb& c, int dash = 0) {
  const double length = std::hypot(x1 - x0, y1 - y0);
  const int steps = std::max(1, static_cast<int>(std::ceil(length)));
  for (int i = 0; i <= steps; ++i) {
    if (dash > 0 && (i / dash) % 2 == 1) continue;
    const double t = static_cast<double>(i) / steps;
    dot(img, x0 + t * (x1 - x0), y0 + t * (y1 - y0), radius, c);
  }
}

std::string tick_text(double v, bool percent) {
  char s[32];
  if (percent) std::snprintf(s, sizeof s, "%.0f%%", 100 * v);
  else std::snprintf(s, sizeof s, "%.2g", v);
  return s;
}

}  // namespace

at::Tensor line_chart(const std::vector<ChartLine>& lines, const ChartOptions& o) {
  FEATVIS_CHECK(o.width >= 200 && o.height >= 150 && o.x_max > o.x_min && o.y_max > o.y_min, "line_chart: bad frame");
  at::Tensor img = at::ones({3, o.height, o.width}, at::kFloat);
  const int scale = 2;  // font pixels -> 2x2 device pixels
  const int left = 90, right = 30, top = 76, bottom = 80;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  auto px = [&](double x) { return left + (x - o.x_min) / (o.x_max - o.x_min) * pw; };
  auto py = [&](double y) { return top + (1 - (y - o.y_min) / (o.y_max - o.y_min)) * ph; };
  const Rgb black{0.1f, 0.1f, 0.1f}, grid{0.88f, 0.88f, 0.88f}, grey{0.45f, 0.45f, 0.45f};

  for (int i = 0; i <= o.y_ticks; ++i) {  // horizontal grid and y ticks
    const double v = o.y_min + (o.y_max - o.y_min) * i / o.y_ticks;
    segment(img, left, py(v), left + pw, py(v), 0, grid);
    const std::string t = tick_text(v, o.y_percent);
    image::draw_text(img, left - 10 - image::text_width(t, scale), static_cast<int>(py(v)) - 7, t, black, scale);
  }
  for (int i = 0; i <= o.x_ticks; ++i) {  // vertical grid and x ticks
    const double v = o.x_min + (o.x_max - o.x_min) * i / o.x_ticks;
    segment(img, px(v), top, px(v), top + ph, 0, grid);
    const std::string t = tick_text(v, false);
    image::draw_text(img, static_cast<int>(px(v)) - image::text_width(t, scale) / 2, top + ph + 10, t, black, scale);
  }
  segment(img, left, top, left, top + ph, 0, black);  // axes
  segment(img, left, top + ph, left + pw, top + ph, 0, black);
  if (o.reference) {
    segment(img, left, py(*o.reference), left + pw, py(*o.reference), 0, grey, 6);
    image::draw_text(img, left + 8, static_cast<int>(py(*o.reference)) - 22, o.reference_label, grey, scale);
  }
  for (size_t l = 0; l < lines.size(); ++l) {
    const ChartLine& line = lines[l];
    const Rgb& c = kColours[l % kColours.size()];
    for (size_t i = 0; i + 1 < line.x.size(); ++i)
      segment(img, px(line.x[i]), py(line.y[i]), px(line.x[i + 1]), py(line.y[i + 1]), 1, c);
    for (size_t i = 0; i < line.x.size(); ++i) dot(img, px(line.x[i]), py(line.y[i]), 4, c);
  }
  // Legend, bottom right inside the plot, above the reference line (accuracy curves
  // seldom go down there), on a white box whatever they do.
  int legend_w = 0;
  for (const auto& line : lines) legend_w = std::max(legend_w, image::text_width(line.name, scale));
  const int row = image::text_height(scale) + 8;
  const int bottom_y = o.reference ? std::min(top + ph - 6, static_cast<int>(py(*o.reference)) - 8) : top + ph - 6;
  const int lx = left + pw - legend_w - 60, ly = bottom_y - static_cast<int>(lines.size()) * row - 10;
  image::fill_rect(img, lx - 8, ly - 8, left + pw - 4, bottom_y, {1.f, 1.f, 1.f});
  for (size_t l = 0; l < lines.size(); ++l) {
    const Rgb& c = kColours[l % kColours.size()];
    const int y = ly + static_cast<int>(l) * row;
    segment(img, lx, y + 8, lx + 30, y + 8, 1, c);
    dot(img, lx + 15, y + 8, 4, c);
    image::draw_text(img, lx + 40, y, lines[l].name, black, scale);
  }
  image::draw_text(img, left, 12, o.title, black, scale);
  image::draw_text(img, left + pw / 2 - image::text_width(o.x_label, scale) / 2, top + ph + 44, o.x_label, black, scale);
  image::draw_text(img, 8, top - 30, o.y_label, black, scale);
  return img;
}

}  // namespace featvis::probe
