// featvis examples MODEL --images DIR --out DIR: dataset examples of every unit of the
// chosen layers from one pass over a folder of photos (index.json + crop thumbnails).
#include "cli_common.h"
#include "commands.h"

#include <featvis/dataset_examples/crops.h>
#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/graph/layer_name.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/dataset_examples/scan.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct ExamplesArgs {
  std::string model, images, out;
  std::vector<std::string> layers{"all"};
  dataset_examples::ScanOptions scan;
  dataset_examples::CropOptions crops;
  bool no_crops = false;
  bool quiet = false;
  RunOptions run;
};

std::vector<std::string> layer_names(const std::vector<std::string>& asked, const model::Model& model) {
  if (asked.size() == 1 && asked[0] == "all") return dataset_examples::card_ranking_tensors(model);
  for (const auto& name : asked)
    if (name == "all") throw Error("--layers: 'all' cannot be combined with layer names");
  return graph::resolve_layers(model.graph, asked);
}

nlohmann::ordered_json crops_json(const dataset_examples::CropStats& s, const dataset_examples::CropOptions& o) {
  if (!o.write) return nullptr;
  return {{"size", o.size},      {"entries", s.crops}, {"files", s.files},   {"encoded", s.encoded}, {"photos", s.photos}, {"decoded", s.decoded}, {"bytes", s.bytes},
          {"seconds", s.seconds}, {"decode_seconds", s.decode_seconds}, {"resize_seconds", s.resize_seconds},
          {"encode_seconds", s.encode_seconds}, {"write_seconds", s.write_seconds}};
}

std::string field_text(const dataset_examples::ReceptiveField& f) {
  if (f.whole_input) return "whole input";
  return std::to_string(f.size[0]) + "x" + std::to_string(f.size[1]) + " /" + std::to_string(f.stride[0]);
}

void run_examples(ExamplesArgs& args) {
  const model::Model model = open_model(args.model, args.run);
  args.scan.layers = layer_names(args.layers, model);
  args.scan.progress = !args.quiet;
  args.crops.write = !args.no_crops;
  args.crops.progress = !args.quiet;
  InterruptFlag interrupt;
  args.scan.stop_requested = [&interrupt] { return interrupt.raised(); };

  const dataset_examples::ExamplesDirResult run = dataset_examples::build_examples_dir(model, args.images, args.out, args.scan, args.crops);
  const dataset_examples::ScanResult& scan = run.scan;
  const std::vector<std::string>& images = run.images;
  if (!scan.note.empty()) std::cerr << "featvis: note: " << scan.note << '\n';
  if (scan.resumed_from > 0)
    std::cerr << "featvis: resumed from " << run.checkpoint << " at photo " << scan.resumed_from << " of "
              << images.size() << '\n';
  for (const auto& s : scan.skipped) std::cerr << "featvis: warning: skipped " << s << '\n';
  if (scan.interrupted) {
    std::fprintf(stderr, "featvis: interrupted after %lld of %zu photos; run the same command to resume from %s\n",
                 static_cast<long long>(scan.images_done), images.size(), run.checkpoint.c_str());
    std::fflush(stderr);
    // Die of SIGINT as the user asked (status 130 in shells), now that the checkpoint is written.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    std::_Exit(130);
  }

  const std::string index_path = (fs::path(args.out) / "index.json").string();
  const double rate = scan.seconds > 0 ? scan.images_scanned / scan.seconds : 0.0;
  if (args.run.json) {
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const auto& l : scan.layers)
      layers.push_back({{"name", l.name},
                        {"shape", l.shape},
                        {"units", l.shape[1]},
                        {"receptive_field", {{"size", l.field.size}, {"stride", l.field.stride}, {"offset", l.field.offset()}}}});
    std::cout << nlohmann::ordered_json{{"model", model.card.name},
                                        {"images", images.size()},
                                        {"images_scanned", scan.images_scanned},
                                        {"resumed_from", scan.resumed_from},
                                        {"skipped", scan.skipped},
                                        {"top_k", args.scan.top_k},
                                        {"batch", args.scan.batch_size},
                                        {"threads", at::get_num_threads()},
                                        {"scan_seconds", scan.seconds},
                                        {"images_per_second", rate},
                                        {"index", index_path},
                                        {"crops", crops_json(run.crops, args.crops)},
                                        {"layers", layers}}
                     .dump(2)
              << '\n';
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : scan.layers)
    rows.push_back({l.name, format_shape(l.shape), std::to_string(l.shape[1]), field_text(l.field)});
  print_table(std::cout, {"layer", "shape", "units", "receptive field"}, rows);
  std::printf("%s: %zu photos (%lld scanned now, %.1f s, %.1f photos/s%s), top %lld per unit\nwrote %s",
              model.card.name.c_str(), images.size(), static_cast<long long>(scan.images_scanned), scan.seconds, rate,
              scan.skipped.empty() ? "" : (", " + std::to_string(scan.skipped.size()) + " unreadable skipped").c_str(),
              static_cast<long long>(args.scan.top_k), index_path.c_str());
  if (args.crops.write)
    std::printf(" and %lld crop files for %lld entries (%.1f s)\n", static_cast<long long>(run.crops.files),
                static_cast<long long>(run.crops.crops), run.crops.seconds);
  else
    std::printf(" (boxes only, no crops)\n");
}

}  // namespace

void add_examples_command(CLI::App& app) {
  auto args = std::make_shared<ExamplesArgs>();
  CLI::App* cmd = app.add_subcommand(
      "examples",
      "Dataset examples: for every unit of the chosen layers, the photos of a folder that excite it most\n"
      "(and least), from one batched pass; writes OUT/index.json and crop thumbnails (JPEG, cut from the\n"
      "photos as the scan decoded them, encoded on --threads threads; written before the index names them).\n"
      "Ctrl-C stops after the current batch and saves a checkpoint; the same command resumes from it.");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  cmd->add_option("--images", args->images, "folder of photos: JPEG, PNG, WebP, TIFF (searched recursively)")
      ->required();
  cmd->add_option("--layers,-l", args->layers, "comma-separated layer names, or 'all' (the card's layers, each by its visualization tensor)")
      ->delimiter(',');
  cmd->add_option("--top,-k", args->scan.top_k, "photos kept per unit and list")->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--out,-o", args->out, "output directory")->required();
  cmd->add_option("--batch", args->scan.batch_size, "photos per forward pass")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--checkpoint-every", args->scan.checkpoint_every, "save progress every N batches (a kill loses at most that much; Ctrl-C saves at once)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  auto* size = cmd->add_option("--crop-size,--thumbnail", args->crops.size,
                               "longest side of a crop thumbnail in pixels, 8-1024 (smaller boxes keep their size)");
  auto* quality = cmd->add_option("--crop-quality", args->crops.quality, "JPEG quality of the crops, 1-100");
  cmd->add_flag("--no-crops", args->no_crops,
                "write only the index (positions and input boxes of the top photos), no crop thumbnails")
      ->excludes(size)
      ->excludes(quality);
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_examples(*args); });
}

}  // namespace featvis::cli
