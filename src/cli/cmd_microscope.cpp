// featvis microscope build|finalize|serve: a browsable, linkable site of every unit of a
// model through every lens (OpenAI Microscope for any ONNX model), built by one process or
// by shards (--shard K/N, or a SLURM array / Kubernetes Indexed Job / mpirun) that
// `finalize` joins, and a server for it.
#include "cli_common.h"
#include "commands.h"

#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/graph/layer_name.h>
#include <featvis/microscope/builder.h>
#include <featvis/microscope/server.h>
#include <featvis/model/series.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct BuildArgs {
  std::string model, images, examples, out = "featvis-microscope";
  std::vector<std::string> layers, photos, lenses;
  std::string units = "16";
  microscope::RenderSettings render;
  bool resume = false, dry_run = false, quiet = false, examples_only = false;
  std::string shard;          // "K/N", or "" (then the engine's variables, shard.h)
  int64_t shard_count = 0;    // N with a Kubernetes Indexed Job's JOB_COMPLETION_INDEX
  RunOptions run;
};

std::string seconds_text(double s) {
  char buf[64];
  if (s < 120) std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  return buf;
}

// {"index", "count", "source"}, or null for a whole build.
nlohmann::ordered_json shard_json(const microscope::Shard& shard) {
  if (!shard.sharded()) return nullptr;
  return {{"index", shard.index}, {"count", shard.count}, {"source", shard.source}};
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

// The model to build: a name or path (open_model), or a checkpoint series (a folder of
// .onnx files with their card, or a comma-separated list, as `featvis timeline` reads),
// whose last checkpoint is the model and whose run the training lens shows.
struct BuildModel {
  model::Model model;
  std::shared_ptr<const model::Series> series;
  std::string series_ref;  // canonical, for build.json (finalize opens it again)
};

bool is_series_ref(const std::string& ref) { return fs::is_directory(ref) || ref.find(',') != std::string::npos; }

BuildModel open_build_model(const std::string& ref, const RunOptions& run) {
  if (!is_series_ref(ref)) return {open_model(ref, run), nullptr, ""};
  auto series = std::make_shared<model::Series>(model::open_series(ref));
  model::check_series(*series);
  std::string canonical;
  if (fs::is_directory(ref)) {
    canonical = fs::weakly_canonical(ref).string();
  } else {
    for (const auto& cp : series->checkpoints) canonical += (canonical.empty() ? "" : ",") + fs::weakly_canonical(cp.onnx_path).string();
  }
  model::Model model = open_checkpoint(*series, series->checkpoints.size() - 1, run);
  return {std::move(model), series, canonical};
}

void run_build(BuildArgs& args) {
  if (!args.images.empty() && !args.examples.empty()) throw Error("give --images (scan here) or --examples, not both");
  if (args.examples_only && args.images.empty()) throw Error("--examples-only scans --images DIR; give it");
  const microscope::Shard shard =
      args.examples_only ? microscope::Shard{} : microscope::resolve_shard(args.shard, args.shard_count);
  const BuildModel opened = open_build_model(args.model, args.run);
  const model::Model& model = opened.model;
  args.layers = graph::resolve_layers(model.graph, args.layers);
  InterruptFlag interrupt;
  std::string examples = args.examples;
  if (!args.images.empty()) {
    // The scan is one step before the shards, never N racing copies of it.
    const std::string dir = (fs::path(args.out) / dataset_examples::layer_slug(model.card.name) / "examples").string();
    if (shard.sharded() && !args.dry_run && !fs::is_regular_file(fs::path(dir) / "index.json")) {
      throw Error("shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + " (from " + shard.source +
                  ") found no dataset examples in '" + dir + "': run the same command with --examples-only once first");
    }
    examples = scan_examples_into_site(model, args, interrupt);
    if (examples.empty()) return;  // a dry run before the scan, or the scan was interrupted
    if (args.examples_only) {
      if (args.run.json) std::cout << nlohmann::ordered_json{{"model", model.card.name}, {"examples", examples}}.dump(2) << '\n';
      else std::printf("dataset examples: %s (shards and finalize reuse them)\n", examples.c_str());
      return;
    }
  }
  microscope::BuildOptions options;
  options.site = args.out;
  options.layers = args.layers;
  options.units = args.units;
  options.render = args.render;
  options.examples = examples;
  options.photos = args.photos;
  options.series = opened.series;
  options.series_ref = opened.series_ref;
  options.lenses = args.lenses;
  options.shard = shard;
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
                                          {"shard", shard_json(shard)},
                                          {"layers", e.layers},
                                          {"units", e.units},
                                          {"build_layers", e.build_layers},
                                          {"build_units", e.build_units},
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
    if (shard.sharded()) {
      std::printf("dry run of shard %lld/%lld (from %s): its share is %lld of the build's %lld units, in %lld of %lld layers\n",
                  static_cast<long long>(shard.index), static_cast<long long>(shard.count), shard.source.c_str(),
                  static_cast<long long>(e.units), static_cast<long long>(e.build_units), static_cast<long long>(e.layers),
                  static_cast<long long>(e.build_layers));
    }
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
                                        {"interrupted", s.interrupted},
                                        {"shard", shard_json(shard)}}
                     .dump(2)
              << '\n';
  } else {
    std::printf("microscope: %lld units rendered (%lld already done), %lld layers, %.1f s, %.2f s per unit\n",
                static_cast<long long>(s.units_rendered), static_cast<long long>(s.units_skipped),
                static_cast<long long>(s.layers_rendered), s.seconds, s.seconds_per_unit);
    if (shard.sharded() && !s.interrupted) {
      std::printf("shard %lld/%lld (from %s) done; when every shard is, run `featvis microscope finalize %s`\n",
                  static_cast<long long>(shard.index), static_cast<long long>(shard.count), shard.source.c_str(), args.out.c_str());
    } else if (!s.interrupted) std::printf("site: %s/index.html (serve it with `featvis microscope serve %s`)\n", args.out.c_str(), args.out.c_str());
  }
  std::fflush(stdout);
  if (s.interrupted) throw Error("interrupted; finished units are kept, continue with --resume");
}

