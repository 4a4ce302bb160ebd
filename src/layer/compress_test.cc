// Layer compression: gzip on several threads gives the same bytes as on one, however the input
// is split into writes, and zlib (reading member after member, as gzip -d does) gets the input
// back; zstd likewise does not depend on the thread count.
#include "layer/compress.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

#include "layer/parallel_gzip.h"

namespace anyarch::layer {
namespace {

class StringSink final : public ByteSink {
 public:
  Status Write(const void* data, std::size_t size) override {
    out.append(static_cast<const char*>(data), size);
    return Ok();
  }
  Status Finish() override {
    ++finished;
    return Ok();
  }
  std::string out;
  int finished = 0;
};

// Half random bytes, half text, a little over three chunks.
std::string Input() {
  std::mt19937 rng(7);
  std::string s;
  while (s.size() < kGzipChunk * 3 / 2) s.push_back(static_cast<char>(rng()));
  while (s.size() < kGzipChunk * 3 + 12345) s += "layer text compresses well ";
  return s;
}

std::string Compress(Compression c, const std::string& in, int threads, std::size_t piece) {
  StringSink sink;
  auto z = NewCompressor(sink, {.compression = c, .threads = threads});
  EXPECT_TRUE(z) << z.error().ToString();
  for (std::size_t off = 0; off < in.size(); off += piece)
    EXPECT_TRUE((*z)->Write(in.data() + off, std::min(piece, in.size() - off)));
  EXPECT_TRUE((*z)->Finish());
  EXPECT_EQ(sink.finished, 1);
  return sink.out;
}

// The gzip stream, which must be exactly one member (nothing may follow its trailer).
std::string Gunzip(const std::string& gz) {
  std::string out;
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  char buf[65536];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      EXPECT_EQ(z.avail_in, 0u) << "bytes after the first gzip member";
      break;
    }
    EXPECT_EQ(rc, Z_OK);
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  return out;
}

TEST(CompressTest, GzipBytesDoNotDependOnThreadsOrWrites) {
  const std::string in = Input();
  const std::string one = Compress(Compression::kGzip, in, 1, in.size());
  EXPECT_EQ(Compress(Compression::kGzip, in, 4, 4096), one);
  EXPECT_EQ(Compress(Compression::kGzip, in, 2, kGzipChunk + 1), one);
  EXPECT_LT(one.size(), in.size());
  EXPECT_EQ(Gunzip(one), in);
}

TEST(CompressTest, AnEmptyGzipStreamIsOneValidMember) {
  std::string gz = Compress(Compression::kGzip, "", 3, 1);
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(Gunzip(gz), "");
}

TEST(CompressTest, ZstdBytesDoNotDependOnThreads) {
  const std::string in = Input();
  const std::string one = Compress(Compression::kZstd, in, 1, 65536);
  EXPECT_EQ(Compress(Compression::kZstd, in, 3, 1000), one);
  std::string back(in.size(), '\0');
  EXPECT_EQ(ZSTD_decompress(back.data(), back.size(), one.data(), one.size()), in.size());
  EXPECT_EQ(back, in);
}

TEST(CompressTest, LevelsOutOfRangeAreRefused) {
  StringSink sink;
  EXPECT_EQ(NewParallelGzip(sink, 10, 1).error().code(), ErrorCode::kInvalid);
}

}  // namespace
}  // namespace anyarch::layer
