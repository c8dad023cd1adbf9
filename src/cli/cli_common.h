#pragma once
// Options and output helpers shared by the subcommands.
#include <featvis/model/model.h>
#include <featvis/model/series.h>

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>
#include <vector>

namespace featvis::cli {

struct RunOptions {
  int threads = 0;            // 0: all cores
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  bool json = false;
};

// --threads, --device and --json.
void add_run_options(CLI::App* command, RunOptions& options);

// Applies the thread count, loads the model and moves it to the device.
model::Model open_model(const std::string& ref, const RunOptions& options);
// The same for checkpoint `index` of a series.
model::Model open_checkpoint(const model::Series& series, size_t index, const RunOptions& options);

// A plain left-aligned text table; numbers are right-aligned by the caller's formatting.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// Creates a directory and its parents; featvis::Error naming it if that fails.
void make_output_dir(const std::string& dir);

std::string format_shape(const std::vector<int64_t>& shape);

}  // namespace featvis::cli
