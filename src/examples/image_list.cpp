#include <featvis/examples/image_list.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace featvis {

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
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") out.push_back(fs::relative(it->path(), root).generic_string());
  }
  if (out.empty()) throw Error("image folder '" + root + "' holds no .jpg, .jpeg or .png files");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace featvis
