#pragma once
// Direction vectors for direction objectives, read from files.
#include <ATen/ATen.h>

#include <string>

namespace featvis::objective {

// A 1-D float32 CPU tensor from `path`: a .npy array of any shape (flattened), or text
// holding numbers separated by spaces, newlines or commas ('#' starts a comment).
// Throws featvis::Error naming the file when it is missing, unreadable, empty or holds
// something that is not a finite number.
at::Tensor read_direction_file(const std::string& path);

}  // namespace featvis::objective
