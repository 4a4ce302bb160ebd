#include "layer/gzip_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include "layer/tar_stream.h"
#include "support/gzip.h"

namespace anyarch::layer {
namespace {

using fixtures::Gzip;  // zlib's gzip (support/gzip.h)

std::string Sample(std::size_t n) {
  std::mt19937 rng(7);
  std::string s;
  while (s.size() < n / 2) s.push_back(static_cast<char>(rng()));
  while (s.size() < n) s += "text that compresses, line " + std::to_string(s.size()) + "\n";
  return s;
}

// Hands out at most `step` bytes per Read, to split headers, members and magic bytes.
class TrickleReader final : public Reader {
 public:
  TrickleReader(std::string data, std::size_t step) : data_(std::move(data)), step_(step) {}
  Result<std::size_t> Read(void* buf, std::size_t size) override {
    std::size_t n = std::min({size, step_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  std::string data_;
  std::size_t step_;
  std::size_t pos_ = 0;
};

// Decompress() over `gz` handed out `step` bytes at a time, read `chunk` bytes at a time.
Result<std::string> Inflate(const std::string& gz, std::size_t step = 1 << 20,
                            std::size_t chunk = 65536, bool* read_to_end = nullptr) {
  TrickleReader in(gz, step);
  ANYARCH_TRY(auto r, Decompress(in));
  std::string out, buf(chunk, '\0');
  for (;;) {
    ANYARCH_TRY(std::size_t n, r->Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  if (read_to_end) *read_to_end = in.AtEnd();
  return out;
}

TEST(GzipReaderTest, ReadsWhatZlibWritesAtEveryLevelAndWithEveryHeaderField) {
  const std::string data = Sample(3 << 20);
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE(level);
    auto got = Inflate(Gzip(data, level));
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, data);
  }
  auto got = Inflate(Gzip(data, 6, true));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, data);
}

TEST(GzipReaderTest, SplitInputAndTinyReadsGiveTheSameBytes) {
  const std::string data = Sample(200000);
  const std::string gz = Gzip(data, 6, true) + Gzip("second member", 1);
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{4096}}) {
    SCOPED_TRACE(step);
    auto got = Inflate(gz, step, 7);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, data + "second member");
  }
}

TEST(GzipReaderTest, MembersAreConcatenatedAndTrailingBytesReadButIgnored) {
  const std::string gz = Gzip("one ") + Gzip("") + Gzip("two");
  auto got = Inflate(gz);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, "one two");
  bool at_end = false;
  got = Inflate(Gzip("data") + std::string(1000, '\0') + "x", 1 << 20, 65536, &at_end);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, "data");
  EXPECT_TRUE(at_end) << "the bytes after the member must still be read (the blob digest)";
}

TEST(GzipReaderTest, CorruptAndTruncatedStreamsAreInvalid) {
  const std::string data = Sample(100000);
  std::string gz = Gzip(data);
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x40;  // in the CRC-32 of the trailer
  auto r = Inflate(bad_crc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().ToString().find("CRC-32"), std::string::npos) << r.error().ToString();

  r = Inflate(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(r.error().ToString().find("middle of a member"), std::string::npos)
      << r.error().ToString();

  std::string bad_block = gz;
  for (std::size_t i = 20; i < 60; ++i) bad_block[i] = '\xff';
  r = Inflate(bad_block);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);

  std::string bad_method = gz;
  bad_method[2] = 7;  // CM: not deflate
  r = Inflate(bad_method);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalid);
}

TEST(GzipReaderTest, AnErrorOfTheBlobWinsOverTheDecodingError) {
  // The blob's reader fails (a digest mismatch, say) once the damaged bytes are read.
  class FailingAtEnd final : public Reader {
   public:
    explicit FailingAtEnd(std::string d) : in_(std::move(d), 1 << 20) {}
    Result<std::size_t> Read(void* buf, std::size_t size) override {
      ANYARCH_TRY(std::size_t n, in_.Read(buf, size));
      if (n == 0) return MakeError(ErrorCode::kDigestMismatch, "the blob's digest");
      return n;
    }

   private:
    TrickleReader in_;
  };
  std::string gz = Gzip(Sample(50000));
  for (std::size_t i = 20; i < 60; ++i) gz[i] = '\xff';
  FailingAtEnd in(gz);
  auto r = Decompress(in);
  ASSERT_TRUE(r);
  char buf[4096];
  Status s = Ok();
  for (;;) {
    auto n = (*r)->Read(buf, sizeof buf);
    if (!n) {
      s = Unexpected(n.error());
      break;
    }
    if (*n == 0) break;
  }
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kDigestMismatch);
}

}  // namespace
}  // namespace anyarch::layer
