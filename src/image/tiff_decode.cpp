// Baseline TIFF photos through libtiff, read from memory: TIFFReadRGBAImage handles
// every baseline layout (strips or tiles, 1-16 bits, palette, grey, RGB, compression).
#include "decoders.h"

#include <featvis/util/error.h>

#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace featvis::image::detail {
namespace {

// libtiff's client I/O on a byte string.
struct Memory {
  const std::string& bytes;
  toff_t pos = 0;
};

tsize_t read_proc(thandle_t h, tdata_t buf, tsize_t size) {
  auto* m = static_cast<Memory*>(h);
  const toff_t n = std::min<toff_t>(static_cast<toff_t>(size), m->bytes.size() - std::min<toff_t>(m->pos, m->bytes.size()));
  if (n) std::memcpy(buf, m->bytes.data() + m->pos, n);
  m->pos += n;
  return static_cast<tsize_t>(n);
}
tsize_t write_proc(thandle_t, tdata_t, tsize_t) { return 0; }
toff_t seek_proc(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<Memory*>(h);
  const toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->bytes.size() : 0;
  m->pos = base + off;
  return m->pos;
}
int close_proc(thandle_t) { return 0; }
toff_t size_proc(thandle_t h) { return static_cast<Memory*>(h)->bytes.size(); }
int map_proc(thandle_t, tdata_t*, toff_t*) { return 0; }
void unmap_proc(thandle_t, tdata_t, toff_t) {}

}  // namespace

bool is_tiff(const std::string& bytes) {
  return bytes.size() >= 4 && (bytes.compare(0, 4, std::string("II*\0", 4)) == 0 ||
                               bytes.compare(0, 4, std::string("MM\0*", 4)) == 0);
}

at::Tensor decode_tiff(const std::string& bytes, const std::string& path) {
  // libtiff reports through global handlers that print to stderr; the error below says it.
  TIFFSetErrorHandler(nullptr);
  TIFFSetWarningHandler(nullptr);
  Memory memory{bytes};
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(
      TIFFClientOpen(path.c_str(), "rm", &memory, read_proc, write_proc, seek_proc, close_proc, size_proc, map_proc,
                     unmap_proc),
      TIFFClose);
  if (!tif) throw Error("cannot read image '" + path + "': corrupt TIFF header");
  uint32_t width = 0, height = 0;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  if (width == 0 || height == 0 || static_cast<uint64_t>(width) * height > (1ull << 28)) {
    throw Error("cannot read image '" + path + "': TIFF size " + std::to_string(width) + "x" + std::to_string(height) +
                " is empty or too large");
  }
  at::Tensor rgba = at::empty({static_cast<int64_t>(height), static_cast<int64_t>(width), 4}, at::kByte);
  if (!TIFFReadRGBAImageOriented(tif.get(), width, height, reinterpret_cast<uint32_t*>(rgba.data_ptr<uint8_t>()),
                                 ORIENTATION_TOPLEFT, 0)) {
    throw Error("cannot read image '" + path + "': corrupt or unsupported TIFF data");
  }
  // TIFFReadRGBAImage packs ABGR into a native uint32, i.e. R,G,B,A bytes on little-endian.
  return rgba.slice(2, 0, 3).contiguous();
}

}  // namespace featvis::image::detail
