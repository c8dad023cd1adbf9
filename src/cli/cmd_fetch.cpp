// featvis fetch NAME: download a known model from its card's URL and verify its SHA-256.
#include "commands.h"

#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

model::ModelCard find_card(const std::string& ref) {
  const bool is_path = ref.size() > 5 && ref.compare(ref.size() - 5, 5, ".json") == 0;
  if (is_path) return model::ModelCard::from_file(ref);
  std::string names;
  for (auto& card : model::known_cards()) {
    if (card.name == ref) return card;
    if (!card.url.empty()) names += (names.empty() ? "" : ", ") + card.name;
  }
  throw Error("unknown model '" + ref + "' (downloadable: " + (names.empty() ? "none" : names) +
              "; `featvis models` lists all)");
}

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

// One line redrawn in place on a terminal; on a log file a plain line every
// progress_log_interval() and one when the download is complete.
class DownloadProgress {
 public:
  explicit DownloadProgress(std::string label)
      : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), log_interval_(progress_log_interval()) {}

  void operator()(uint64_t received, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    const bool complete = total && received == total;
    if (drawn_ && !complete && now - last_ < (tty_ ? std::chrono::duration<double>(0.1) : log_interval_)) return;
    last_ = now;
    drawn_ = true;
    std::string line = label_ + ": " + megabytes(received);
    if (total) line += " of " + megabytes(total) + " (" + std::to_string(100 * received / total) + "%)";
    std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(stderr);
  }
  void end() {
    if (drawn_ && tty_) std::fprintf(stderr, "\n");
  }

 private:
  std::string label_;
  bool tty_;
  std::chrono::duration<double> log_interval_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void add_fetch_command(CLI::App& app) {
  struct Args {
    std::string name;
    model::FetchOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download a known model from its official URL and verify its SHA-256");
  cmd->footer(
      "The file is saved to --dir (default ~/.cache/featvis/models, which is on the model search path)\n"
      "only if its SHA-256 matches the card. Models whose card has no URL (the locally converted\n"
      "ones in ../shared/models) cannot be fetched; --url with a copy of the file still verifies it.\n");
  cmd->add_option("name", args->name, "model card name (see `featvis models`) or a .card.json path")->required();
  cmd->add_option("--dir", args->options.dir, "destination directory (default ~/.cache/featvis/models)");
  cmd->add_option("--url", args->options.url, "download from this URL instead of the card's (e.g. a mirror)");
  cmd->add_flag("--force", args->options.force, "download even if a verified copy is already there");
  cmd->add_option("--timeout", args->options.timeout_s, "connect/read timeout in seconds")
      ->check(CLI::PositiveNumber);
  cmd->callback([args] {
    const model::ModelCard card = find_card(args->name);
    auto progress = std::make_shared<DownloadProgress>("fetching " + card.file);
    model::FetchOptions options = args->options;
    options.progress = [progress](uint64_t received, uint64_t total) { (*progress)(received, total); };
    model::FetchResult result;
    try {
      result = model::fetch_model(card, options);
    } catch (...) {
      progress->end();
      throw;
    }
    progress->end();
    if (result.downloaded) {
      std::cout << "saved " << card.name << " to " << result.path << " (" << megabytes(result.bytes)
                << ", sha256 " << result.sha256 << " verified)\n";
    } else {
      std::cout << card.name << " is already at " << result.path << " (sha256 " << result.sha256
                << " verified; --force downloads it again)\n";
    }
  });
}

}  // namespace featvis::cli
