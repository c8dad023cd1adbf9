#include "support/photo_files.h"

#include <tiffio.h>
#include <webp/encode.h>

#include <cstdio>
#include <stdexcept>

namespace featvis::testing {

std::string encode_webp_lossless(const at::Tensor& hwc8) {
  const at::Tensor rgb = hwc8.contiguous();
  const int h = static_cast<int>(rgb.size(0)), w = static_cast<int>(rgb.size(1));
  uint8_t* out = nullptr;
  const size_t size = WebPEncodeLosslessRGB(rgb.data_ptr<uint8_t>(), w, h, w * 3, &out);
  if (size == 0) throw std::runtime_error("WebPEncodeLosslessRGB failed");
  std::string bytes(reinterpret_cast<const char*>(out), size);
  WebPFree(out);
  return bytes;
}

std::string encode_tiff(const at::Tensor& hwc8, bool lzw) {
  const at::Tensor rgb = hwc8.contiguous();
  const uint32_t h = static_cast<uint32_t>(rgb.size(0)), w = static_cast<uint32_t>(rgb.size(1));
  // libtiff writes to a file; a temporary one keeps this simple.
  char name[] = "/tmp/featvis-tiff-XXXXXX";
  const int fd = mkstemp(name);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  TIFF* tif = TIFFFdOpen(fd, name, "w");
  if (!tif) throw std::runtime_error("TIFFFdOpen failed");
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, lzw ? COMPRESSION_LZW : COMPRESSION_NONE);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
  for (uint32_t y = 0; y < h; ++y) {
    if (TIFFWriteScanline(tif, rgb[y].data_ptr<uint8_t>(), y, 0) < 0) throw std::runtime_error("TIFFWriteScanline failed");
  }
  TIFFClose(tif);  // also closes fd
  FILE* f = std::fopen(name, "rb");
  std::string bytes;
  char buf[65536];
  for (size_t n; f && (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
  if (f) std::fclose(f);
  std::remove(name);
  return bytes;
}

std::string with_exif_orientation(const std::string& jpeg, int orientation, bool big_endian) {
  auto u16 = [&](uint32_t v) {
    const char hi = static_cast<char>(v >> 8), lo = static_cast<char>(v & 0xFF);
    return big_endian ? std::string{hi, lo} : std::string{lo, hi};
  };
  auto u32 = [&](uint32_t v) { return big_endian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16); };
  // TIFF header, IFD0 at offset 8 with one entry: Orientation (0x0112), SHORT, count 1.
  std::string tiff = big_endian ? std::string("MM\0*", 4) : std::string("II*\0", 4);
  tiff += u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + u16(static_cast<uint32_t>(orientation)) + u16(0) + u32(0);
  const std::string body = std::string("Exif\0\0", 6) + tiff;
  const size_t length = body.size() + 2;
  const std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(length >> 8) + static_cast<char>(length & 0xFF) + body;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

}  // namespace featvis::testing
