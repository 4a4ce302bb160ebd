#include "layer/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <vector>

namespace anyarch::layer {

namespace {

constexpr std::size_t kOutChunk = 1 << 18;

class GzipSink final : public ByteSink {
 public:
  GzipSink(ByteSink& next) : next_(next), out_(kOutChunk) {}
  ~GzipSink() override {
    if (init_) deflateEnd(&z_);
  }
  Status Init(int level) {
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
    if (deflateInit2(&z_, level < 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
      return MakeError(ErrorCode::kInternal, "gzip: cannot initialise zlib");
    init_ = true;
    return Ok();
  }
  Status Write(const void* data, std::size_t size) override {
    const auto* p = static_cast<const Bytef*>(data);
    while (size > 0) {
      // zlib counts in uInt; feed at most 1 GiB at a time.
      uInt n = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
      z_.next_in = const_cast<Bytef*>(p);
      z_.avail_in = n;
      ANYARCH_CHECK(Pump(Z_NO_FLUSH));
      p += n;
      size -= n;
    }
    return Ok();
  }
  Status Finish() override {
    z_.next_in = nullptr;
    z_.avail_in = 0;
    ANYARCH_CHECK(Pump(Z_FINISH));
    return next_.Finish();
  }

 private:
  Status Pump(int flush) {
    for (;;) {
      z_.next_out = out_.data();
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
      std::size_t have = out_.size() - z_.avail_out;
      if (have > 0) ANYARCH_CHECK(next_.Write(out_.data(), have));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0))
        return Ok();
    }
  }

  ByteSink& next_;
  z_stream z_{};
  bool init_ = false;
  std::vector<Bytef> out_;
};

class ZstdSink final : public ByteSink {
 public:
  ZstdSink(ByteSink& next) : next_(next), out_(ZSTD_CStreamOutSize()) {}
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }
  Status Init(int level, int threads) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) return MakeError(ErrorCode::kInternal, "zstd: cannot create a context");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    // Without multithreading support in the library this fails; one thread is then used.
    if (threads > 1) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads);
    return Ok();
  }
  Status Write(const void* data, std::size_t size) override {
    ZSTD_inBuffer in{data, size, 0};
    while (in.pos < in.size) ANYARCH_CHECK(Pump(in, ZSTD_e_continue));
    return Ok();
  }
  Status Finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      std::size_t left = ZSTD_compressStream2(cctx_, &out, &in, ZSTD_e_end);
      if (ZSTD_isError(left))
        return MakeError(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(left));
      if (out.pos > 0) ANYARCH_CHECK(next_.Write(out_.data(), out.pos));
      if (left == 0) break;
    }
    return next_.Finish();
  }

 private:
  Status Pump(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    std::size_t rc = ZSTD_compressStream2(cctx_, &out, &in, mode);
    if (ZSTD_isError(rc))
      return MakeError(ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(rc));
    if (out.pos > 0) ANYARCH_CHECK(next_.Write(out_.data(), out.pos));
    return Ok();
  }

  ByteSink& next_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::vector<char> out_;
};

class PassSink final : public ByteSink {
 public:
  explicit PassSink(ByteSink& next) : next_(next) {}
  Status Write(const void* data, std::size_t size) override { return next_.Write(data, size); }
  Status Finish() override { return next_.Finish(); }

 private:
  ByteSink& next_;
};

}  // namespace

Result<Compression> ParseCompression(const std::string& name) {
  if (name == "gzip") return Compression::kGzip;
  if (name == "zstd") return Compression::kZstd;
  if (name == "uncompressed" || name == "none") return Compression::kNone;
  return MakeError(ErrorCode::kInvalid,
                   "unknown compression \"" + name + "\" (use gzip, zstd or uncompressed)");
}

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      return "uncompressed";
  }
  return "?";
}

Result<std::unique_ptr<ByteSink>> NewCompressor(ByteSink& next, const CompressOptions& options) {
  switch (options.compression) {
    case Compression::kGzip: {
      auto s = std::make_unique<GzipSink>(next);
      ANYARCH_CHECK(s->Init(options.level));
      return std::unique_ptr<ByteSink>(std::move(s));
    }
    case Compression::kZstd: {
      auto s = std::make_unique<ZstdSink>(next);
      ANYARCH_CHECK(s->Init(options.level, options.threads));
      return std::unique_ptr<ByteSink>(std::move(s));
    }
    case Compression::kNone:
      return std::unique_ptr<ByteSink>(std::make_unique<PassSink>(next));
  }
  return MakeError(ErrorCode::kInternal, "unknown compression");
}

}  // namespace anyarch::layer
