#pragma once
// Finished outputs are never half-written: write to "<path>.tmp.<pid>.<host hash>", then rename.
#include <string>

namespace featvis {

void write_file_atomically(const std::string& path, const std::string& bytes);
// A plain write (no temporary file): for the many small files that an index written
// atomically after them names, so that a crash leaves no index pointing at a torn file.
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);  // throws featvis::Error if unreadable

}  // namespace featvis
