#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace featvis {
namespace {

// The host in a temporary's name: processes on two machines writing one file on a shared
// filesystem (Microscope shards) can have the same pid, in containers even usually.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    uint32_t h = 2166136261u;
    for (const char* c = name; *c != 0; ++c) h = (h ^ static_cast<unsigned char>(*c)) * 16777619u;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", h);
    return std::string(hex);
  }();
  return tag;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + host_tag();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write '" + path + "'");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write '" + path + "' (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot move the finished file into place at '" + path + "'");
  }
}

namespace {

// Writes all of `bytes` to a file just opened (fd < 0: the open failed), then closes it.
void write_and_close(int fd, const std::string& path, std::string_view bytes) {
  if (fd < 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw Error("cannot write '" + path + "' (disk full?)");
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw Error("cannot write '" + path + "' (disk full?)");
}

constexpr int kCreate = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

}  // namespace

void write_file(const std::string& path, std::string_view bytes) {
  write_and_close(::open(path.c_str(), kCreate, 0644), path, bytes);
}

FileWriter::~FileWriter() {
  if (folder_fd_ >= 0) ::close(folder_fd_);
}

void FileWriter::write(const std::string& path, std::string_view bytes) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return write_file(path, bytes);
  if (folder_fd_ < 0 || path.compare(0, slash, folder_) != 0 || folder_.size() != slash) {
    if (folder_fd_ >= 0) ::close(folder_fd_);
    folder_fd_ = -1;
    folder_ = path.substr(0, slash);
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);  // another thread making it at the same time is no error
    if (ec) throw Error("cannot create folder '" + folder_ + "': " + ec.message());
    folder_fd_ = ::open(folder_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (folder_fd_ < 0) throw Error("cannot open folder '" + folder_ + "': " + std::strerror(errno));
  }
  write_and_close(::openat(folder_fd_, path.c_str() + slash + 1, kCreate, 0644), path, bytes);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace featvis
