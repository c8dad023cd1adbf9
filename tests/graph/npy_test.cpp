// .npy reading and writing, checked against bytes that NumPy 1.24 itself wrote
// (np.lib.format.write_array), so the format is not just agreeing with itself.
#include "support/test_support.h"

#include <featvis/io/npy.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// NumPy's v1 layout: magic, version 1.0, uint16 header length, dict padded with spaces
// and a newline so the data starts at a multiple of 64 bytes.
std::string numpy_v1(const std::string& dict, size_t spaces, const std::string& data_hex) {
  const std::string header = dict + std::string(spaces, ' ') + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xff) +
         static_cast<char>(header.size() >> 8) + header + from_hex(data_hex);
}

// np.array([[1.5, -2, 3], [4, 5, 6.25]], dtype='<f4'): 152 bytes as NumPy writes it.
const std::string kFloat32 = numpy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 58,
                                      "0000c03f000000c000004040000080400000a0400000c840");

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = featvis::testing::temp_dir() + "/" + name;
  featvis::write_file_atomically(path, bytes);
  return path;
}

void expect_error(const std::string& bytes, const std::string& fragment) {
  const std::string path = write_temp("bad.npy", bytes);
  try {
    featvis::io::load_npy(path);
    ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
  } catch (const featvis::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "error should name the file: " << e.what();
  }
}

TEST(Npy, ReadsNumpyFloat32) {
  ASSERT_EQ(kFloat32.size(), 152u);
  const at::Tensor t = featvis::io::load_npy(write_temp("a.npy", kFloat32));
  EXPECT_EQ(t.scalar_type(), at::kFloat);
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(at::equal(t, at::tensor({1.5f, -2.f, 3.f, 4.f, 5.f, 6.25f}).reshape({2, 3})));
}

TEST(Npy, ReadsNumpyVersion2Int64) {
  // np.lib.format.write_array(f, np.array([1, -2, 3], dtype='<i8'), version=(2, 0))
  const std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" +
                             std::string(58, ' ') + "\n";
  const std::string bytes = std::string("\x93NUMPY\x02\x00", 8) + static_cast<char>(header.size()) +
                            std::string(3, '\0') + header +
                            from_hex("0100000000000000feffffffffffffff0300000000000000");
  ASSERT_EQ(bytes.size(), 152u);
  const at::Tensor t = featvis::io::load_npy(write_temp("b.npy", bytes));
  EXPECT_EQ(t.scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(t, at::tensor({int64_t{1}, int64_t{-2}, int64_t{3}})));
}

TEST(Npy, ReadsNumpyScalarFloat64) {
  // np.array(2.5, dtype='<f8'): a 0-d array.
  const std::string bytes =
      numpy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62, "0000000000000440");
  ASSERT_EQ(bytes.size(), 136u);
  const at::Tensor t = featvis::io::load_npy(write_temp("c.npy", bytes));
  EXPECT_EQ(t.scalar_type(), at::kDouble);
  EXPECT_EQ(t.dim(), 0);
  EXPECT_EQ(t.item<double>(), 2.5);
}

TEST(Npy, WritesWhatNumpyWrites) {
  const std::string path = featvis::testing::temp_dir() + "/out.npy";
  featvis::io::save_npy(path, at::tensor({1.5f, -2.f, 3.f, 4.f, 5.f, 6.25f}).reshape({2, 3}));
  EXPECT_EQ(featvis::read_file(path), kFloat32);
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    EXPECT_EQ(entry.path().filename().string(), "out.npy") << "temporary file left behind";
}

TEST(Npy, SavesFloatsAsFloat32AndIntegersAsInt64) {
  const std::string dir = featvis::testing::temp_dir();
  // A transposed (non-contiguous) double tensor that requires grad.
  const at::Tensor d = at::arange(12, at::kDouble).reshape({3, 4}).t().requires_grad_(true);
  featvis::io::save_npy(dir + "/d.npy", d);
  const at::Tensor back = featvis::io::load_npy(dir + "/d.npy");
  EXPECT_EQ(back.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(back, d.detach().to(at::kFloat)));

  const at::Tensor i = at::tensor({7, -8, 9}, at::kInt);
  featvis::io::save_npy(dir + "/i.npy", i);
  const at::Tensor ib = featvis::io::load_npy(dir + "/i.npy");
  EXPECT_EQ(ib.scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(ib, i.to(at::kLong)));

  const at::Tensor s = at::scalar_tensor(3.25, at::kFloat);
  featvis::io::save_npy(dir + "/s.npy", s);
  EXPECT_EQ(featvis::io::load_npy(dir + "/s.npy").dim(), 0);
  EXPECT_EQ(featvis::io::load_npy(dir + "/s.npy").item<float>(), 3.25f);

  const at::Tensor e = at::empty({0, 5});
  featvis::io::save_npy(dir + "/e.npy", e);
  EXPECT_EQ(featvis::io::load_npy(dir + "/e.npy").sizes().vec(), (std::vector<int64_t>{0, 5}));
}

TEST(Npy, DataIsAligned) {
  const std::string dir = featvis::testing::temp_dir();
  for (int64_t rank = 1; rank <= 8; ++rank) {
    std::vector<int64_t> shape(rank, 3);
    featvis::io::save_npy(dir + "/x.npy", at::zeros(shape));
    const std::string bytes = featvis::read_file(dir + "/x.npy");
    int64_t numel = 1;
    for (int64_t s : shape) numel *= s;
    EXPECT_EQ((bytes.size() - numel * 4) % 64, 0u) << "rank " << rank;
    EXPECT_EQ(bytes[bytes.size() - numel * 4 - 1], '\n');
  }
}

TEST(Npy, RejectsBadFiles) {
  expect_error("not a numpy file at all", "bad magic");
  expect_error(kFloat32.substr(0, kFloat32.size() - 3), "truncated");
  expect_error(kFloat32.substr(0, 40), "truncated");
  expect_error(numpy_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 59,
                        "0000803f0000803f0000803f0000803f"),
               "Fortran");
  expect_error(numpy_v1("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 60, "3f800000"),
               "'>f4' is not supported");
  expect_error(numpy_v1("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", 60, "01000000"),
               "'<i4' is not supported");
}

TEST(Npy, MissingFileIsNamed) {
  try {
    featvis::io::load_npy("/nonexistent/dir/x.npy");
    FAIL() << "expected an error";
  } catch (const featvis::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.npy"), std::string::npos);
  }
}

}  // namespace
