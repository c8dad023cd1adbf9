// IDX reading: hand-made files (plain and gzip) with known bytes, every way a file can be
// broken, and Debian's real Fashion-MNIST test set.
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/io/idx.h>
#include <featvis/util/atomic_file.h>

#include <zlib.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using featvis::testing::error_of;

std::string idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data, uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) s += static_cast<char>((d >> shift) & 0xff);
  s.append(data.begin(), data.end());
  return s;
}

std::string write_plain(const std::string& name, const std::string& bytes) {
  const std::string path = featvis::testing::temp_dir() + "/" + name;
  featvis::write_file_atomically(path, bytes);
  return path;
}

std::string write_gz(const std::string& name, const std::string& bytes) {
  const std::string path = featvis::testing::temp_dir() + "/" + name;
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
  return path;
}

const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};  // 2 images of 2x3

TEST(Idx, ReadsPlainAndGzipAlike) {
  const std::string bytes = idx_bytes({2, 2, 3}, kPixels);
  for (const std::string& path : {write_plain("a-idx3-ubyte", bytes), write_gz("a-idx3-ubyte.gz", bytes)}) {
    const at::Tensor t = featvis::io::load_idx(path);
    EXPECT_EQ(t.scalar_type(), at::kByte);
    EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
    EXPECT_EQ(t[1][1][2].item<int>(), 255);
    EXPECT_EQ(t[0][1][0].item<int>(), 3);
  }
}

TEST(Idx, DatasetPairsImagesWithLabels) {
  const auto d = featvis::io::load_idx_dataset(write_gz("i.gz", idx_bytes({2, 2, 3}, kPixels)),
                                               write_gz("l.gz", idx_bytes({2}, {7, 1})), 10);
  EXPECT_EQ(d.images.size(0), 2);
  EXPECT_EQ(d.labels.scalar_type(), at::kLong);
  EXPECT_EQ(d.labels[0].item<int64_t>(), 7);
}

TEST(Idx, BrokenFilesAreOneLineErrors) {
  struct Case {
    std::string bytes, fragment;
  };
  const std::vector<Case> cases = {
      {"", "shorter than its magic"},
      {"\x89PNG\r\n", "bad magic"},
      {idx_bytes({2, 2, 3}, kPixels, 0x0D), "element type 0xd"},
      {idx_bytes({2, 2, 3}, kPixels).substr(0, 10), "truncated IDX header"},
      {idx_bytes({2, 2, 3}, {1, 2, 3}), "truncated IDX data (3 of 12 bytes)"},
      {idx_bytes({2, 2, 3}, kPixels) + "x", "longer than its dimensions"},
      {idx_bytes({0xffffffffu, 0xffffffffu, 2}, {}), "too large"},
  };
  for (const auto& c : cases) {
    for (const std::string& path : {write_plain("bad", c.bytes), write_gz("bad.gz", c.bytes)}) {
      const std::string e = error_of([&] { featvis::io::load_idx(path); });
      EXPECT_NE(e.find(c.fragment), std::string::npos) << e;
      EXPECT_NE(e.find(path), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
  }
}

TEST(Idx, CorruptGzipIsAnError) {
  std::string gz;
  {
    const std::string path = write_gz("good.gz", idx_bytes({2, 2, 3}, kPixels));
    std::ifstream in(path, std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Flip bytes in the deflate stream (after the 10-byte gzip header): either the
  // inflater or the CRC check at the end must refuse it.
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  const std::string path = write_plain("corrupt.gz", gz);
  const std::string e = error_of([&] { featvis::io::load_idx(path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e, "(no error)");
}

TEST(Idx, DatasetMismatchesAreErrors) {
  const std::string images = write_gz("i.gz", idx_bytes({2, 2, 3}, kPixels));
  const std::string three_labels = write_gz("l3.gz", idx_bytes({3}, {0, 1, 2}));
  EXPECT_NE(error_of([&] { featvis::io::load_idx_dataset(images, three_labels); }).find("has 3 labels but"),
            std::string::npos);
  const std::string big_label = write_gz("l.gz", idx_bytes({2}, {3, 12}));
  EXPECT_NE(error_of([&] { featvis::io::load_idx_dataset(images, big_label, 10); })
                .find("label 12 is outside the 10 classes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::io::load_idx_dataset(big_label, big_label); }).find("must have 3 dimensions"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::io::load_idx_dataset(images, images); }).find("must have 1 dimension"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::io::load_idx("/nonexistent/x.gz"); }).find("IDX file '/nonexistent/x.gz' not found"),
            std::string::npos);
}

TEST(Idx, ReadsDebianFashionMnist) {
  FEATVIS_REQUIRE_FASHION_MNIST(dir);
  const auto d = featvis::io::load_idx_dataset(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", 10);
  EXPECT_EQ(d.images.sizes().vec(), (std::vector<int64_t>{10000, 28, 28}));
  // The test set is balanced: 1,000 of each of the 10 classes.
  const at::Tensor counts = at::bincount(d.labels);
  EXPECT_EQ(counts.numel(), 10);
  EXPECT_EQ(counts.min().item<int64_t>(), 1000);
  EXPECT_EQ(counts.max().item<int64_t>(), 1000);
}

}  // namespace
