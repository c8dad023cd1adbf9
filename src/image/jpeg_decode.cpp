// JPEG photos through libjpeg-turbo, with the settings PIL decodes with (accurate integer
// IDCT, fancy upsampling): the published accuracies of the real models were measured on
// PIL's pixels, and libjpeg-turbo's SIMD decoder takes about half of stb_image's time.
#include "decoders.h"

#include <featvis/util/error.h>

#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF

#include <csetjmp>
#include <memory>

namespace featvis::image::detail {
namespace {

// libjpeg reports errors through a callback that must not return: jump back out.
// A file cut short is a warning to libjpeg (it pads with grey); here it is an error,
// as it is in PIL, rather than a photo with a grey bottom.
struct ErrorJump {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated = false;
};

void on_error(j_common_ptr info) {
  auto* self = reinterpret_cast<ErrorJump*>(info->err);
  (*info->err->format_message)(info, self->message);
  std::longjmp(self->jump, 1);
}

void on_message(j_common_ptr info, int level) {
  auto* self = reinterpret_cast<ErrorJump*>(info->err);
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) self->truncated = true;
}

}  // namespace

bool is_jpeg(const std::string& bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF;
}

namespace {

// The two stages that can jump back, each with its own setjmp and no C++ objects alive
// across it (a jump must not skip a destructor). False with error.message set on failure.
bool start(jpeg_decompress_struct& info, ErrorJump& error, const std::string& bytes, bool& other_colour_space) {
  if (setjmp(error.jump)) return false;
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  // CMYK and YCCK photos are left to stb_image, which converts them as it always has.
  other_colour_space =
      info.jpeg_color_space != JCS_GRAYSCALE && info.jpeg_color_space != JCS_YCbCr && info.jpeg_color_space != JCS_RGB;
  if (other_colour_space) return true;
  info.out_color_space = JCS_RGB;
  info.dct_method = JDCT_ISLOW;
  info.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&info);
  return true;
}

bool read_rows(jpeg_decompress_struct& info, ErrorJump& error, uint8_t* pixels) {
  if (setjmp(error.jump)) return false;
  const size_t row_bytes = static_cast<size_t>(info.output_width) * 3;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + info.output_scanline * row_bytes;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  return true;
}

}  // namespace

at::Tensor decode_jpeg(const std::string& bytes, const std::string& path) {
  jpeg_decompress_struct info{};
  ErrorJump error{};
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = on_error;
  error.manager.emit_message = on_message;
  jpeg_create_decompress(&info);
  // Destroys the decompressor on every way out.
  const std::unique_ptr<jpeg_decompress_struct, void (*)(jpeg_decompress_struct*)> guard(&info, jpeg_destroy_decompress);
  const auto fail = [&] { return Error("cannot read image '" + path + "': corrupt JPEG (" + error.message + ")"); };
  bool other_colour_space = false;
  if (!start(info, error, bytes, other_colour_space)) throw fail();
  if (other_colour_space) return {};
  at::Tensor rgb = at::empty({static_cast<int64_t>(info.output_height), static_cast<int64_t>(info.output_width), 3}, at::kByte);
  if (!read_rows(info, error, rgb.data_ptr<uint8_t>())) throw fail();
  if (error.truncated) throw Error("cannot read image '" + path + "': truncated JPEG (the file ends before the picture does)");
  return rgb;
}

}  // namespace featvis::image::detail
