#include <featvis/image/jpeg.h>
#include <featvis/util/check.h>

#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
#include <jerror.h>

#include <csetjmp>
#include <new>
#include <vector>

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

struct JpegEncoder::State {
  jpeg_compress_struct info{};
  ErrorJump error{};
  std::vector<JSAMPROW> rows;  // all of an image's rows, handed to libjpeg in one call
  // libjpeg writes into `bytes`, which only grows (doubling when libjpeg fills it).
  jpeg_destination_mgr destination{};
  std::vector<JOCTET> bytes = std::vector<JOCTET>(16384);

  static State& of(j_compress_ptr info) { return *static_cast<State*>(info->client_data); }
  static void start_bytes(j_compress_ptr info) {
    State& s = of(info);
    s.destination.next_output_byte = s.bytes.data();
    s.destination.free_in_buffer = s.bytes.size();
  }
  static boolean grow_bytes(j_compress_ptr info) {  // libjpeg filled the buffer
    State& s = of(info);
    const size_t used = s.bytes.size();
    try {
      s.bytes.resize(2 * used);
    } catch (const std::bad_alloc&) {  // no exception may cross libjpeg's C frames
      info->err->msg_code = JERR_OUT_OF_MEMORY;
      (*info->err->error_exit)(reinterpret_cast<j_common_ptr>(info));
    }
    s.destination.next_output_byte = s.bytes.data() + used;
    s.destination.free_in_buffer = s.bytes.size() - used;
    return TRUE;
  }
  static void end_bytes(j_compress_ptr) {}
};

JpegEncoder::JpegEncoder(const JpegOptions& options) : state_(std::make_unique<State>()) {
  FEATVIS_CHECK(options.quality >= 1 && options.quality <= 100, "JPEG quality must be 1-100, not ", options.quality);
  jpeg_compress_struct& info = state_->info;
  info.err = jpeg_std_error(&state_->error.manager);
  state_->error.manager.error_exit = on_error;
  if (setjmp(state_->error.jump)) {
    jpeg_destroy_compress(&info);
    throw Error(std::string("cannot set up a JPEG encoder: ") + state_->error.message);
  }
  jpeg_create_compress(&info);
  // The settings stay in the compressor from one image to the next.
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, options.quality, TRUE);
  info.optimize_coding = options.optimize_huffman ? TRUE : FALSE;
  info.client_data = state_.get();
  state_->destination.init_destination = State::start_bytes;
  state_->destination.empty_output_buffer = State::grow_bytes;
  state_->destination.term_destination = State::end_bytes;
  info.dest = &state_->destination;
}

JpegEncoder::~JpegEncoder() { jpeg_destroy_compress(&state_->info); }

std::string JpegEncoder::encode(const uint8_t* rgb, int width, int height, int stride) {
  return std::string(encode_view(rgb, width, height, stride));
}

std::string_view JpegEncoder::encode_view(const uint8_t* rgb, int width, int height, int stride) {
  FEATVIS_CHECK(width > 0 && height > 0, "cannot encode an empty ", width, "x", height, " JPEG");
  FEATVIS_CHECK(stride == 0 || stride >= width * 3, "JPEG rows ", stride, " bytes apart cannot hold ", width, " pixels");
  jpeg_compress_struct& info = state_->info;
  // Only plain data lives across the jump: nothing here needs a destructor.
  if (setjmp(state_->error.jump)) {
    jpeg_abort_compress(&info);  // the compressor stays usable
    throw Error(std::string("cannot encode a JPEG: ") + state_->error.message);
  }
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  jpeg_start_compress(&info, TRUE);
  const size_t row_bytes = static_cast<size_t>(stride > 0 ? stride : width * 3);
  state_->rows.resize(static_cast<size_t>(height));
  for (size_t y = 0; y < state_->rows.size(); ++y) state_->rows[y] = const_cast<JSAMPROW>(rgb + y * row_bytes);
  while (info.next_scanline < info.image_height)
    jpeg_write_scanlines(&info, state_->rows.data() + info.next_scanline, info.image_height - info.next_scanline);
  jpeg_finish_compress(&info);
  return std::string_view(reinterpret_cast<const char*>(state_->bytes.data()),
                          state_->bytes.size() - state_->destination.free_in_buffer);
}

std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality) {
  JpegOptions options;
  options.quality = quality;
  return JpegEncoder(options).encode(rgb, width, height);
}

}  // namespace featvis::image
