#include "layer/parallel_gzip.h"

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace anyarch::layer {

namespace {

// One worker's raw deflate stream (no zlib or gzip wrapper), reset for every chunk: ISA-L's
// igzip at its level 1 for the default level (-1), zlib for an explicit one.
struct Compressor {
  bool isal = false;
  z_stream z{};
  isal_zstream s{};
  std::vector<std::uint8_t> level_buf;
  bool ok = false;
  explicit Compressor(int level) : isal(level < 0) {
    if (isal) {
      level_buf.resize(ISAL_DEF_LVL1_DEFAULT);
      ok = true;
    } else {
      ok = deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
  }
  ~Compressor() {
    if (ok && !isal) deflateEnd(&z);
  }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
};

struct Chunk {
  std::vector<char> in;
  std::vector<char> out;
  bool last = false;  // ends the deflate stream (BFINAL); the others end byte-aligned
  std::uint32_t crc = 0;
  std::size_t length = 0;
  bool done = false;
  bool failed = false;
};

// igzip's part of CompressChunk: SYNC_FLUSH ends a chunk byte-aligned with BFINAL clear, as
// zlib's Z_SYNC_FLUSH does; end_of_stream writes the final block.
bool CompressWithIsal(Compressor& c, Chunk& chunk) {
  isal_deflate_init(&c.s);
  c.s.level = 1;
  c.s.level_buf = c.level_buf.data();
  c.s.level_buf_size = static_cast<std::uint32_t>(c.level_buf.size());
  c.s.flush = SYNC_FLUSH;
  c.s.end_of_stream = chunk.last ? 1 : 0;
  // Stored blocks bound what incompressible input grows to: 5 bytes per 64 KiB, plus the flush.
  chunk.out.resize(chunk.in.size() + chunk.in.size() / 64 + 1024);
  c.s.next_in = reinterpret_cast<std::uint8_t*>(chunk.in.data());
  c.s.avail_in = static_cast<std::uint32_t>(chunk.in.size());
  c.s.next_out = reinterpret_cast<std::uint8_t*>(chunk.out.data());
  c.s.avail_out = static_cast<std::uint32_t>(chunk.out.size());
  int rc = isal_deflate(&c.s);
  bool ok = rc == COMP_OK && c.s.avail_in == 0 && c.s.avail_out > 0 &&
            (!chunk.last || c.s.internal_state.state == ZSTATE_END);
  chunk.out.resize(chunk.out.size() - c.s.avail_out);
  return ok;
}

// One chunk into deflate blocks: a sync flush ends them on a byte boundary with BFINAL clear, so
// the chunks concatenate into one deflate stream (pigz's layout, without its dictionary priming).
bool CompressChunk(Compressor& c, Chunk& chunk) {
  if (!c.ok) return false;
  chunk.length = chunk.in.size();
  chunk.crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(chunk.in.data()),
                                               static_cast<uInt>(chunk.in.size())));
  if (c.isal) {
    bool ok = CompressWithIsal(c, chunk);
    std::vector<char>().swap(chunk.in);
    return ok;
  }
  if (deflateReset(&c.z) != Z_OK) return false;
  chunk.out.resize(deflateBound(&c.z, chunk.in.size()) + 64);
  c.z.next_in = reinterpret_cast<Bytef*>(chunk.in.data());
  c.z.avail_in = static_cast<uInt>(chunk.in.size());
  c.z.next_out = reinterpret_cast<Bytef*>(chunk.out.data());
  c.z.avail_out = static_cast<uInt>(chunk.out.size());
  int rc = deflate(&c.z, chunk.last ? Z_FINISH : Z_SYNC_FLUSH);
  bool ok =
      chunk.last ? rc == Z_STREAM_END : (rc == Z_OK && c.z.avail_in == 0 && c.z.avail_out > 0);
  chunk.out.resize(chunk.out.size() - c.z.avail_out);
  std::vector<char>().swap(chunk.in);
  return ok;
}

class ParallelGzipSink final : public ByteSink {
 public:
  ParallelGzipSink(ByteSink& next, int level, int threads)
      : next_(next), level_(level), threads_(threads), inline_(level) {}

  ~ParallelGzipSink() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  Status Init() {
    if (!inline_.ok) return MakeError(ErrorCode::kInternal, "gzip: the compressor could not start");
    // The member header: no name, no mtime (reproducible), OS "Unix" as gzip writes it.
    static const char header[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};
    ANYARCH_CHECK(next_.Write(header, sizeof header));
    for (int i = 0; i < (threads_ > 1 ? threads_ : 0); ++i)
      workers_.emplace_back([this] { Work(); });
    current_ = std::make_shared<Chunk>();
    current_->in.reserve(kGzipChunk);
    return Ok();
  }

  Status Write(const void* data, std::size_t size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      std::size_t take = std::min(size, kGzipChunk - current_->in.size());
      current_->in.insert(current_->in.end(), p, p + take);
      p += take;
      size -= take;
      if (current_->in.size() == kGzipChunk) ANYARCH_CHECK(Submit());
    }
    return Ok();
  }

  Status Finish() override {
    // The last chunk (possibly empty) ends the deflate stream; then CRC-32 and size, little end.
    current_->last = true;
    ANYARCH_CHECK(Submit());
    ANYARCH_CHECK(Drain(0));
    unsigned char trailer[8];
    for (int i = 0; i < 4; ++i) {
      trailer[i] = static_cast<unsigned char>(crc_ >> (8 * i));
      trailer[4 + i] = static_cast<unsigned char>(total_ >> (8 * i));
    }
    ANYARCH_CHECK(next_.Write(trailer, sizeof trailer));
    return next_.Finish();
  }

 private:
  Status Submit() {
    auto chunk = std::move(current_);
    current_ = std::make_shared<Chunk>();
    current_->in.reserve(kGzipChunk);
    if (workers_.empty()) {
      if (!CompressChunk(inline_, *chunk))
        return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
      return Emit(*chunk);
    }
    {
      std::lock_guard lock(mu_);
      order_.push_back(chunk);
      queue_.push_back(chunk);
    }
    work_cv_.notify_one();
    return Drain(static_cast<std::size_t>(2 * threads_));
  }

  // Writes finished chunks in order until at most `keep` are in flight.
  Status Drain(std::size_t keep) {
    for (;;) {
      std::shared_ptr<Chunk> front;
      {
        std::unique_lock lock(mu_);
        if (order_.empty()) return Ok();
        if (!order_.front()->done && order_.size() <= keep) return Ok();
        done_cv_.wait(lock, [&] { return order_.front()->done; });
        front = order_.front();
        order_.pop_front();
      }
      if (front->failed) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
      ANYARCH_CHECK(Emit(*front));
    }
  }

  // A finished chunk, in stream order: its bytes out, its CRC and length into the trailer's.
  Status Emit(const Chunk& chunk) {
    crc_ = static_cast<std::uint32_t>(
        crc32_combine(crc_, chunk.crc, static_cast<z_off_t>(chunk.length)));
    total_ += chunk.length;
    return next_.Write(chunk.out.data(), chunk.out.size());
  }

  void Work() {
    Compressor c(level_);
    for (;;) {
      std::shared_ptr<Chunk> chunk;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        chunk = queue_.front();
        queue_.pop_front();
      }
      bool ok = CompressChunk(c, *chunk);
      {
        std::lock_guard lock(mu_);
        chunk->failed = !ok;
        chunk->done = true;
      }
      done_cv_.notify_all();
    }
  }

  ByteSink& next_;
  const int level_;
  const int threads_;
  Compressor inline_;
  std::shared_ptr<Chunk> current_;
  std::uint32_t crc_ = 0;
  std::uint64_t total_ = 0;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::shared_ptr<Chunk>> order_;  // submitted, in stream order
  std::deque<std::shared_ptr<Chunk>> queue_;  // not yet taken by a worker
  bool stop_ = false;
};

}  // namespace

Result<std::unique_ptr<ByteSink>> NewParallelGzip(ByteSink& next, int level, int threads) {
  if (level < -1 || level > 9)
    return MakeError(ErrorCode::kInvalid,
                     "gzip level " + std::to_string(level) + " is out of range (0 to 9)");
  auto sink = std::make_unique<ParallelGzipSink>(next, level, threads);
  ANYARCH_CHECK(sink->Init());
  return std::unique_ptr<ByteSink>(std::move(sink));
}

}  // namespace anyarch::layer