// Every model in SITE that has a build.json (or only `model_ref`'s): the settings it was
// built with, the model opened again (its card's description and layer shapes), then
// Builder::finalize. Missing units are listed on stdout, then one error line.
void run_finalize(const std::string& site, const std::string& model_ref, int64_t shards, const std::string& spectrum,
                  const RunOptions& run) {
  if (!fs::is_directory(site)) throw Error("site '" + site + "' is not a directory");
  std::vector<fs::path> builds;
  for (const auto& e : fs::directory_iterator(site))
    if (e.is_directory() && fs::is_regular_file(e.path() / "build.json")) builds.push_back(e.path() / "build.json");
  std::sort(builds.begin(), builds.end());
  if (builds.empty()) throw Error("site '" + site + "' holds no microscope build (no <model>/build.json)");
  nlohmann::ordered_json report = nlohmann::ordered_json::array();
  std::vector<std::string> missing;
  std::set<int64_t> rerun;
  for (const auto& path : builds) {
    microscope::BuildOptions options = microscope::recorded_build_options(path.string(), site, spectrum);
    const std::string name = microscope::recorded_model_name(path.string());
    if (!model_ref.empty() && builds.size() > 1 && model_ref != name && fs::path(model_ref).stem() != name) continue;
    // A series' build names it (the model is its last checkpoint).
    const BuildModel opened =
        open_build_model(options.series_ref.empty() ? (model_ref.empty() ? name : model_ref) : options.series_ref, run);
    const model::Model& model = opened.model;
    options.series = opened.series;
    options.series_ref = opened.series_ref;
    options.shard.count = shards > 0 ? shards : 1;  // only to name the shard of what is missing
    microscope::Builder builder(model, options);
    const microscope::FinalizeSummary s = builder.finalize();
    report.push_back({{"model", model.card.name}, {"manifest", s.manifest}, {"layers", s.layers}, {"units", s.units},
                      {"missing", s.missing}});
    if (!run.json) {
      std::printf("%s: %lld units in %lld layers laid out, %zu missing\n", model.card.name.c_str(),
                  static_cast<long long>(s.units), static_cast<long long>(s.layers), s.missing.size());
      for (const auto& m : s.missing) std::printf("missing: %s\n", m.c_str());
    }
    for (const auto& m : s.missing) missing.push_back(model.card.name + " " + m);
    rerun.insert(s.missing_shards.begin(), s.missing_shards.end());
  }
  if (report.empty()) throw Error("site '" + site + "' holds no build of model '" + model_ref + "'");
  if (run.json) std::cout << report.dump(2) << '\n';
  std::fflush(stdout);
  if (!missing.empty()) {
    std::string which;
    for (int64_t k : rerun) which += (which.empty() ? "" : ",") + std::to_string(k);
    throw Error(std::to_string(missing.size()) + " missing (first: " + missing.front() + "); rerun " +
                (which.empty() ? "the shards that own them" : "shards " + which + " of " + std::to_string(shards)) +
                " (a rerun resumes), then finalize again");
  }
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
      "atomically; after a crash or Ctrl-C, --resume continues without redoing finished units. Given a checkpoint\n"
      "series, also the training lens: each unit at every checkpoint, the overlap of its top examples over training\n"
      "and each layer's median settle step.");
  build->add_option("model", args->model,
                    "model name, .onnx path or .card.json path; or a checkpoint series (a folder of .onnx files with "
                    "their card, as `featvis timeline` reads): its last checkpoint, plus the training lens")
      ->required();
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
  build->add_option("--image-format", args->render.image_format,
                    "full-size pictures: webp (lossy, about 10x smaller) or png (lossless); thumbnails are JPEG");
  build->add_option("--param", args->render.param,
                    "the render lenses' parameterization: fft (Lucid's, default), pixel, cppn or maco (needs "
                    "`featvis spectrum`)")
      ->check(CLI::IsMember({"fft", "pixel", "cppn", "maco"}));
  build->add_option("--transforms", args->render.transforms,
                    "the render lenses' transforms (default: lucid's standard); a model with dense layers after a Flatten "
                    "needs its input size kept: none or jitter(1)");
  build->add_option("--spectrum", args->render.spectrum, "maco: the spectrum .npy (default: <model>.spectrum.npy)");
  build->add_option("--lenses", args->lenses,
                    "only these lenses, comma-separated (default: all that the inputs allow): channel, neuron, "
                    "diversity, examples, deepdream, attribution, accentuation")
      ->delimiter(',');
  build->add_option("--examples", args->examples, "a directory written by `featvis examples` (dataset-examples lens)");
  build->add_option("--images", args->images, "photo folder: scan it for dataset examples (into SITE/<model>/examples) and attribute the top ones");
  build->add_option("--photos", args->photos, "two photos for the caricatures (default: from the examples index)")
      ->delimiter(',');
  build->add_flag("--resume", args->resume, "continue an interrupted build with the same settings");
  build->add_option("--shard", args->shard,
                    "build share K of N (0-based) and no pages; default: from SLURM_ARRAY_TASK_ID/COUNT/MIN, "
                    "JOB_COMPLETION_INDEX with --shard-count, or OMPI_COMM_WORLD_RANK/SIZE; then `microscope finalize`");
  build->add_option("--shard-count", args->shard_count, "N for a Kubernetes Indexed Job (K is JOB_COMPLETION_INDEX) or a SLURM array (K is the array index itself)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  build->add_flag("--examples-only", args->examples_only,
                  "only the dataset-examples scan of --images (the step before sharded builds, which reuse it)");
  build->add_flag("--dry-run", args->dry_run,
                  "count units and estimate the time (a few timed steps); with a shard, that shard's share; writes nothing");
  build->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(build, args->run);
  build->callback([args] { run_build(*args); });

  auto fin_site = std::make_shared<std::string>();
  auto fin_model = std::make_shared<std::string>();
  auto fin_run = std::make_shared<RunOptions>();
  auto fin_shards = std::make_shared<int64_t>(0);
  auto fin_spectrum = std::make_shared<std::string>();
  CLI::App* finalize = cmd->add_subcommand(
      "finalize", "After the shards of a build: write the manifest and pages from the units present, list the missing\n"
                  "ones (exit 1 if any). The site equals a one-process build with the same settings.");
  finalize->add_option("site", *fin_site, "site directory")->required();
  finalize->add_option("--model", *fin_model, "model name or path, when it is not on the model search path");
  finalize->add_option("--shards", *fin_shards, "the build's shard count N: name the shard of each missing unit")
      ->check(CLI::Range(int64_t{2}, int64_t{1000000}));
  finalize->add_option("--spectrum", *fin_spectrum, "a --param maco build's --spectrum, when it was not the default");
  add_run_options(finalize, *fin_run);
  finalize->callback([fin_site, fin_model, fin_shards, fin_spectrum, fin_run] {
    run_finalize(*fin_site, *fin_model, *fin_shards, *fin_spectrum, *fin_run);
  });

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
