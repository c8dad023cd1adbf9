#include <featvis/dataset_examples/image_list.h>
#include <featvis/image/image.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <filesystem>

namespace featvis::dataset_examples {

std::vector<std::string> list_images(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error("image folder '" + root + "' does not exist or is not a folder");
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) throw Error("cannot list image folder '" + root + "': " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error("cannot list image folder '" + root + "': " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    // Lexically: a symlinked photo keeps its name in the folder (fs::relative would follow
    // the link and name the target, "../../shared/images/x.jpg", in pages and the index).
    if (image::is_photo_file_name(it->path().string())) out.push_back(it->path().lexically_relative(root).generic_string());
  }
  if (out.empty()) throw Error("image folder '" + root + "' holds no .jpg, .jpeg, .png, .webp, .tif or .tiff files");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace featvis::dataset_examples
