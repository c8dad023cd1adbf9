// NumPy .npy format (https://numpy.org/neps/nep-0001-npy-format.html): magic, version,
// a little-endian header length (2 bytes in v1, 4 in v2/v3), a Python dict literal
// with descr / fortran_order / shape, padding, then the raw C-order data.
#include <featvis/io/npy.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace featvis::io {
namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;  // numpy aligns the data start to 64 bytes

uint32_t read_le(const std::string& bytes, size_t at, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

// The text after `'key':` in the header dict, leading spaces skipped.
size_t value_start(const std::string& header, const std::string& key, const std::string& path) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos) throw Error("'" + path + "': .npy header has no '" + key + "'");
  pos = header.find(':', pos);
  if (pos == std::string::npos) throw Error("'" + path + "': malformed .npy header");
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  return pos;
}

at::ScalarType parse_descr(const std::string& header, const std::string& path) {
  const size_t pos = value_start(header, "descr", path);
  if (pos >= header.size() || (header[pos] != '\'' && header[pos] != '"'))
    throw Error("'" + path + "': malformed .npy descr");
  const size_t end = header.find(header[pos], pos + 1);
  if (end == std::string::npos) throw Error("'" + path + "': malformed .npy descr");
  const std::string descr = header.substr(pos + 1, end - pos - 1);
  if (descr == "<f4") return at::kFloat;
  if (descr == "<f8") return at::kDouble;
  if (descr == "<i8") return at::kLong;
  throw Error("'" + path + "': .npy element type '" + descr +
              "' is not supported (need little-endian float32, float64 or int64)");
}

std::vector<int64_t> parse_shape(const std::string& header, const std::string& path) {
  const size_t pos = value_start(header, "shape", path);
  const size_t end = header.find(')', pos);
  if (pos >= header.size() || header[pos] != '(' || end == std::string::npos)
    throw Error("'" + path + "': malformed .npy shape");
  std::vector<int64_t> shape;
  std::string number;
  for (size_t i = pos + 1; i <= end; ++i) {
    const char c = header[i];
    if (c >= '0' && c <= '9') {
      number += c;
    } else if (c == ',' || c == ')') {
      if (!number.empty()) shape.push_back(std::stoll(number));
      number.clear();
    } else if (c != ' ' && c != 'L') {  // 'L': Python 2 long suffix
      throw Error("'" + path + "': malformed .npy shape");
    }
  }
  return shape;
}

std::string shape_literal(at::IntArrayRef sizes) {
  std::string s = "(";
  for (size_t i = 0; i < sizes.size(); ++i) s += std::to_string(sizes[i]) + (i + 1 < sizes.size() ? ", " : "");
  if (sizes.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

at::Tensor load_npy(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error&) {
    throw Error("cannot read .npy file '" + path + "' (missing or unreadable)");
  }
  if (bytes.size() < kMagicSize + 4 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0)
    throw Error("'" + path + "' is not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3)
    throw Error("'" + path + "': unsupported .npy version " + std::to_string(major));
  const size_t length_width = major == 1 ? 2 : 4;
  const size_t header_start = 8 + length_width;
  if (bytes.size() < header_start) throw Error("'" + path + "': truncated .npy header");
  const size_t header_length = read_le(bytes, 8, length_width);
  if (bytes.size() < header_start + header_length) throw Error("'" + path + "': truncated .npy header");
  const std::string header = bytes.substr(header_start, header_length);

  const at::ScalarType type = parse_descr(header, path);
  const size_t fortran = value_start(header, "fortran_order", path);
  if (header.compare(fortran, 4, "True") == 0)
    throw Error("'" + path + "': Fortran-order .npy arrays are not supported (save C-order)");
  const std::vector<int64_t> shape = parse_shape(header, path);

  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  const size_t data_bytes = static_cast<size_t>(count) * c10::elementSize(type);
  const size_t data_start = header_start + header_length;
  if (bytes.size() - data_start < data_bytes) {
    throw Error("'" + path + "': .npy data is truncated (" + std::to_string(bytes.size() - data_start) +
                " bytes, expected " + std::to_string(data_bytes) + ")");
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  if (data_bytes) std::memcpy(t.data_ptr(), bytes.data() + data_start, data_bytes);
  return t;
}

void save_npy(const std::string& path, const at::Tensor& tensor) {
  if (!tensor.defined()) throw Error("cannot save an undefined tensor to '" + path + "'");
  // Floating point is stored as float32 and integers as int64, the two kinds featvis
  // exchanges with Python.
  at::ScalarType type;
  std::string descr;
  if (at::isFloatingType(tensor.scalar_type())) {
    type = at::kFloat;
    descr = "<f4";
  } else if (at::isIntegralType(tensor.scalar_type(), /*includeBool=*/true)) {
    type = at::kLong;
    descr = "<i8";
  } else {
    throw Error("cannot save a tensor of type " + std::string(c10::toString(tensor.scalar_type())) +
                " to '" + path + "'");
  }
  const at::Tensor data = tensor.detach().to(at::kCPU, type).contiguous();

  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                     shape_literal(data.sizes()) + ", }";
  // Pad with spaces and a final newline so the data starts on an aligned offset.
  size_t length_width = 2;
  size_t total = kMagicSize + 2 + length_width + dict.size() + 1;
  if ((total + kAlign - 1) / kAlign * kAlign - kMagicSize - 2 - length_width > 0xffff) {
    length_width = 4;
    total = kMagicSize + 2 + length_width + dict.size() + 1;
  }
  dict.append((kAlign - total % kAlign) % kAlign, ' ');
  dict += '\n';

  std::string bytes(kMagic, kMagicSize);
  bytes += static_cast<char>(length_width == 2 ? 1 : 2);
  bytes += '\0';
  for (size_t i = 0; i < length_width; ++i) bytes += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  bytes += dict;
  bytes.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  write_file_atomically(path, bytes);
}

}  // namespace featvis::io
