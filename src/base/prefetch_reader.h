// A Reader that reads its source ahead on a thread of its own, so that what the source does (a
// download, a digest, decompression) runs beside what the caller does with the bytes (creating
// files). Unpacking a layer is the use: inflate and SHA-256 are user time, file creation is
// system time, and on two cores they need not take turns.
//
// Contracts:
// - Bounded: at most `depth` chunks of `chunk` bytes wait between the two threads.
// - Ordered: the bytes come back as the source gave them; an error of the source comes back
//   from Read after the bytes read before it, and again from every later Read.
// - Only the thread reads the source, from the first Read until its end, an error or the
//   destruction of this reader, which waits for a source Read in progress to return. So the
//   source must outlive this reader, and nothing else may read it meanwhile.
// - Not itself thread-safe: one caller reads it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/io.h"

namespace anyarch {

class PrefetchReader final : public Reader {
 public:
  explicit PrefetchReader(Reader& in, std::size_t chunk = 256 * 1024, std::size_t depth = 8);
  ~PrefetchReader() override;
  PrefetchReader(const PrefetchReader&) = delete;
  PrefetchReader& operator=(const PrefetchReader&) = delete;

  Result<std::size_t> Read(void* buf, std::size_t size) override;

 private:
  void Run();

  Reader& in_;
  const std::size_t chunk_;
  const std::size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> ready_;   // filled by the thread, in order
  std::vector<std::string> spare_;  // chunks the caller has read, for the thread to reuse
  std::optional<Error> error_;      // the source's error, after the chunks in ready_
  bool end_ = false;                // the source is at its end (or failed)
  bool stop_ = false;               // the reader is going away
  std::string current_;             // the chunk being handed out
  std::size_t pos_ = 0;
  std::thread thread_;
};

}  // namespace anyarch
