#pragma once
// Images in one row, each scaled up to a tile and captioned below: the timeline strip
// (one render per checkpoint, "step 128" under each).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::render {

// images [N,3,H,W] in [0,1] and N captions (each may hold '\n' for a second line) ->
// [3, H', W'] with tiles of `tile` pixels on their longer side (nearest-neighbour, so
// the network's pixels stay visible), white gaps and dark captions.
at::Tensor labelled_strip(const at::Tensor& images, const std::vector<std::string>& captions, int64_t tile = 128);

}  // namespace featvis::render
