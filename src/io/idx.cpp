// IDX (http://yann.lecun.com/exdb/mnist/): magic 0x00 0x00 <type> <ndim>, ndim big-endian
// uint32 sizes, then the data. Read through zlib's gzread, which passes plain files through
// unchanged, so one code path serves both the .gz files Debian ships and unpacked ones.
#include <featvis/io/idx.h>
#include <featvis/util/check.h>

#include <zlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace featvis::io {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads up to n bytes; returns how many came (fewer at the end of the data).
size_t read_some(gzFile f, void* out, size_t n, const std::string& path) {
  size_t got = 0;
  auto* p = static_cast<unsigned char*>(out);
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, size_t{1} << 30));
    const int r = gzread(f, p + got, chunk);
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw Error("'" + path + "': corrupt IDX file (" + std::string(msg ? msg : "read error") + ")");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace

at::Tensor load_idx(const std::string& path) {
  FEATVIS_CHECK(std::filesystem::is_regular_file(path), "IDX file '", path, "' not found");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  FEATVIS_CHECK(f != nullptr, "cannot open IDX file '", path, "'");
  unsigned char magic[4];
  FEATVIS_CHECK(read_some(f.get(), magic, 4, path) == 4, "'", path, "': not an IDX file (shorter than its magic number)");
  FEATVIS_CHECK(magic[0] == 0 && magic[1] == 0 && magic[3] >= 1 && magic[3] <= 4, "'", path,
                "': not an IDX file (bad magic number)");
  FEATVIS_CHECK(magic[2] == 0x08, "'", path, "': IDX element type 0x", std::hex, int{magic[2]},
                " is not supported (need 0x08, unsigned bytes)");
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    FEATVIS_CHECK(read_some(f.get(), b, 4, path) == 4, "'", path, "': truncated IDX header");
    const int64_t size = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
    shape.push_back(size);
    // 2^34 bytes is far beyond any IDX data set; a larger product means a corrupt header.
    // Checked before multiplying, so that the product cannot overflow.
    constexpr int64_t kLimit = int64_t{1} << 34;
    FEATVIS_CHECK(size == 0 || count <= kLimit / size, "'", path, "': IDX dimensions too large (corrupt header?)");
    count *= size;
  }
  at::Tensor data = at::empty(shape, at::kByte);
  const size_t want = static_cast<size_t>(count);
  const size_t got = read_some(f.get(), data.data_ptr<uint8_t>(), want, path);
  FEATVIS_CHECK(got == want, "'", path, "': truncated IDX data (", got, " of ", want, " bytes)");
  unsigned char extra;
  FEATVIS_CHECK(read_some(f.get(), &extra, 1, path) == 0, "'", path, "': IDX file longer than its dimensions say");
  return data;
}

IdxDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  IdxDataset d;
  d.images = load_idx(images_path);
  FEATVIS_CHECK(d.images.dim() == 3, "'", images_path, "': IDX images must have 3 dimensions [N, H, W], not ",
                d.images.dim());
  const at::Tensor labels = load_idx(labels_path);
  FEATVIS_CHECK(labels.dim() == 1, "'", labels_path, "': IDX labels must have 1 dimension, not ", labels.dim());
  FEATVIS_CHECK(labels.size(0) == d.images.size(0), "'", labels_path, "' has ", labels.size(0), " labels but '",
                images_path, "' has ", d.images.size(0), " images");
  d.labels = labels.to(at::kLong);
  if (num_classes > 0 && d.labels.numel() > 0) {
    const int64_t top = d.labels.max().item<int64_t>();
    FEATVIS_CHECK(top < num_classes, "'", labels_path, "': label ", top, " is outside the ", num_classes, " classes");
  }
  return d;
}

}  // namespace featvis::io
