#pragma once
// Finished outputs are never half-written: write to "<path>.tmp.<pid>.<host hash>", then rename.
#include <string>
#include <string_view>

namespace featvis {

void write_file_atomically(const std::string& path, const std::string& bytes);
// A plain write (no temporary file): for the many small files that an index written
// atomically after them names, so that a crash leaves no index pointing at a torn file.
void write_file(const std::string& path, std::string_view bytes);

// Plain writes of many small files (as write_file), each opened relative to its folder,
// which stays open while the next files go to the same one, and is made where missing:
// no walk of the whole path, and no folder check, per file. Not thread-safe: one per thread.
class FileWriter {
 public:
  FileWriter() = default;
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  void write(const std::string& path, std::string_view bytes);  // throws featvis::Error

 private:
  std::string folder_;  // the one open as folder_fd_
  int folder_fd_ = -1;
};
std::string read_file(const std::string& path);  // throws featvis::Error if unreadable

}  // namespace featvis
