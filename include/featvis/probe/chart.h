#pragma once
// A line chart as a picture: probe accuracy against depth, one line per model, with axes,
// tick labels, a legend and an optional dashed reference line (chance).
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace featvis::probe {

struct ChartLine {
  std::string name;  // legend entry
  std::vector<double> x, y;
};

struct ChartOptions {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  int x_ticks = 5, y_ticks = 10;  // intervals
  bool y_percent = true;          // tick labels as percentages of 1
  std::optional<double> reference;  // a dashed horizontal line
  std::string reference_label;
  int width = 960, height = 560;
};

// [3, height, width] float in [0, 1]; save with image::save_png.
at::Tensor line_chart(const std::vector<ChartLine>& lines, const ChartOptions& options);

}  // namespace featvis::probe
