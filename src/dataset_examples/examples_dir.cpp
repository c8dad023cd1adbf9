#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>
#include <future>

namespace featvis::dataset_examples {

namespace fs = std::filesystem;

ExamplesDirResult build_examples_dir(const model::Model& model, const std::string& images_root, const std::string& dir,
                                     ScanOptions options, const CropOptions& crops) {
  check_crop_options(crops);  // before the scan, not after it
  ExamplesDirResult result;
  result.images = list_images(images_root);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("cannot create output directory '" + dir + "': " + (ec ? ec.message() : "not a directory"));
  result.checkpoint = (fs::path(dir) / "checkpoint.cbor").string();
  options.checkpoint_path = result.checkpoint;
  if (crops.write) options.keep_views_bytes = crops.keep_views_bytes;
  result.scan = scan_examples(model, images_root, result.images, options);
  if (result.scan.interrupted) return result;
  result.index = make_examples_index(model, images_root, result.images, result.scan, crops.write);
  // An index of an earlier run would name crops about to be overwritten in place.
  fs::remove(fs::path(dir) / "index.json", ec);
  if (ec) throw Error("cannot remove the old index in '" + dir + "': " + ec.message());
  // The index's text is built on a thread of its own beside the crop stage (it took 20 ms
  // on one core after it), and written only after every crop it names.
  std::future<std::string> text = std::async(std::launch::async, [&] { return examples_index_json(result.index); });
  result.crops = write_crops(dir, result.index, model.card.preprocessing, crops, result.scan.views);
  result.scan.views.clear();  // the memory is the crops' only
  write_file_atomically((fs::path(dir) / "index.json").string(), text.get());
  fs::remove(result.checkpoint, ec);  // the index now holds everything; a rerun starts afresh
  return result;
}

}  // namespace featvis::dataset_examples
