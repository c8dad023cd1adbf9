// featvis spectrum MODEL --images DIR: the average Fourier magnitude of natural photos, as
// the model's card crops them, which MACO (`featvis render --param maco`) fixes while it
// optimizes the phase. Stored as <card name>.spectrum.npy where the model search path
// finds it (by default the download folder, ~/.cache/featvis/models).
#include "cli_common.h"
#include "commands.h"

#include <featvis/dataset_examples/image_list.h>
#include <featvis/image/image.h>
#include <featvis/io/npy.h>
#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/render/param/maco.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace featvis::cli {
namespace {

namespace fs = std::filesystem;

struct SpectrumArgs {
  std::string model, images, out;
  int64_t limit = 0;
  bool quiet = false;
  RunOptions run;
};

void run_spectrum(const SpectrumArgs& args) {
  // Only the card's crop and size matter: the weights are never loaded.
  const model::ModelCard card = model::locate_model(args.model).card;
  if (!fs::is_directory(args.images)) throw Error("--images '" + args.images + "' is not a folder");
  std::vector<std::string> photos = dataset_examples::list_images(args.images);
  if (args.limit > 0 && static_cast<int64_t>(photos.size()) > args.limit) photos.resize(static_cast<size_t>(args.limit));
  if (photos.empty()) throw Error("--images '" + args.images + "' holds no photos (JPEG, PNG, WebP, TIFF)");
  std::string out = args.out;
  if (out.empty()) {
    const std::string dir = model::default_download_dir();
    if (dir.empty()) throw Error("no home folder for the default --out; give --out FILE");
    out = (fs::path(dir) / (card.name + ".spectrum.npy")).string();
  }
  if (fs::path(out).has_parent_path()) fs::create_directories(fs::path(out).parent_path());

  constexpr size_t kBatch = 32;
  ProgressBar bar(static_cast<int64_t>(photos.size()), "spectrum", !args.quiet);
  at::Tensor sum;
  for (size_t begin = 0; begin < photos.size(); begin += kBatch) {
    std::vector<at::Tensor> batch;
    for (size_t i = begin; i < std::min(photos.size(), begin + kBatch); ++i) {
      batch.push_back(image::load_image01((fs::path(args.images) / photos[i]).string(), card.preprocessing));
    }
    const at::Tensor part = render::param::spectrum_sum(at::stack(batch));
    sum = sum.defined() ? sum + part : part;
    bar.update(static_cast<int64_t>(std::min(photos.size(), begin + kBatch)));
  }
  bar.finish();
  const at::Tensor spectrum = sum / static_cast<double>(photos.size());
  io::save_npy(out, spectrum);

  const nlohmann::ordered_json record{{"model", card.name},
                                      {"photos", photos.size()},
                                      {"shape", spectrum.sizes().vec()},
                                      {"file", out}};
  if (args.run.json) {
    std::cout << record.dump(2) << '\n';
  } else {
    std::printf("%s: the average spectrum of %zu photos at %lldx%lld, [3,%lld,%lld], in %s\n", card.name.c_str(),
                photos.size(), static_cast<long long>(card.preprocessing.height),
                static_cast<long long>(card.preprocessing.width), static_cast<long long>(spectrum.size(1)),
                static_cast<long long>(spectrum.size(2)), out.c_str());
  }
}

}  // namespace

void add_spectrum_command(CLI::App& app) {
  auto args = std::make_shared<SpectrumArgs>();
  CLI::App* cmd = app.add_subcommand(
      "spectrum",
      "The average Fourier magnitude of a folder of photos, as the model's card crops them: the fixed\n"
      "magnitude of MACO (`featvis render --param maco`), written as <model>.spectrum.npy on the search path.");
  cmd->add_option("model", args->model, "model name, .onnx path or .card.json path (its crop and size)")->required();
  cmd->add_option("--images", args->images, "folder of natural photos (searched recursively)")->required();
  cmd->add_option("--out,-o", args->out, "the .npy to write (default: ~/.cache/featvis/models/<model>.spectrum.npy)");
  cmd->add_option("--limit", args->limit, "use at most this many photos (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "no progress bar");
  add_run_options(cmd, args->run);
  cmd->callback([args] { run_spectrum(*args); });
}

}  // namespace featvis::cli
