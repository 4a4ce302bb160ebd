#include "base/prefetch_reader.h"

#include <algorithm>
#include <cstring>

namespace anyarch {

PrefetchReader::PrefetchReader(Reader& in, std::size_t chunk, std::size_t depth)
    : in_(in), chunk_(std::max<std::size_t>(chunk, 1)), depth_(std::max<std::size_t>(depth, 1)) {}

PrefetchReader::~PrefetchReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PrefetchReader::Run() {
  for (;;) {
    std::string buf;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
      if (!spare_.empty()) {
        buf = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    buf.resize(chunk_);
    auto n = in_.Read(buf.data(), buf.size());
    std::lock_guard<std::mutex> lock(mu_);
    if (!n) {
      error_ = n.error();
      end_ = true;
    } else if (*n == 0) {
      end_ = true;
    } else {
      buf.resize(*n);
      ready_.push_back(std::move(buf));
    }
    cv_.notify_all();
    if (end_) return;
  }
}

Result<std::size_t> PrefetchReader::Read(void* buf, std::size_t size) {
  if (size == 0) return std::size_t{0};
  if (pos_ == current_.size()) {
    if (!thread_.joinable() && !end_) thread_ = std::thread([this] { Run(); });
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || end_; });
    if (ready_.empty()) {
      if (error_) return Unexpected(*error_);
      return std::size_t{0};
    }
    // The chunk handed out goes back to the thread, to be filled again.
    if (current_.capacity() >= chunk_) spare_.push_back(std::move(current_));
    current_ = std::move(ready_.front());
    ready_.pop_front();
    pos_ = 0;
    cv_.notify_all();
  }
  std::size_t n = std::min(size, current_.size() - pos_);
  std::memcpy(buf, current_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace anyarch
