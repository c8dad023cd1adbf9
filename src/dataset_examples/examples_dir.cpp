#include <featvis/dataset_examples/crops.h>
#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/util/error.h>

#include <filesystem>

namespace featvis::dataset_examples {

namespace fs = std::filesystem;

ExamplesDirResult build_examples_dir(const model::Model& model, const std::string& images_root, const std::string& dir,
                                     ScanOptions options, int thumbnail) {
  ExamplesDirResult result;
  result.images = list_images(images_root);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("cannot create output directory '" + dir + "': " + (ec ? ec.message() : "not a directory"));
  result.checkpoint = (fs::path(dir) / "checkpoint.cbor").string();
  options.checkpoint_path = result.checkpoint;
  result.scan = scan_examples(model, images_root, result.images, options);
  if (result.scan.interrupted) return result;
  result.index = make_examples_index(model, images_root, result.images, result.scan);
  write_crops(dir, result.index, model.card.preprocessing, thumbnail);
  write_examples_index(dir, result.index);
  fs::remove(result.checkpoint, ec);  // the index now holds everything; a rerun starts afresh
  return result;
}

}  // namespace featvis::dataset_examples
