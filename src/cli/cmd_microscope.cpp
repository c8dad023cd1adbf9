// featvis microscope build|serve: a browsable, linkable site of every unit of a model
// through every lens (OpenAI Microscope for any ONNX model), and a server for it.
#include "cli_common.h"
#include "commands.h"

#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/graph/layer_name.h>
#include <featvis/microscope/builder.h>
#include <featvis/microscope/server.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct BuildArgs {
  std::string model, images, examples, out = "featvis-microscope";
  std::vector<std::string> layers, photos;
  std::string units = "16";
  microscope::RenderSettings render;
  bool resume = false, dry_run = false, quiet = false;
  RunOptions run;
};

std::string seconds_text(double s) {
  char buf[64];
  if (s < 120) std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  return buf;
}

// --images: the dataset-examples scan of the layers to build, into SITE/<model>/examples
// (resumable through its checkpoint; reused once complete). Returns that directory, or ""
// when nothing more should happen now (a dry run, or Ctrl-C during the scan).
std::string scan_examples_into_site(const model::Model& model, const BuildArgs& args, InterruptFlag& interrupt) {
  const std::string dir = (fs::path(args.out) / dataset_examples::layer_slug(model.card.name) / "examples").string();
  if (fs::is_regular_file(fs::path(dir) / "index.json")) return dir;
  if (args.dry_run) {
    std::cout << "the dataset-examples scan of " << dataset_examples::list_images(args.images).size() << " photos in " << args.images
              << " runs first (about as long as `featvis eval` on them); estimate the rest after it\n";
    return "";
  }
  dataset_examples::ScanOptions scan;
  if (args.layers.empty()) {
    scan.layers = dataset_examples::card_ranking_tensors(model);
  } else {  // what the examples lens looks up (LayerPlan::tensor)
    for (const auto& layer : args.layers) scan.layers.push_back(model.card.visualization_tensor(layer));
  }
  scan.progress = !args.quiet && !args.run.json;
  scan.stop_requested = [&interrupt] { return interrupt.raised(); };
  const dataset_examples::ExamplesDirResult run = dataset_examples::build_examples_dir(model, args.images, dir, scan);
  for (const auto& s : run.scan.skipped) std::cerr << "featvis: warning: skipped " << s << '\n';
  if (run.scan.interrupted) {
    std::cerr << "featvis: interrupted during the examples scan after " << run.scan.images_done << " of "
              << run.images.size() << " photos; run with --resume to continue\n";
    return "";
  }
  return dir;
}

void run_build(BuildArgs& args) {
  if (!args.images.empty() && !args.examples.empty()) throw Error("give --images (scan here) or --examples, not both");
  const model::Model model = open_model(args.model, args.run);
  args.layers = graph::resolve_layers(model.graph, args.layers);
  InterruptFlag interrupt;
  std::string examples = args.examples;
  if (!args.images.empty()) {
    examples = scan_examples_into_site(model, args, interrupt);
    if (examples.empty()) return;  // a dry run before the scan, or the scan was interrupted
  }
  microscope::BuildOptions options;
  options.site = args.out;
  options.layers = args.layers;
  options.units = args.units;
  options.render = args.render;
  options.examples = examples;
  options.photos = args.photos;
  // A dry run only reads an existing build (to count what is left), so it may look at one.
  options.resume = args.resume || args.dry_run;
  options.progress = !args.quiet && !args.run.json;
  // Ctrl-C is polled between unit groups; finished units stay done.
  options.stop_requested = [&interrupt] { return interrupt.raised(); };
  microscope::Builder builder(model, options);

  if (args.dry_run) {
    const microscope::Estimate e = builder.estimate();
    if (args.run.json) {
      std::cout << nlohmann::ordered_json{{"model", model.card.name},
                                          {"site", builder.model_dir()},
                                          {"layers", e.layers},
                                          {"units", e.units},
                                          {"units_left", e.units_left},
                                          {"layers_left", e.layers_left},
                                          {"lenses", builder.lens_names()},
                                          {"image_steps", e.image_steps},
                                          {"ms_per_image_step", e.ms_per_image_step},
                                          {"estimated_seconds", e.seconds},
                                          {"threads", at::get_num_threads()},
                                          {"notes", builder.notes()}}
                       .dump(2)
                << '\n';
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : builder.layers()) {
      rows.push_back({l.name, format_shape(l.shape), std::to_string(l.units.size()) + "/" + std::to_string(l.channels)});
    }
    print_table(std::cout, {"layer", "shape", "units"}, rows);
    std::printf("dry run: %lld units in %lld layers (%lld units and %lld layers left), lenses: ",
                static_cast<long long>(e.units), static_cast<long long>(e.layers), static_cast<long long>(e.units_left),
                static_cast<long long>(e.layers_left));
    for (const auto& n : builder.lens_names()) std::printf("%s ", n.c_str());
    std::printf("\nestimate: %.3g image-steps x %.2f ms = about %s (%.1f s per unit) on %d threads\n", e.image_steps,
                e.ms_per_image_step, seconds_text(e.seconds).c_str(),
                e.units_left > 0 ? e.seconds / static_cast<double>(e.units_left) : 0.0, at::get_num_threads());
    for (const auto& n : builder.notes()) std::printf("note: %s\n", n.c_str());
    return;
  }

  for (const auto& n : builder.notes()) std::fprintf(stderr, "featvis: note: %s\n", n.c_str());
  const microscope::BuildSummary s = builder.build();
  if (args.run.json) {
    std::cout << nlohmann::ordered_json{{"model", model.card.name},
                                        {"site", args.out},
                                        {"manifest", s.manifest},
                                        {"units_rendered", s.units_rendered},
                                        {"units_skipped", s.units_skipped},
                                        {"layers_rendered", s.layers_rendered},
                                        {"seconds", s.seconds},
                                        {"seconds_per_unit", s.seconds_per_unit},
                                        {"interrupted", s.interrupted}}
                     .dump(2)
              << '\n';
  } else {
    std::printf("microscope: %lld units rendered (%lld already done), %lld layers, %.1f s, %.2f s per unit\n",
                static_cast<long long>(s.units_rendered), static_cast<long long>(s.units_skipped),
                static_cast<long long>(s.layers_rendered), s.seconds, s.seconds_per_unit);
    if (!s.interrupted) std::printf("site: %s/index.html (serve it with `featvis microscope serve %s`)\n", args.out.c_str(), args.out.c_str());
  }
  std::fflush(stdout);
  if (s.interrupted) throw Error("interrupted; finished units are kept, continue with --resume");
}

