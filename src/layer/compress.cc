#include "layer/compress.h"

#include "layer/parallel_gzip.h"

#include <zstd.h>

#include <vector>

namespace anyarch::layer {

namespace {

constexpr std::size_t kOutChunk = 1 << 18;

class ZstdSink final : public ByteSink {
 public:
  ZstdSink(ByteSink& next) : next_(next), out_(ZSTD_CStreamOutSize()) {}
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }
  Status Init(int level, int threads) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) return MakeError(ErrorCode::kInternal, "zstd: cannot create a context");
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    // Always at least one worker: zstd's output is the same for any nbWorkers >= 1 but differs
    // from the single-threaded mode (0), and a layer's digest must not depend on the machine's
    // cores. Without multithreading support in the library this fails: one thread is used.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads > 1 ? threads : 1);
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
    case Compression::kGzip:
      return NewParallelGzip(next, options.level, options.threads);
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
