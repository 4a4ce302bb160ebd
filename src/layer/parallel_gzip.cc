#include "layer/parallel_gzip.h"

#include <libdeflate.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace anyarch::layer {

namespace {

struct Compressor {
  libdeflate_compressor* c = nullptr;
  explicit Compressor(int level) : c(libdeflate_alloc_compressor(level)) {}
  ~Compressor() {
    if (c) libdeflate_free_compressor(c);
  }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
};

struct Chunk {
  std::vector<char> in;
  std::vector<char> out;
  bool done = false;
  bool failed = false;
};

// One chunk into one gzip member.
bool CompressChunk(libdeflate_compressor* c, Chunk& chunk) {
  chunk.out.resize(libdeflate_gzip_compress_bound(c, chunk.in.size()));
  std::size_t n = libdeflate_gzip_compress(c, chunk.in.data(), chunk.in.size(), chunk.out.data(),
                                           chunk.out.size());
  chunk.out.resize(n);
  std::vector<char>().swap(chunk.in);
  return n > 0;
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
    if (!inline_.c) return MakeError(ErrorCode::kInternal, "gzip: libdeflate could not start");
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
    // An empty stream is one empty member; otherwise the partial last chunk, if any.
    if (!current_->in.empty() || !wrote_any_) ANYARCH_CHECK(Submit());
    ANYARCH_CHECK(Drain(0));
    return next_.Finish();
  }

 private:
  Status Submit() {
    wrote_any_ = true;
    auto chunk = std::move(current_);
    current_ = std::make_shared<Chunk>();
    current_->in.reserve(kGzipChunk);
    if (workers_.empty()) {
      if (!CompressChunk(inline_.c, *chunk))
        return MakeError(ErrorCode::kInternal, "gzip: libdeflate failed");
      return next_.Write(chunk->out.data(), chunk->out.size());
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
      if (front->failed) return MakeError(ErrorCode::kInternal, "gzip: libdeflate failed");
      ANYARCH_CHECK(next_.Write(front->out.data(), front->out.size()));
    }
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
      bool ok = c.c && CompressChunk(c.c, *chunk);
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
  bool wrote_any_ = false;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::shared_ptr<Chunk>> order_;  // submitted, in stream order
  std::deque<std::shared_ptr<Chunk>> queue_;  // not yet taken by a worker
  bool stop_ = false;
};

}  // namespace

Result<std::unique_ptr<ByteSink>> NewParallelGzip(ByteSink& next, int level, int threads) {
  if (level < 0) level = 6;
  if (level < 0 || level > 12)
    return MakeError(ErrorCode::kInvalid,
                     "gzip level " + std::to_string(level) + " is out of range (0 to 12)");
  auto sink = std::make_unique<ParallelGzipSink>(next, level, threads);
  ANYARCH_CHECK(sink->Init());
  return std::unique_ptr<ByteSink>(std::move(sink));
}

}  // namespace anyarch::layer
