#include <featvis/image/webp.h>
#include <featvis/util/check.h>

#include <webp/encode.h>

namespace featvis::image {

std::string encode_webp(const uint8_t* rgb, int width, int height, float quality) {
  FEATVIS_CHECK(width > 0 && height > 0, "cannot encode an empty ", width, "x", height, " WebP");
  FEATVIS_CHECK(quality >= 0 && quality <= 100, "WebP quality ", quality, " must be 0-100");
  WebPConfig config;
  FEATVIS_CHECK(WebPConfigPreset(&config, WEBP_PRESET_PICTURE, quality) != 0, "libwebp version mismatch");
  config.method = 5;        // slower, smaller: a render is encoded once and served many times
  config.thread_level = 0;  // one thread: the same bytes every time
  WebPPicture picture;
  FEATVIS_CHECK(WebPPictureInit(&picture) != 0, "libwebp version mismatch");
  picture.width = width;
  picture.height = height;
  picture.use_argb = 0;
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  const bool imported = WebPPictureImportRGB(&picture, rgb, width * 3) != 0;
  const bool encoded = imported && WebPEncode(&config, &picture) != 0;
  const int error = picture.error_code;
  WebPPictureFree(&picture);
  std::string bytes(reinterpret_cast<const char*>(writer.mem), writer.size);
  WebPMemoryWriterClear(&writer);
  FEATVIS_CHECK(encoded, "cannot encode a ", width, "x", height, " WebP (libwebp error ", error, ")");
  return bytes;
}

}  // namespace featvis::image
