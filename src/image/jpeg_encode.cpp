#include <featvis/image/jpeg.h>
#include <featvis/util/check.h>

#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>

#include <csetjmp>
#include <cstdlib>
#include <memory>

namespace featvis::image {
namespace {

// libjpeg reports errors through a callback that must not return: jump back out.
struct ErrorJump {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr info) {
  auto* self = reinterpret_cast<ErrorJump*>(info->err);
  (*info->err->format_message)(info, self->message);
  std::longjmp(self->jump, 1);
}

}  // namespace

std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality) {
  FEATVIS_CHECK(width > 0 && height > 0, "cannot encode an empty ", width, "x", height, " JPEG");
  FEATVIS_CHECK(quality >= 1 && quality <= 100, "JPEG quality must be 1-100, not ", quality);
  jpeg_compress_struct info{};
  ErrorJump error{};
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = on_error;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  // Only plain data lives across the jump: nothing here needs a destructor.
  if (setjmp(error.jump)) {
    jpeg_destroy_compress(&info);
    std::free(buffer);
    throw Error(std::string("cannot encode a JPEG: ") + error.message);
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  info.optimize_coding = TRUE;
  jpeg_start_compress(&info, TRUE);
  const JDIMENSION stride = static_cast<JDIMENSION>(width) * 3;
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb + info.next_scanline * stride);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  std::string bytes(reinterpret_cast<const char*>(buffer), size);
  jpeg_destroy_compress(&info);
  std::free(buffer);
  return bytes;
}

}  // namespace featvis::image
