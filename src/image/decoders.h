#pragma once
// Photo decoders beside stb_image (image_io.cpp picks one by the file's first bytes).
// Each returns [H, W, 3] uint8 RGB and throws featvis::Error "cannot read image 'P': ...".
#include <ATen/ATen.h>

#include <string>

namespace featvis::image::detail {

bool is_jpeg(const std::string& bytes);
// An undefined tensor for CMYK/YCCK JPEGs, which stb_image decodes instead.
at::Tensor decode_jpeg(const std::string& bytes, const std::string& path);

bool is_webp(const std::string& bytes);
at::Tensor decode_webp(const std::string& bytes, const std::string& path);

bool is_tiff(const std::string& bytes);
at::Tensor decode_tiff(const std::string& bytes, const std::string& path);

// The EXIF orientation (1-8) of a JPEG, 1 when it has none or it is unreadable.
int jpeg_exif_orientation(const std::string& bytes);
// Turns a decoded [H, W, 3] photo upright for an EXIF orientation 1-8.
at::Tensor apply_exif_orientation(const at::Tensor& hwc, int orientation);

}  // namespace featvis::image::detail