void run_serve(const std::string& site, const std::string& host, int port) {
  microscope::SiteServer server(site, host, port);
  std::printf("serving %s at http://%s:%d/ (Ctrl-C stops)\n", site.c_str(), host.c_str(), server.port());
  std::fflush(stdout);
  server.run();
}

}  // namespace

void add_microscope_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("microscope", "A browsable site of every unit through every lens (like OpenAI Microscope)");
  cmd->require_subcommand(1);

  auto args = std::make_shared<BuildArgs>();
  CLI::App* build = cmd->add_subcommand(
      "build",
      "Render channel, neuron, diversity and DeepDream lenses (plus dataset examples from --examples) for each\n"
      "layer and unit into a static site with permalinks SITE/<model>/<layer>/<unit>/. Every file is written\n"
      "atomically; after a crash or Ctrl-C, --resume continues without redoing finished units.");
  build->add_option("model", args->model, "model name, .onnx path or .card.json path")->required();
  build->add_option("--out,-o", args->out, "site directory");
  build->add_option("--layers", args->layers, "layers to include (default: the card's layers)")->delimiter(',');
  build->add_option("--units", args->units, "units per layer: N (the first N) or all");
  build->add_option("--steps", args->render.steps, "optimization steps per image")->check(CLI::Range(int64_t{1}, int64_t{100000}));
  build->add_option("--size", args->render.size, "image side (default: the model's input size)")
      ->check(CLI::Range(int64_t{8}, int64_t{2048}));
  build->add_option("--batch", args->render.batch, "units per channel/neuron optimization")
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  build->add_option("--diversity", args->render.diversity, "images per unit in the diversity set: 2-4, 0 = none")
      ->check(CLI::Range(int64_t{0}, int64_t{4}));
  build->add_option("--diversity-weight", args->render.diversity_weight, "weight of the diversity term")
      ->check(CLI::Range(0.0, 1e6));
  build->add_option("--thumb", args->render.thumb, "longest side of JPEG thumbnails")->check(CLI::Range(int64_t{4}, int64_t{1024}));
  build->add_option("--seed", args->render.seed, "random seed");
  build->add_option("--param", args->render.param,
                    "the render lenses' parameterization: fft (Lucid's, default), pixel, cppn or maco (needs "
                    "`featvis spectrum`)")
      ->check(CLI::IsMember({"fft", "pixel", "cppn", "maco"}));
  build->add_option("--spectrum", args->render.spectrum, "maco: the spectrum .npy (default: <model>.spectrum.npy)");
  build->add_option("--examples", args->examples, "a directory written by `featvis examples` (dataset-examples lens)");
  build->add_option("--images", args->images, "photo folder: scan it for dataset examples (into SITE/<model>/examples) and attribute the top ones");
  build->add_option("--photos", args->photos, "two photos for the caricatures (default: from the examples index)")
      ->delimiter(',');
  build->add_flag("--resume", args->resume, "continue an interrupted build with the same settings");
  build->add_flag("--dry-run", args->dry_run, "count units and estimate the time (a few timed steps); writes nothing");
  build->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(build, args->run);
  build->callback([args] { run_build(*args); });

  auto site = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>("127.0.0.1");
  auto port = std::make_shared<int>(8000);
  CLI::App* serve = cmd->add_subcommand("serve", "Serve a built site and its JSON API (/api/site, /api/manifest/<model>, "
                                                 "/api/unit/<model>/<layer>/<unit>)");
  serve->add_option("site", *site, "site directory")->required();
  serve->add_option("--port,-p", *port, "port (0: any free port)")->check(CLI::Range(0, 65535));
  serve->add_option("--host", *host, "address to listen on");
  serve->callback([site, host, port] { run_serve(*site, *host, *port); });
}

}  // namespace featvis::cli
