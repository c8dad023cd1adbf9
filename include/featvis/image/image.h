#pragma once
// Photos in, network inputs out: decoding (JPEG/PNG via stb, WebP, TIFF), the card's crop and
// scaling, and PNG/JPEG writing for visualizations and thumbnails.
#include <featvis/model/card.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace featvis::image {

// Whether a file name has a photo extension featvis decodes (.jpg .jpeg .png .webp .tif
// .tiff, any case): what folder walks pick up.
bool is_photo_file_name(const std::string& path);

// Decoded 8-bit RGB photo as a [H, W, 3] uint8 tensor, a JPEG turned upright as its EXIF
// orientation says.
// Throws featvis::Error "cannot read image 'P': <reason>" for missing/corrupt files.
at::Tensor load_image_rgb8(const std::string& path);

// Crops/resizes/scales a [H, W, 3] uint8 photo into a [3, h, w] float network input
// following the card (antialiased bilinear resize, like PIL).
at::Tensor preprocess_image(const at::Tensor& rgb8, const model::Preprocessing& pre);

// Convenience: load + preprocess.
at::Tensor load_network_input(const std::string& path, const model::Preprocessing& pre);

// The card's crop of a photo as a [3, H, W] RGB image in [0, 1], before the card's pixel
// scaling (network_input applies that). height/width 0: the card's input size;
// otherwise the crop is scaled to that size (the resize step scaled alike).
at::Tensor load_image01(const std::string& path, const model::Preprocessing& pre, int64_t height = 0, int64_t width = 0);

// The same for a decoded [H, W, 3] uint8 photo (any strides).
at::Tensor preprocess_image01(const at::Tensor& rgb8, const model::Preprocessing& pre, int64_t height = 0, int64_t width = 0);

// Writes a [3, H, W] float image with values in [0, 1] (clamped) as an 8-bit PNG,
// atomically (temporary file + rename).
void save_png(const std::string& path, const at::Tensor& chw01);

// The same as a JPEG (quality 1-100), for thumbnails.
void save_jpeg(const std::string& path, const at::Tensor& chw01, int quality = 85);

// The same as a lossy WebP (quality 0-100), for the Microscope's renders (image/webp.h).
void save_webp(const std::string& path, const at::Tensor& chw01, float quality = 90);

}  // namespace featvis::image
