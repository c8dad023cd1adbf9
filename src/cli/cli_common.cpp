#include "cli_common.h"

#include <featvis/util/threads.h>
#include <featvis/util/error.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace featvis::cli {

void add_run_options(CLI::App* command, RunOptions& options) {
  command->add_option("--threads", options.threads, "CPU threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--device", options.device, "cpu or cuda[:N]");
  command->add_flag("--json", options.json, "machine-readable JSON on stdout");
}

namespace {

// Applies the thread count and checks the device, before a model is loaded.
at::Device run_device(const RunOptions& options) {
  if (options.threads > 0) use_threads(options.threads);
  at::Device device(at::kCPU);
  try {
    device = at::Device(options.device);
  } catch (const std::exception&) {
    throw Error("--device '" + options.device + "' is not a device (use cpu or cuda[:N])");
  }
  if (device.is_cuda() && !at::hasCUDA()) {
    throw Error("--device " + options.device + ": this featvis was built with a CPU-only LibTorch");
  }
  return device;
}

}  // namespace

model::Model open_model(const std::string& ref, const RunOptions& options) {
  const at::Device device = run_device(options);
  model::Model model = model::load_model(ref);
  if (!device.is_cpu()) model.graph.to(device);
  return model;
}

model::Model open_checkpoint(const model::Series& series, size_t index, const RunOptions& options) {
  const at::Device device = run_device(options);
  model::Model model = model::load_checkpoint(series, index);
  if (!device.is_cpu()) model.graph.to(device);
  return model;
}

void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    out << text << '\n';
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (const auto& row : rows) line(row);
}

void make_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw Error("cannot create output directory '" + dir + "': " + (ec ? ec.message() : "not a directory"));
  }
}

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

}  // namespace featvis::cli
