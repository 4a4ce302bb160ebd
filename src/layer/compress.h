// Streaming compression of layer tars: gzip (what every registry client reads) and zstd. Bytes
// go in through Write(); compressed bytes come out of the next ByteSink in the chain, so a
// layer is hashed, compressed, hashed again and written in one pass without being held in
// memory.
//
// gzip output is one gzip member whose 1 MiB pieces are compressed on every core
// (parallel_gzip.h), read by `gzip -d`, Go's compress/gzip, Python's tarfile and libarchive. zstd
// output is one frame (RFC 8878) with the content checksum.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/error.h"

namespace anyarch::layer {

// Where a stream of bytes goes. Write() takes every byte or fails; Finish() is called once
// after the last Write() and flushes what is buffered.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(const void* data, std::size_t size) = 0;
  virtual Status Finish() { return Ok(); }
};

enum class Compression { kGzip, kZstd, kNone };

// "gzip", "zstd", "uncompressed" -> Compression; kInvalid names the accepted values.
Result<Compression> ParseCompression(const std::string& name);
const char* CompressionName(Compression c);

struct CompressOptions {
  Compression compression = Compression::kGzip;
  int level = -1;   // -1: the format's default (gzip: ISA-L igzip level 1; zstd 3)
  int threads = 1;  // worker threads (0 or 1: in the caller's thread); never changes the bytes
};

// A sink that compresses into `next` (which must outlive it). Finish() ends the stream and
// finishes `next`. kInternal when the compressor cannot be set up.
Result<std::unique_ptr<ByteSink>> NewCompressor(ByteSink& next, const CompressOptions& options);

}  // namespace anyarch::layer
